//! A loaded Llama-family model: hyper-parameters, weights in kernel layout,
//! the RoPE table, the tokenizer (GGUF only) and the model id.

mod load_gguf;
mod load_safetensors;
pub mod quantize;
pub mod tiny;
mod weights;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use weights::{Weight, decode_floats};

use crate::engine::RopeTable;
use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// Hyper-parameters of a Llama-family decoder.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub vocab_size: usize,
    pub dim: usize,
    pub hidden_dim: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    /// Dimensions of each head that RoPE rotates (<= head_dim, even).
    pub rope_dims: usize,
    pub rope_base: f32,
    pub norm_eps: f32,
    pub context_length: usize,
    pub bos_token: Option<u32>,
    pub eos_token: Option<u32>,
}

impl Config {
    pub fn q_dim(&self) -> usize {
        self.n_heads * self.head_dim
    }

    pub fn kv_dim(&self) -> usize {
        self.n_kv_heads * self.head_dim
    }

    /// Rejects shapes the kernels can't run, before anything is allocated.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(Error::invalid(m));
        if self.dim == 0 || self.hidden_dim == 0 || self.n_layers == 0 || self.vocab_size == 0 {
            return fail(format!("empty dimension in {self:?}"));
        }
        if !self.dim.is_multiple_of(32) || !self.hidden_dim.is_multiple_of(32) || !self.q_dim().is_multiple_of(32) {
            return fail(format!(
                "dim {}, hidden_dim {} and heads*head_dim {} must be multiples of 32",
                self.dim,
                self.hidden_dim,
                self.q_dim()
            ));
        }
        if self.n_heads == 0 || self.n_kv_heads == 0 || !self.n_heads.is_multiple_of(self.n_kv_heads) {
            return fail(format!("{} heads over {} kv heads", self.n_heads, self.n_kv_heads));
        }
        if self.head_dim == 0 || !self.head_dim.is_multiple_of(2) || self.head_dim > 1024 {
            return fail(format!("head_dim {}", self.head_dim));
        }
        if !self.rope_dims.is_multiple_of(2) || self.rope_dims > self.head_dim {
            return fail(format!("rope dims {} for head_dim {}", self.rope_dims, self.head_dim));
        }
        // The RoPE table is [context][rope_dims/2]; bound it (64 MiB per half).
        if self.context_length == 0 || self.context_length * (self.rope_dims / 2).max(1) > 1 << 24 {
            return fail(format!("context length {}", self.context_length));
        }
        if !(self.rope_base.is_finite() && self.rope_base > 1.0) {
            return fail(format!("rope base {}", self.rope_base));
        }
        if !(self.norm_eps.is_finite() && self.norm_eps >= 0.0) {
            return fail(format!("norm eps {}", self.norm_eps));
        }
        for t in [self.bos_token, self.eos_token].into_iter().flatten() {
            if t as usize >= self.vocab_size {
                return fail(format!("special token {t} outside the vocabulary"));
            }
        }
        Ok(())
    }
}

/// One transformer block.
#[derive(Clone, Debug)]
pub struct Layer {
    /// `[dim]`
    pub attn_norm: Vec<f32>,
    /// `[q_dim][dim]`; rows in GGUF RoPE order (adjacent pairs).
    pub wq: Weight,
    /// `[kv_dim][dim]`; rows in GGUF RoPE order.
    pub wk: Weight,
    /// `[kv_dim][dim]`
    pub wv: Weight,
    /// `[dim][q_dim]`
    pub wo: Weight,
    /// `[dim]`
    pub ffn_norm: Vec<f32>,
    /// `[hidden][dim]`
    pub w_gate: Weight,
    /// `[hidden][dim]`
    pub w_up: Weight,
    /// `[dim][hidden]`
    pub w_down: Weight,
}

/// Which container the model came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Gguf,
    Safetensors,
}

#[derive(Clone)]
pub struct Model {
    /// SHA-256 of the weights file's bytes.
    pub id: [u8; 32],
    pub format: Format,
    pub config: Config,
    /// `[vocab][dim]`
    pub token_embd: Weight,
    pub layers: Vec<Layer>,
    /// `[dim]`
    pub output_norm: Vec<f32>,
    /// `[vocab][dim]`; None when tied to `token_embd`.
    pub output: Option<Weight>,
    /// `[context][rope_dims/2]` cos/sin.
    pub rope: RopeTable,
    pub tokenizer: Option<Tokenizer>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("id", &crate::commit::hex(&self.id))
            .field("format", &self.format)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Loads a GGUF file, or a safetensors file with a Hugging Face
    /// `config.json` beside it. The format is detected from the bytes.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        if bytes.starts_with(crate::gguf::MAGIC) {
            return Self::from_gguf_bytes(&bytes);
        }
        if load_safetensors::looks_like_safetensors(&bytes) {
            let config_path = path.with_file_name("config.json");
            let config =
                std::fs::read(&config_path).map_err(|source| Error::Io { path: config_path.clone(), source })?;
            return Self::from_safetensors_bytes(&bytes, &config);
        }
        Err(Error::UnknownFormat)
    }

    pub fn from_gguf_bytes(bytes: &[u8]) -> Result<Self> {
        load_gguf::load(bytes, model_id(bytes))
    }

    /// `config_json` is a Hugging Face `config.json`.
    pub fn from_safetensors_bytes(bytes: &[u8], config_json: &[u8]) -> Result<Self> {
        load_safetensors::load(bytes, config_json, model_id(bytes))
    }

    /// The LM head: `output` or the tied embedding.
    pub fn lm_head(&self) -> &Weight {
        self.output.as_ref().unwrap_or(&self.token_embd)
    }

    pub fn tokenizer(&self) -> Result<&Tokenizer> {
        self.tokenizer.as_ref().ok_or(Error::NoTokenizer)
    }

    /// Checks every tensor's shape against the config.
    fn validate_shapes(&self) -> Result<()> {
        let c = &self.config;
        let check = |name: &str, w: &Weight, rows: usize, cols: usize| {
            if w.rows() == rows && w.cols() == cols {
                Ok(())
            } else {
                Err(Error::invalid(format!("{name} is {}x{}, expected {rows}x{cols}", w.rows(), w.cols())))
            }
        };
        let vec_len = |name: &str, v: &[f32]| {
            if v.len() == c.dim {
                Ok(())
            } else {
                Err(Error::invalid(format!("{name} has {} values, expected {}", v.len(), c.dim)))
            }
        };
        check("token embedding", &self.token_embd, c.vocab_size, c.dim)?;
        check("output", self.lm_head(), c.vocab_size, c.dim)?;
        vec_len("output norm", &self.output_norm)?;
        if self.layers.len() != c.n_layers {
            return Err(Error::invalid("layer count"));
        }
        for (i, l) in self.layers.iter().enumerate() {
            vec_len(&format!("layer {i} attn norm"), &l.attn_norm)?;
            vec_len(&format!("layer {i} ffn norm"), &l.ffn_norm)?;
            check(&format!("layer {i} q"), &l.wq, c.q_dim(), c.dim)?;
            check(&format!("layer {i} k"), &l.wk, c.kv_dim(), c.dim)?;
            check(&format!("layer {i} v"), &l.wv, c.kv_dim(), c.dim)?;
            check(&format!("layer {i} o"), &l.wo, c.dim, c.q_dim())?;
            check(&format!("layer {i} gate"), &l.w_gate, c.hidden_dim, c.dim)?;
            check(&format!("layer {i} up"), &l.w_up, c.hidden_dim, c.dim)?;
            check(&format!("layer {i} down"), &l.w_down, c.dim, c.hidden_dim)?;
        }
        Ok(())
    }
}

/// The model id: SHA-256 of the weights file.
pub fn model_id(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}
