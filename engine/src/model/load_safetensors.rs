//! Hugging Face Llama checkpoint (safetensors + config.json) -> Model.
//! The container is read by the `safetensors` crate (it checks the header's
//! size and JSON, each dtype's byte length, and that the tensors tile the
//! data exactly); `config.json` by serde.
//! HF stores Q/K rows for "rotate-half" RoPE; the engine uses the GGUF
//! adjacent-pair layout, so Q/K rows are permuted exactly as llama.cpp's
//! converter does (a pure row reordering, so no value changes).

use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;
use serde_json::Value;

use super::{Format, Model, decode_floats};
use crate::engine::{Config, LayerWeights, Weight, Weights};
use crate::error::{Error, Result};
use crate::gguf::GgmlType;

/// True when the bytes start like a safetensors file: a little-endian u64
/// header length that fits the file, then a JSON object. Only picks the
/// loader; [`SafeTensors::deserialize`] validates the whole file.
pub(super) fn looks_like_safetensors(bytes: &[u8]) -> bool {
    let Some(len) = bytes.first_chunk::<8>() else {
        return false;
    };
    let n = u64::from_le_bytes(*len);
    n >= 2 && n <= (bytes.len() as u64).saturating_sub(8) && bytes.get(8) == Some(&b'{')
}

/// The fields of a Hugging Face `config.json` a Llama decoder needs.
#[derive(Deserialize)]
struct HfConfig {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    /// Absent in multi-head checkpoints: as many as the attention heads.
    num_key_value_heads: Option<usize>,
    /// Absent in most checkpoints: hidden_size / num_attention_heads.
    head_dim: Option<usize>,
    #[serde(default = "default_rope_theta")]
    rope_theta: f64,
    rms_norm_eps: f64,
    max_position_embeddings: usize,
    /// A number; some checkpoints list several stop tokens, which this
    /// engine (one EOS) does not take: generation then runs to the budget.
    bos_token_id: Option<Value>,
    eos_token_id: Option<Value>,
    #[serde(default)]
    tie_word_embeddings: bool,
    rope_scaling: Option<Value>,
}

fn default_rope_theta() -> f64 {
    10000.0
}

fn token_id(v: &Option<Value>) -> Option<u32> {
    v.as_ref().and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok())
}

pub(super) fn load(bytes: &[u8], config_json: &[u8], id: [u8; 32]) -> Result<Model> {
    let json: Value = serde_json::from_slice(config_json).map_err(|e| Error::corrupt(format!("config.json: {e}")))?;
    // The architecture first: another family's config has other field names.
    let model_type = json.get("model_type").and_then(Value::as_str).unwrap_or("");
    if model_type != "llama" {
        return Err(Error::UnsupportedArchitecture(model_type.to_owned()));
    }
    let cfg = HfConfig::deserialize(&json).map_err(|e| Error::corrupt(format!("config.json: {e}")))?;
    let (dim, n_heads) = (cfg.hidden_size, cfg.num_attention_heads);
    let head_dim = cfg.head_dim.unwrap_or_else(|| dim.checked_div(n_heads).unwrap_or(0));
    let config = Config {
        vocab_size: cfg.vocab_size,
        dim,
        hidden_dim: cfg.intermediate_size,
        n_layers: cfg.num_hidden_layers,
        n_heads,
        n_kv_heads: cfg.num_key_value_heads.unwrap_or(n_heads),
        head_dim,
        rope_dims: head_dim,
        rope_base: cfg.rope_theta as f32,
        norm_eps: cfg.rms_norm_eps as f32,
        context_length: cfg.max_position_embeddings,
        bos_token: token_id(&cfg.bos_token_id),
        eos_token: token_id(&cfg.eos_token_id),
    };
    config.validate()?;
    if cfg.rope_scaling.is_some() {
        return Err(Error::invalid("RoPE scaling is not supported"));
    }
    if !looks_like_safetensors(bytes) {
        return Err(Error::UnknownFormat);
    }
    let st = SafeTensors::deserialize(bytes).map_err(|e| Error::corrupt(format!("safetensors: {e}")))?;

    let mut layers = Vec::with_capacity(config.n_layers);
    for i in 0..config.n_layers {
        let t = |s: &str| format!("model.layers.{i}.{s}.weight");
        layers.push(LayerWeights {
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
    let output = match (st.tensor("lm_head.weight").is_ok(), cfg.tie_word_embeddings) {
        (true, false) => Some(matrix(&st, "lm_head.weight")?),
        (false, false) => return Err(Error::invalid("missing tensor lm_head.weight")),
        (_, true) => None,
    };
    let token_embd = matrix(&st, "model.embed_tokens.weight")?;
    let weights = Weights::new(config, token_embd, layers, vector(&st, "model.norm.weight")?, output)?;
    Ok(Model { id, format: Format::Safetensors, weights, tokenizer: None })
}

fn floats(st: &SafeTensors<'_>, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
    let t = st.tensor(name).map_err(|_| Error::invalid(format!("missing tensor {name}")))?;
    let ty = match t.dtype() {
        Dtype::F32 => GgmlType::F32,
        Dtype::F16 => GgmlType::F16,
        Dtype::BF16 => GgmlType::BF16,
        other => return Err(Error::UnsupportedTensorType { name: name.to_owned(), ty: other.to_string() }),
    };
    let data = decode_floats(ty, t.data()).ok_or_else(|| Error::corrupt(name.to_owned()))?;
    Ok((t.shape().to_vec(), data))
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
        // Shape errors are reported by Weights::new.
        other => other,
    }
}
