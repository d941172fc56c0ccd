//! The same seeded model stored in different containers and float types
//! runs to the same tokens and trace (the output hash differs only through
//! the model id, which is the file's SHA-256).

mod common;

use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::model::tiny::{TinySpec, tiny_gguf, tiny_safetensors};
use spotcheck_engine::{GenerateParams, Model, generate};

fn run(model: &Model, prompt: &[u32]) -> spotcheck_engine::Generation {
    generate(model, &common::one_backend(), prompt, &GenerateParams::new(16)).unwrap()
}

#[test]
fn gguf_and_safetensors_agree() {
    for tied in [false, true] {
        let spec = TinySpec { tied, ..TinySpec::default() };
        for (gguf_ty, st_dtype) in [(GgmlType::F32, "F32"), (GgmlType::F16, "F16")] {
            let g = common::tiny_with(&spec, gguf_ty);
            let s = common::tiny_st(&spec, st_dtype);
            let prompt = common::tiny_prompt(&g);
            let (a, b) = (run(&g, &prompt), run(&s, &prompt));
            assert_eq!(a.tokens, b.tokens, "tied={tied} {gguf_ty}");
            assert_eq!(a.trace, b.trace, "tied={tied} {gguf_ty}");
            assert_eq!(a.commitments.trace_root, b.commitments.trace_root);
            assert_ne!(g.id, s.id, "different files, different ids");
            assert_ne!(a.commitments.output_hash, b.commitments.output_hash);
        }
    }
}

#[test]
fn bf16_safetensors_loads_and_runs() {
    let spec = TinySpec::default();
    let m = common::tiny_st(&spec, "BF16");
    let prompt = common::tiny_prompt(&common::tiny(GgmlType::F32));
    assert_eq!(run(&m, &prompt).tokens.len(), 16);
}

#[test]
fn load_from_files_detects_the_format_and_hashes_the_file() {
    let dir = common::temp_dir("formats");
    let spec = TinySpec::default();
    let gguf = tiny_gguf(&spec, GgmlType::Q4_1);
    std::fs::write(dir.join("tiny.gguf"), &gguf).unwrap();
    let (st, config) = tiny_safetensors(&spec, "F32").unwrap();
    std::fs::write(dir.join("model.safetensors"), &st).unwrap();
    std::fs::write(dir.join("config.json"), config).unwrap();

    let g = Model::load(dir.join("tiny.gguf")).unwrap();
    assert_eq!(g.id, spotcheck_engine::model::model_id(&gguf));
    assert_eq!(g.format, spotcheck_engine::model::Format::Gguf);
    let s = Model::load(dir.join("model.safetensors")).unwrap();
    assert_eq!(s.format, spotcheck_engine::model::Format::Safetensors);
    assert!(s.tokenizer.is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bench's accuracy copies: a Q4_1 file converted to F32 holds exactly
/// the dequantized weights, and an F32 file converted to Q8_0 is the model
/// the Q8_0 writer makes (same tokens, same hidden states).
#[test]
fn converted_copies_hold_the_same_weights() {
    use spotcheck_engine::model::quantize::convert_gguf;
    let spec = TinySpec::default();
    let q4 = tiny_gguf(&spec, GgmlType::Q4_1);
    let f32_copy = Model::from_gguf_bytes(&convert_gguf(&q4, GgmlType::F32).unwrap()).unwrap();
    let q4 = Model::from_gguf_bytes(&q4).unwrap();
    let (a, b) = (&q4.weights.layers[0].w_down, &f32_copy.weights.layers[0].w_down);
    assert!(a.is_quantized() && !b.is_quantized());
    let (mut ra, mut rb) = (vec![0.0f32; a.cols()], vec![0.0f32; b.cols()]);
    for r in 0..a.rows() {
        a.dequantize_row(r, &mut ra);
        b.dequantize_row(r, &mut rb);
        assert_eq!(ra, rb, "row {r}");
    }

    let q8 = Model::from_gguf_bytes(&convert_gguf(&tiny_gguf(&spec, GgmlType::F32), GgmlType::Q8_0).unwrap()).unwrap();
    let want = common::tiny(GgmlType::Q8_0);
    let prompt = common::tiny_prompt(&want);
    let (a, b) = (run(&q8, &prompt), run(&want, &prompt));
    assert_eq!((a.tokens, a.commitments.trace_root), (b.tokens, b.commitments.trace_root));
    assert!(convert_gguf(&tiny_gguf(&spec, GgmlType::F32), GgmlType::Q4_1).is_err());
}
