//! Hugging Face Llama checkpoint (safetensors + config.json) -> Model.
//! HF stores Q/K rows for "rotate-half" RoPE; the engine uses the GGUF
//! adjacent-pair layout, so Q/K rows are permuted exactly as llama.cpp's
//! converter does (a pure row reordering, so no value changes).

use super::{Config, Format, Layer, Model, Weight, decode_floats};
use crate::engine::RopeTable;
use crate::error::{Error, Result};
use crate::json::{self, Json};
use crate::safetensors::{self, SafeTensors};

pub(super) fn looks_like_safetensors(bytes: &[u8]) -> bool {
    safetensors::looks_like(bytes)
}

fn cfg_usize(cfg: &Json, key: &str) -> Result<usize> {
    cfg.get(key)
        .and_then(Json::as_u64)
        .and_then(|v| usize::try_from(v).ok())
        .ok_or_else(|| Error::corrupt(format!("config.json: missing or non-integer {key}")))
}

fn cfg_token(cfg: &Json, key: &str) -> Option<u32> {
    cfg.get(key).and_then(Json::as_u64).and_then(|v| u32::try_from(v).ok())
}

pub(super) fn load(bytes: &[u8], config_json: &[u8], id: [u8; 32]) -> Result<Model> {
    let cfg = json::parse(config_json)?;
    let model_type = cfg.get("model_type").and_then(Json::as_str).unwrap_or("");
    if model_type != "llama" {
        return Err(Error::UnsupportedArchitecture(model_type.to_owned()));
    }
    let dim = cfg_usize(&cfg, "hidden_size")?;
    let n_heads = cfg_usize(&cfg, "num_attention_heads")?;
    let head_dim = match cfg.get("head_dim") {
        Some(_) => cfg_usize(&cfg, "head_dim")?,
        None => dim.checked_div(n_heads).unwrap_or(0),
    };
    let config = Config {
        vocab_size: cfg_usize(&cfg, "vocab_size")?,
        dim,
        hidden_dim: cfg_usize(&cfg, "intermediate_size")?,
        n_layers: cfg_usize(&cfg, "num_hidden_layers")?,
        n_heads,
        n_kv_heads: match cfg.get("num_key_value_heads") {
            Some(_) => cfg_usize(&cfg, "num_key_value_heads")?,
            None => n_heads,
        },
        head_dim,
        rope_dims: head_dim,
        rope_base: cfg.get("rope_theta").and_then(Json::as_f64).unwrap_or(10000.0) as f32,
        norm_eps: cfg
            .get("rms_norm_eps")
            .and_then(Json::as_f64)
            .ok_or_else(|| Error::corrupt("config.json: missing rms_norm_eps"))? as f32,
        context_length: cfg_usize(&cfg, "max_position_embeddings")?,
        bos_token: cfg_token(&cfg, "bos_token_id"),
        eos_token: cfg_token(&cfg, "eos_token_id"),
    };
    config.validate()?;
    if cfg.get("rope_scaling").is_some_and(|v| *v != Json::Null) {
        return Err(Error::invalid("RoPE scaling is not supported"));
    }
    let st = safetensors::parse(bytes)?;

    let mut layers = Vec::with_capacity(config.n_layers);
    for i in 0..config.n_layers {
        let t = |s: &str| format!("model.layers.{i}.{s}.weight");
        layers.push(Layer {
            attn_norm: vector(&st, &t("input_layernorm"))?,
            wq: permute_rope(matrix(&st, &t("self_attn.q_proj"))?, config.n_heads, head_dim),
            wk: permute_rope(matrix(&st, &t("self_attn.k_proj"))?, config.n_kv_heads, head_dim),
            wv: matrix(&st, &t("self_attn.v_proj"))?,
            wo: matrix(&st, &t("self_attn.o_proj"))?,
            ffn_norm: vector(&st, &t("post_attention_layernorm"))?,
            w_gate: matrix(&st, &t("mlp.gate_proj"))?,
            w_up: matrix(&st, &t("mlp.up_proj"))?,
            w_down: matrix(&st, &t("mlp.down_proj"))?,
        });
    }
    let tied = cfg.get("tie_word_embeddings").and_then(Json::as_bool).unwrap_or(false);
    let output = match (st.get("lm_head.weight"), tied) {
        (Some(_), false) => Some(matrix(&st, "lm_head.weight")?),
        (None, false) => return Err(Error::invalid("missing tensor lm_head.weight")),
        (_, true) => None,
    };
    let model = Model {
        id,
        format: Format::Safetensors,
        rope: RopeTable::new(config.rope_dims, config.rope_base, config.context_length),
        token_embd: matrix(&st, "model.embed_tokens.weight")?,
        output_norm: vector(&st, "model.norm.weight")?,
        output,
        layers,
        tokenizer: None,
        config,
    };
    model.validate_shapes()?;
    Ok(model)
}

fn floats(st: &SafeTensors<'_>, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
    let t = st.get(name).ok_or_else(|| Error::invalid(format!("missing tensor {name}")))?;
    let ty =
        t.ggml_type().ok_or_else(|| Error::UnsupportedTensorType { name: name.to_owned(), ty: t.dtype.clone() })?;
    let raw = st.data(t).ok_or_else(|| Error::corrupt(format!("{name}: out of bounds")))?;
    let data = decode_floats(ty, raw).ok_or_else(|| Error::corrupt(name.to_owned()))?;
    Ok((t.shape.clone(), data))
}

fn matrix(st: &SafeTensors<'_>, name: &str) -> Result<Weight> {
    match floats(st, name)? {
        (shape, data) if shape.len() == 2 => Ok(Weight::F32 { rows: shape[0], cols: shape[1], data }),
        _ => Err(Error::invalid(format!("{name} is not a matrix"))),
    }
}

fn vector(st: &SafeTensors<'_>, name: &str) -> Result<Vec<f32>> {
    match floats(st, name)? {
        (shape, data) if shape.len() == 1 => Ok(data),
        _ => Err(Error::invalid(format!("{name} is not a vector"))),
    }
}

/// Row (h, 2j + half) of the result = HF row (h, half * hd/2 + j).
fn permute_rope(w: Weight, heads: usize, hd: usize) -> Weight {
    match w {
        Weight::F32 { rows, cols, data } if rows == heads * hd && hd.is_multiple_of(2) => {
            let mut out = vec![0.0f32; data.len()];
            for h in 0..heads {
                for j in 0..hd / 2 {
                    for half in 0..2 {
                        let src = h * hd + half * (hd / 2) + j;
                        let dst = h * hd + 2 * j + half;
                        out[dst * cols..(dst + 1) * cols].copy_from_slice(&data[src * cols..(src + 1) * cols]);
                    }
                }
            }
            Weight::F32 { rows, cols, data: out }
        }
        // Shape errors are reported by validate_shapes.
        other => other,
    }
}
