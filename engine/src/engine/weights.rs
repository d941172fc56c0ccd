//! What the backends compute with: weight matrices in the layouts the
//! kernels read ([`Weight`]), one transformer block's tensors
//! ([`LayerWeights`]), and a whole decoder ready to run ([`Weights`]: the
//! config, every tensor, the RoPE table). Loaders in `crate::model` decode
//! files into these; the engine itself knows no file format.

use super::{Config, RopeTable};
use crate::error::{Error, Result};

/// A `[rows][cols]` matrix (rows = outputs, cols = the reduced axis).
#[derive(Clone)]
pub enum Weight {
    F32 {
        rows: usize,
        cols: usize,
        /// `[rows][cols]`
        data: Vec<f32>,
    },
    Q8_0 {
        rows: usize,
        cols: usize,
        /// `[rows][cols/32]` block scales.
        d: Vec<f32>,
        /// `[rows][cols]`
        q: Vec<i8>,
    },
    Q4_1 {
        rows: usize,
        cols: usize,
        /// `[rows][cols/32]` block scales.
        d: Vec<f32>,
        /// `[rows][cols/32]` block minimums.
        m: Vec<f32>,
        /// `[rows][cols/32][16]`: byte j holds element j (low nibble) and
        /// element j+16 (high nibble) of its block, as in GGML.
        qs: Vec<u8>,
    },
}

impl std::fmt::Debug for Weight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}x{}]", self.type_name(), self.rows(), self.cols())
    }
}

impl Weight {
    pub fn rows(&self) -> usize {
        match *self {
            Weight::F32 { rows, .. } | Weight::Q8_0 { rows, .. } | Weight::Q4_1 { rows, .. } => rows,
        }
    }

    pub fn cols(&self) -> usize {
        match *self {
            Weight::F32 { cols, .. } | Weight::Q8_0 { cols, .. } | Weight::Q4_1 { cols, .. } => cols,
        }
    }

    pub fn is_quantized(&self) -> bool {
        !matches!(self, Weight::F32 { .. })
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Weight::F32 { .. } => "F32",
            Weight::Q8_0 { .. } => "Q8_0",
            Weight::Q4_1 { .. } => "Q4_1",
        }
    }

    /// Row `r` dequantized into `out` (Q8_0: d*q; Q4_1: d*q + m). The
    /// caller guarantees `r < rows` and `out.len() == cols`.
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        match self {
            Weight::F32 { cols, data, .. } => out.copy_from_slice(&data[r * cols..(r + 1) * cols]),
            Weight::Q8_0 { cols, d, q, .. } => {
                let nb = cols / 32;
                let q = &q[r * cols..(r + 1) * cols];
                for (b, (o, qb)) in out.chunks_exact_mut(32).zip(q.chunks_exact(32)).enumerate() {
                    let db = d[r * nb + b];
                    for (x, &v) in o.iter_mut().zip(qb) {
                        *x = db * v as f32;
                    }
                }
            }
            Weight::Q4_1 { cols, d, m, qs, .. } => {
                let nb = cols / 32;
                let qs = &qs[r * cols / 2..(r + 1) * cols / 2];
                for (b, (o, qb)) in out.chunks_exact_mut(32).zip(qs.chunks_exact(16)).enumerate() {
                    let (db, mb) = (d[r * nb + b], m[r * nb + b]);
                    for (j, &byte) in qb.iter().enumerate() {
                        o[j] = db * (byte & 0x0f) as f32 + mb;
                        o[j + 16] = db * (byte >> 4) as f32 + mb;
                    }
                }
            }
        }
    }
}

/// One transformer block.
#[derive(Clone, Debug)]
pub struct LayerWeights {
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

/// A decoder ready to run: everything [`super::forward::forward`] reads, and
/// what the CUDA backend makes resident on the GPU.
#[derive(Clone)]
pub struct Weights {
    pub config: Config,
    /// `[vocab][dim]`
    pub token_embd: Weight,
    pub layers: Vec<LayerWeights>,
    /// `[dim]`
    pub output_norm: Vec<f32>,
    /// `[vocab][dim]`; None when tied to `token_embd`.
    pub output: Option<Weight>,
    /// `[context][rope_dims/2]` cos/sin, computed from the config (rule 4).
    pub rope: RopeTable,
}

impl std::fmt::Debug for Weights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Weights").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Weights {
    /// Builds the RoPE table for `config` and checks every tensor's shape
    /// against it.
    pub fn new(
        config: Config,
        token_embd: Weight,
        layers: Vec<LayerWeights>,
        output_norm: Vec<f32>,
        output: Option<Weight>,
    ) -> Result<Self> {
        let rope = RopeTable::new(config.rope_dims, config.rope_base, config.context_length);
        let weights = Self { config, token_embd, layers, output_norm, output, rope };
        weights.validate()?;
        Ok(weights)
    }

    /// The LM head: `output` or the tied embedding.
    pub fn lm_head(&self) -> &Weight {
        self.output.as_ref().unwrap_or(&self.token_embd)
    }

    /// Checks every tensor's shape against the config.
    fn validate(&self) -> Result<()> {
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
