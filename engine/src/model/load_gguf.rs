//! GGUF -> Model for `general.architecture = "llama"`.

use super::{Format, Model, decode_floats, decode_matrix};
use crate::engine::{Config, LayerWeights, Weight, Weights};
use crate::error::{Error, Result};
use crate::gguf::{self, Gguf, Value};
use crate::tokenizer::Tokenizer;

pub(super) fn load(bytes: &[u8], id: [u8; 32]) -> Result<Model> {
    let g = gguf::parse(bytes)?;
    let arch = g
        .get("general.architecture")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::corrupt("no general.architecture"))?;
    if arch != "llama" {
        return Err(Error::UnsupportedArchitecture(arch.to_owned()));
    }
    if let Some(kind) = g.get("llama.rope.scaling.type").and_then(Value::as_str)
        && kind != "none"
    {
        return Err(Error::invalid(format!("RoPE scaling {kind:?} is not supported")));
    }

    let embd = g.tensor("token_embd.weight").ok_or_else(|| Error::invalid("missing tensor token_embd.weight"))?;
    let vocab_size = embd.dims.get(1).copied().unwrap_or(0) as usize;
    let dim = meta_usize(&g, "llama.embedding_length")?;
    let n_heads = meta_usize(&g, "llama.attention.head_count")?;
    let head_dim = match g.get("llama.attention.key_length") {
        Some(v) => v.as_u64().ok_or_else(|| Error::corrupt("key_length"))? as usize,
        None if n_heads > 0 => dim / n_heads,
        None => 0,
    };
    let config = Config {
        vocab_size,
        dim,
        hidden_dim: meta_usize(&g, "llama.feed_forward_length")?,
        n_layers: meta_usize(&g, "llama.block_count")?,
        n_heads,
        n_kv_heads: match g.get("llama.attention.head_count_kv") {
            Some(v) => v.as_u64().ok_or_else(|| Error::corrupt("head_count_kv"))? as usize,
            None => n_heads,
        },
        head_dim,
        rope_dims: match g.get("llama.rope.dimension_count") {
            Some(v) => v.as_u64().ok_or_else(|| Error::corrupt("rope dims"))? as usize,
            None => head_dim,
        },
        rope_base: match g.get("llama.rope.freq_base") {
            Some(v) => v.as_f32().ok_or_else(|| Error::corrupt("freq_base"))?,
            None => 10000.0,
        },
        norm_eps: g
            .get("llama.attention.layer_norm_rms_epsilon")
            .and_then(Value::as_f32)
            .ok_or_else(|| Error::corrupt("missing llama.attention.layer_norm_rms_epsilon"))?,
        context_length: meta_usize(&g, "llama.context_length")?,
        bos_token: meta_token(&g, "tokenizer.ggml.bos_token_id"),
        eos_token: meta_token(&g, "tokenizer.ggml.eos_token_id"),
    };
    config.validate()?;

    let matrix = |name: &str| -> Result<Weight> {
        let info = g.tensor(name).ok_or_else(|| Error::invalid(format!("missing tensor {name}")))?;
        let (cols, rows) = match info.dims.as_slice() {
            [c, r] => (*c as usize, *r as usize),
            _ => return Err(Error::invalid(format!("{name} is not a matrix"))),
        };
        let raw = g.tensor_bytes(info).ok_or_else(|| Error::corrupt(format!("{name}: out of bounds")))?;
        decode_matrix(name, info.ty, rows, cols, raw)
    };
    let vector = |name: &str| -> Result<Vec<f32>> {
        let info = g.tensor(name).ok_or_else(|| Error::invalid(format!("missing tensor {name}")))?;
        let raw = g.tensor_bytes(info).ok_or_else(|| Error::corrupt(format!("{name}: out of bounds")))?;
        decode_floats(info.ty, raw)
            .ok_or_else(|| Error::UnsupportedTensorType { name: name.to_owned(), ty: info.ty.to_string() })
    };

    let mut layers = Vec::with_capacity(config.n_layers);
    for i in 0..config.n_layers {
        let t = |s: &str| format!("blk.{i}.{s}.weight");
        layers.push(LayerWeights {
            attn_norm: vector(&t("attn_norm"))?,
            wq: matrix(&t("attn_q"))?,
            wk: matrix(&t("attn_k"))?,
            wv: matrix(&t("attn_v"))?,
            wo: matrix(&t("attn_output"))?,
            ffn_norm: vector(&t("ffn_norm"))?,
            w_gate: matrix(&t("ffn_gate"))?,
            w_up: matrix(&t("ffn_up"))?,
            w_down: matrix(&t("ffn_down"))?,
        });
    }
    let output = match g.tensor("output.weight") {
        Some(_) => Some(matrix("output.weight")?),
        None => None,
    };
    let tokenizer = match g.get("tokenizer.ggml.model") {
        Some(_) => Some(Tokenizer::from_gguf(&g)?),
        None => None,
    };
    if let Some(tok) = &tokenizer
        && tok.vocab_size() != config.vocab_size
    {
        return Err(Error::invalid(format!(
            "tokenizer has {} tokens, embedding {}",
            tok.vocab_size(),
            config.vocab_size
        )));
    }
    let weights = Weights::new(config, matrix("token_embd.weight")?, layers, vector("output_norm.weight")?, output)?;
    Ok(Model { id, format: Format::Gguf, weights, tokenizer })
}

fn meta_usize(g: &Gguf<'_>, key: &str) -> Result<usize> {
    g.get(key)
        .and_then(Value::as_u64)
        .and_then(|v| usize::try_from(v).ok())
        .ok_or_else(|| Error::corrupt(format!("missing or non-integer {key}")))
}

fn meta_token(g: &Gguf<'_>, key: &str) -> Option<u32> {
    g.get(key).and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok())
}
