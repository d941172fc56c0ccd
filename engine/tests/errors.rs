//! Bad input gives the right typed error, never a panic.

mod common;

use spotcheck_engine::gguf::{GgmlType, GgufWriter, Value};
use spotcheck_engine::model::tiny::{TinySpec, tiny_gguf, tiny_safetensors};
use spotcheck_engine::{Claim, Error, GenerateParams, Model, generate, verify};

fn gguf_err(bytes: &[u8]) -> Error {
    Model::from_gguf_bytes(bytes).unwrap_err()
}

#[test]
fn missing_file_is_a_retryable_io_error() {
    let err = Model::load("/nonexistent/model.gguf").unwrap_err();
    assert!(matches!(err, Error::Io { .. }) && err.is_retryable());
}

#[test]
fn unknown_format() {
    let dir = common::temp_dir("errors-unknown");
    let path = dir.join("junk.bin");
    std::fs::write(&path, b"this is not a model file at all").unwrap();
    let err = Model::load(&path).unwrap_err();
    assert!(matches!(err, Error::UnknownFormat) && !err.is_retryable());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn truncated_or_corrupt_gguf() {
    let good = tiny_gguf(&TinySpec::default(), GgmlType::Q4_1);
    // Every truncation point is rejected cleanly.
    // (The last 32 bytes may be alignment padding, which is not needed.)
    for cut in [5, 24, 100, 1000, good.len() / 2, good.len() - 64] {
        assert!(matches!(gguf_err(&good[..cut]), Error::Corrupt(_)), "cut at {cut}");
    }
    // A forged huge metadata count.
    let mut bad = good.clone();
    bad[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(gguf_err(&bad), Error::Corrupt(_)));
    // Random byte flips in the header never panic.
    let mut seed = 1u64;
    for _ in 0..300 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let mut b = good.clone();
        let at = (seed >> 33) as usize % 4096;
        b[at] ^= (seed >> 8) as u8 | 1;
        let _ = Model::from_gguf_bytes(&b);
    }
}

#[test]
fn wrong_architecture() {
    let mut w = GgufWriter::new();
    w.meta("general.architecture", Value::Str("gpt2".into()));
    assert!(matches!(gguf_err(&w.to_bytes()), Error::UnsupportedArchitecture(a) if a == "gpt2"));
    let (st, config) = tiny_safetensors(&TinySpec::default(), "F32").unwrap();
    let config = config.replace("\"llama\"", "\"mistral\"");
    let err = Model::from_safetensors_bytes(&st, config.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::UnsupportedArchitecture(_)));
}

#[test]
fn unsupported_tensor_type() {
    // Re-type one matrix as Q4_0 (a layout we know but have no kernel for).
    let spec = TinySpec::default();
    let bytes = tiny_gguf(&spec, GgmlType::F32);
    let g = spotcheck_engine::gguf::parse(&bytes).unwrap();
    let mut w = GgufWriter::new();
    for (k, v) in &g.metadata {
        w.meta(k, v.clone());
    }
    for t in &g.tensors {
        let data = g.tensor_bytes(t).unwrap().to_vec();
        if t.name == "blk.0.attn_q.weight" {
            let n = (t.dims[0] * t.dims[1]) as usize;
            w.tensor(&t.name, &t.dims, GgmlType::Q4_0, vec![0; n / 32 * 18]);
        } else {
            w.tensor(&t.name, &t.dims, t.ty, data);
        }
    }
    let err = gguf_err(&w.to_bytes());
    assert!(matches!(&err, Error::UnsupportedTensorType { name, .. } if name == "blk.0.attn_q.weight"), "{err}");
}

#[test]
fn request_errors() {
    let model = common::tiny(GgmlType::F32);
    let be = common::one_backend();
    let prompt = common::tiny_prompt(&model);
    let ctx = model.config().context_length;
    let run = |p: &[u32], n| generate(&model, &be, p, &GenerateParams::new(n)).unwrap_err();
    assert!(matches!(run(&prompt, 0), Error::ZeroBudget));
    assert!(matches!(run(&[], 4), Error::EmptyPrompt));
    let long = vec![5u32; ctx];
    assert!(matches!(run(&long, 1), Error::ContextOverflow { prompt, .. } if prompt == ctx));
    assert!(matches!(run(&prompt, ctx), Error::ContextOverflow { .. }));
    assert!(matches!(run(&[1, 100_000], 4), Error::TokenOutOfRange { id: 100_000, .. }));
    // The same checks guard verification.
    let v = verify(&model, &be, &Claim::tokens(&prompt, &[3], 0)).unwrap_err();
    assert!(matches!(v, Error::ZeroBudget));
    // A claimed token outside the vocabulary is a failed claim, not a crash.
    let d = verify(&model, &be, &Claim::tokens(&prompt, &[u32::MAX], 4)).unwrap();
    assert!(matches!(d, spotcheck_engine::Verdict::Fail(_)));
}

#[test]
fn safetensors_without_tokenizer_and_bad_json() {
    let (st, config) = tiny_safetensors(&TinySpec::default(), "F32").unwrap();
    let m = Model::from_safetensors_bytes(&st, config.as_bytes()).unwrap();
    assert!(matches!(m.tokenizer(), Err(Error::NoTokenizer)));
    let err = Model::from_safetensors_bytes(&st, b"{\"model_type\": ").unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)));
    let err = Model::from_safetensors_bytes(&st[..st.len() - 4], config.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)));
}

#[test]
fn corrupt_safetensors_and_json_never_panic() {
    let (st, config) = tiny_safetensors(&TinySpec::default(), "F32").unwrap();
    let mut seed = 3u64;
    for _ in 0..300 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let mut b = st.clone();
        let at = 8 + (seed >> 33) as usize % 2048;
        b[at] ^= (seed >> 8) as u8 | 1;
        let _ = Model::from_safetensors_bytes(&b, config.as_bytes());
        let mut c = config.clone().into_bytes();
        let at = (seed >> 33) as usize % c.len();
        c[at] ^= (seed >> 16) as u8 | 1;
        let _ = Model::from_safetensors_bytes(&st, &c);
    }
    // Deep nesting is refused (serde_json's recursion limit), not a stack
    // overflow: in config.json and in the safetensors header.
    let deep = format!("{{\"model_type\": \"llama\", \"x\": {}", "[".repeat(10_000));
    let err = Model::from_safetensors_bytes(&st, deep.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
    let header = format!("{{\"x\": {}", "[".repeat(10_000));
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header.as_bytes());
    let err = Model::from_safetensors_bytes(&file, config.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
}
