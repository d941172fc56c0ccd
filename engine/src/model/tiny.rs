//! Tiny Llama models from a seeded PRNG, written as GGUF (F32, F16, Q8_0,
//! Q4_1) or safetensors + config.json (F32, F16, BF16). The bytes are a pure
//! function of the spec, so tests can pin model ids and outputs in goldens.
//! Used by the tests and by `examples/generate-tiny-model.rs`.

use std::borrow::Cow;

use half::{bf16, f16};
use safetensors::{Dtype, View};

use super::quantize::{quantize_q4_1, quantize_q8_0};
use crate::error::{Error, Result};
use crate::gguf::{GgmlType, GgufWriter, Value};

/// SmolLM2's ChatML template with a shorter default system prompt.
pub const CHAT_TEMPLATE: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are tiny.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// Merges of the tiny byte-level vocabulary (GPT-2 byte-mapped: 'Ġ' is space).
const MERGES: &[&str] = &[
    "Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "o n", "Ġ s", "r e", "a t", "e n", "Ġ w", "Ġ o", "i s", "o u", "Ġ c",
    "a n", "Ġ i", "e s", "in g",
];
const SPECIALS: &[&str] = &["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

#[derive(Clone, Debug, PartialEq)]
pub struct TinySpec {
    pub seed: u64,
    pub dim: usize,
    pub hidden_dim: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub context_length: usize,
    /// LM head tied to the embedding (as in SmolLM2).
    pub tied: bool,
}

impl Default for TinySpec {
    fn default() -> Self {
        Self {
            seed: 42,
            dim: 64,
            hidden_dim: 160,
            n_layers: 2,
            n_heads: 4,
            n_kv_heads: 2,
            context_length: 256,
            tied: false,
        }
    }
}

/// The tiny vocabulary: 3 control tokens, the 256 byte characters, merges.
pub fn vocabulary() -> (Vec<String>, Vec<i32>, Vec<String>) {
    let byte_chars = crate::tokenizer::byte_chars();
    let mut tokens: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
    let mut types = vec![3; SPECIALS.len()];
    tokens.extend(byte_chars.iter().map(|c| c.to_string()));
    types.extend(std::iter::repeat_n(1, 256));
    for m in MERGES {
        tokens.push(m.replace(' ', ""));
        types.push(1);
    }
    (tokens, types, MERGES.iter().map(|m| m.to_string()).collect())
}

struct Rng(u64);

impl Rng {
    /// SplitMix64.
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-scale, scale), exactly representable steps.
    fn uniform(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| ((self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0) * scale).collect()
    }
}

/// Tensors in GGUF naming and layout (rows = outputs, Q/K in GGUF RoPE order).
struct Tensors {
    /// (name, rows, cols, values); vectors have rows = 1.
    list: Vec<(String, usize, usize, Vec<f32>)>,
}

fn tensors(spec: &TinySpec) -> Tensors {
    let vocab = vocabulary().0.len();
    let hd = spec.dim / spec.n_heads;
    let (dim, hidden) = (spec.dim, spec.hidden_dim);
    let (q_dim, kv_dim) = (spec.n_heads * hd, spec.n_kv_heads * hd);
    let mut rng = Rng(spec.seed);
    let mut list = Vec::new();
    // Embeddings larger than block outputs keep the tiny model from
    // collapsing onto one repeated token.
    list.push(("token_embd.weight".into(), vocab, dim, rng.uniform(vocab * dim, 1.0)));
    let norm = |rng: &mut Rng, n: usize| -> Vec<f32> { rng.uniform(n, 0.1).iter().map(|v| 1.0 + v).collect() };
    let mut out = Vec::new();
    for l in 0..spec.n_layers {
        let t = |s: &str| format!("blk.{l}.{s}.weight");
        out.push((t("attn_norm"), 1, dim, norm(&mut rng, dim)));
        for (name, rows, cols) in [
            (t("attn_q"), q_dim, dim),
            (t("attn_k"), kv_dim, dim),
            (t("attn_v"), kv_dim, dim),
            (t("attn_output"), dim, q_dim),
        ] {
            out.push((name, rows, cols, rng.uniform(rows * cols, (3.0 / cols as f32).sqrt())));
        }
        out.push((t("ffn_norm"), 1, dim, norm(&mut rng, dim)));
        for (name, rows, cols) in
            [(t("ffn_gate"), hidden, dim), (t("ffn_up"), hidden, dim), (t("ffn_down"), dim, hidden)]
        {
            out.push((name, rows, cols, rng.uniform(rows * cols, (3.0 / cols as f32).sqrt())));
        }
    }
    out.push(("output_norm.weight".into(), 1, dim, norm(&mut rng, dim)));
    if !spec.tied {
        out.push(("output.weight".into(), vocab, dim, rng.uniform(vocab * dim, (3.0 / dim as f32).sqrt())));
    }
    list.extend(out);
    Tensors { list }
}

/// The tiny model as GGUF, matrices stored as `ty` (F32, F16, Q8_0 or Q4_1;
/// with quantized types the embedding is Q8_0 and norms stay F32).
pub fn tiny_gguf(spec: &TinySpec, ty: GgmlType) -> Vec<u8> {
    let (tokens, types, merges) = vocabulary();
    let hd = spec.dim / spec.n_heads;
    let mut w = GgufWriter::new();
    let u32v = |v: usize| Value::U32(v as u32);
    w.meta("general.architecture", Value::Str("llama".into()))
        .meta("general.name", Value::Str(format!("spotcheck-tiny-seed{}", spec.seed)))
        .meta("llama.block_count", u32v(spec.n_layers))
        .meta("llama.context_length", u32v(spec.context_length))
        .meta("llama.embedding_length", u32v(spec.dim))
        .meta("llama.feed_forward_length", u32v(spec.hidden_dim))
        .meta("llama.attention.head_count", u32v(spec.n_heads))
        .meta("llama.attention.head_count_kv", u32v(spec.n_kv_heads))
        .meta("llama.rope.freq_base", Value::F32(10000.0))
        .meta("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5))
        .meta("llama.rope.dimension_count", u32v(hd))
        .meta("tokenizer.ggml.model", Value::Str("gpt2".into()))
        .meta("tokenizer.ggml.pre", Value::Str("smollm".into()))
        .meta("tokenizer.ggml.tokens", Value::Array(tokens.into_iter().map(Value::Str).collect()))
        .meta("tokenizer.ggml.token_type", Value::Array(types.into_iter().map(Value::I32).collect()))
        .meta("tokenizer.ggml.merges", Value::Array(merges.into_iter().map(Value::Str).collect()))
        .meta("tokenizer.ggml.bos_token_id", Value::U32(1))
        .meta("tokenizer.ggml.eos_token_id", Value::U32(2))
        .meta("tokenizer.chat_template", Value::Str(CHAT_TEMPLATE.into()));
    for (name, rows, cols, data) in tensors(spec).list {
        let dims: Vec<u64> = if rows == 1 { vec![cols as u64] } else { vec![cols as u64, rows as u64] };
        let is_embd = name == "token_embd.weight";
        let tty = match ty {
            _ if rows == 1 => GgmlType::F32,
            GgmlType::Q4_1 | GgmlType::Q8_0 if is_embd => GgmlType::Q8_0,
            other => other,
        };
        let bytes = encode(tty, &data);
        w.tensor(&name, &dims, tty, bytes);
    }
    w.to_bytes()
}

fn encode(ty: GgmlType, data: &[f32]) -> Vec<u8> {
    match ty {
        GgmlType::F16 => data.iter().flat_map(|v| f16::from_f32(*v).to_le_bytes()).collect(),
        GgmlType::BF16 => data.iter().flat_map(|v| bf16::from_f32(*v).to_le_bytes()).collect(),
        GgmlType::Q8_0 => quantize_q8_0(data),
        GgmlType::Q4_1 => quantize_q4_1(data),
        _ => data.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// One encoded tensor for `safetensors::serialize`.
struct EncodedTensor {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for EncodedTensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }

    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// The tiny model as a Hugging Face checkpoint: (model.safetensors bytes,
/// config.json text). `dtype` is "F32", "F16" or "BF16"; norms stay F32.
/// The file is written by the `safetensors` crate, so the loader is tested
/// on what the reference writer produces.
pub fn tiny_safetensors(spec: &TinySpec, dtype: &'static str) -> Result<(Vec<u8>, String)> {
    let hd = spec.dim / spec.n_heads;
    let (ty, st_dtype) = match dtype {
        "F16" => (GgmlType::F16, Dtype::F16),
        "BF16" => (GgmlType::BF16, Dtype::BF16),
        _ => (GgmlType::F32, Dtype::F32),
    };
    let mut encoded = Vec::new();
    for (name, rows, cols, data) in tensors(spec).list {
        let hf = hf_name(&name);
        if rows == 1 {
            let data = encode(GgmlType::F32, &data);
            encoded.push((hf, EncodedTensor { dtype: Dtype::F32, shape: vec![cols], data }));
            continue;
        }
        let data = if name.ends_with("attn_q.weight") {
            unpermute_rope(&data, spec.n_heads, hd, cols)
        } else if name.ends_with("attn_k.weight") {
            unpermute_rope(&data, spec.n_kv_heads, hd, cols)
        } else {
            data
        };
        encoded.push((hf, EncodedTensor { dtype: st_dtype, shape: vec![rows, cols], data: encode(ty, &data) }));
    }
    let bytes = safetensors::serialize(encoded, None)
        .map_err(|e| Error::invalid(format!("writing the tiny safetensors model: {e}")))?;
    let config = serde_json::json!({
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": spec.dim,
        "intermediate_size": spec.hidden_dim,
        "num_hidden_layers": spec.n_layers,
        "num_attention_heads": spec.n_heads,
        "num_key_value_heads": spec.n_kv_heads,
        "max_position_embeddings": spec.context_length,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "vocab_size": vocabulary().0.len(),
        "bos_token_id": 1,
        "eos_token_id": 2,
        "tie_word_embeddings": spec.tied,
    });
    Ok((bytes, format!("{config:#}\n")))
}

fn hf_name(gguf: &str) -> String {
    fn map(s: &str) -> &str {
        match s {
            "attn_norm" => "input_layernorm",
            "attn_q" => "self_attn.q_proj",
            "attn_k" => "self_attn.k_proj",
            "attn_v" => "self_attn.v_proj",
            "attn_output" => "self_attn.o_proj",
            "ffn_norm" => "post_attention_layernorm",
            "ffn_gate" => "mlp.gate_proj",
            "ffn_up" => "mlp.up_proj",
            "ffn_down" => "mlp.down_proj",
            other => other,
        }
    }
    match gguf {
        "token_embd.weight" => "model.embed_tokens.weight".into(),
        "output_norm.weight" => "model.norm.weight".into(),
        "output.weight" => "lm_head.weight".into(),
        other => {
            let parts: Vec<&str> = other.split('.').collect();
            match parts.as_slice() {
                ["blk", l, t, "weight"] => format!("model.layers.{l}.{}.weight", map(t)),
                _ => other.to_owned(),
            }
        }
    }
}

/// Inverse of the loader's permutation: HF row (h, half*hd/2 + j) = GGUF
/// row (h, 2j + half).
fn unpermute_rope(data: &[f32], heads: usize, hd: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; data.len()];
    for h in 0..heads {
        for j in 0..hd / 2 {
            for half in 0..2 {
                let gguf_row = h * hd + 2 * j + half;
                let hf_row = h * hd + half * (hd / 2) + j;
                out[hf_row * cols..(hf_row + 1) * cols].copy_from_slice(&data[gguf_row * cols..(gguf_row + 1) * cols]);
            }
        }
    }
    out
}
