//! The CUDA backend on the host SIMT emulator (tests/simt/): the kernel
//! sources NVRTC compiles, built with the host C++ compiler and driven by
//! the same `CudaBackend` code as a real GPU, must give the CPU backend's
//! bits — op by op, and for whole generations, verifications and the golden
//! outputs of the tiny models. Needs no GPU and no CUDA; what it cannot
//! check is the driver itself and the GPU's own arithmetic
//! (tests/cuda_gpu.rs does, on a machine with a GPU).

mod common;

use std::sync::Arc;

use common::simt::SimGpu;
use spotcheck_engine::commit::hex;
use spotcheck_engine::engine::KvCache;
use spotcheck_engine::engine::forward::forward;
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::{Backend, Claim, CudaBackend, GenerateParams, Message, Model, Verdict, generate, verify};

const TYPES: [GgmlType; 4] = [GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_1];

fn emulated<'m>(model: Option<&'m Model>) -> Option<CudaBackend<'m>> {
    let gpu = SimGpu::new()?;
    Some(CudaBackend::with_gpu(gpu as Arc<_>, model.map(|m| &m.weights)).expect("emulated backend"))
}

macro_rules! op_test {
    ($name:ident) => {
        #[test]
        fn $name() {
            let Some(gpu) = emulated(None) else { return };
            common::ops::$name(&common::one_backend(), &gpu);
        }
    };
}

op_test!(op_embed);
op_test!(op_rmsnorm);
op_test!(op_quantize_q8);
op_test!(op_matmul);
op_test!(op_rope);
op_test!(op_attention);
op_test!(op_silu_mul);
op_test!(op_add);
op_test!(op_argmax);
op_test!(op_hash_rows);

#[test]
fn tiny_models_generate_the_cpu_commitments() {
    for ty in TYPES {
        let model = common::tiny(ty);
        let Some(gpu) = emulated(Some(&model)) else { return };
        let prompt = common::tiny_prompt(&model);
        let params = GenerateParams::new(8);
        let want = generate(&model, &common::one_backend(), &prompt, &params).unwrap();
        let got = generate(&model, &gpu, &prompt, &params).unwrap();
        assert_eq!(want.tokens, got.tokens, "{ty}");
        assert_eq!(want.commitments, got.commitments, "{ty}");
        assert_eq!(want.trace, got.trace, "{ty}");
    }
}

#[test]
fn emulated_verification_accepts_cpu_claims_and_batching_is_exact() {
    let model = common::tiny(GgmlType::Q4_1);
    let Some(gpu) = emulated(Some(&model)) else { return };
    let prompt = common::tiny_prompt(&model);
    let out = generate(&model, &common::one_backend(), &prompt, &GenerateParams::new(6)).unwrap();
    let claim = Claim {
        output_hash: Some(out.commitments.output_hash),
        trace_root: Some(out.commitments.trace_root),
        trace: Some(&out.trace.leaves),
        ..Claim::tokens(&prompt, &out.tokens, 6)
    };
    assert_eq!(verify(&model, &gpu, &claim).unwrap(), Verdict::Pass(out.commitments));

    // A chunked prefill and one row at a time give the same logits.
    let c = model.config();
    let mut kv = KvCache::new(c.n_layers, c.kv_dim(), prompt.len());
    let all = forward(&model.weights, &gpu, &mut kv, &prompt, 0, None).unwrap();
    let mut kv = KvCache::new(c.n_layers, c.kv_dim(), prompt.len());
    for (i, chunk) in prompt.chunks(5).enumerate() {
        let part = forward(&model.weights, &gpu, &mut kv, chunk, 0, None).unwrap();
        let rows = &all[i * 5 * c.vocab_size..(i * 5 + chunk.len()) * c.vocab_size];
        assert!(part.iter().zip(rows).all(|(a, b)| a.to_bits() == b.to_bits()), "chunk {i}");
    }
}

#[test]
fn backend_without_resident_weights_agrees() {
    // Weights uploaded per op (no model given) and resident ones agree.
    let model = common::tiny(GgmlType::Q8_0);
    let (Some(resident), Some(transient)) = (emulated(Some(&model)), emulated(None)) else { return };
    let prompt = common::tiny_prompt(&model);
    let params = GenerateParams::new(4);
    let a = generate(&model, &resident, &prompt, &params).unwrap();
    let b = generate(&model, &transient, &prompt, &params).unwrap();
    assert_eq!(a.commitments, b.commitments);
    assert!(resident.name().starts_with("cuda-simt"), "{}", resident.name());
}

#[test]
fn smollm2_on_the_emulator_commits_like_the_cpu() {
    // About a minute (the emulator runs every GPU thread as a fiber): opt in.
    if std::env::var_os("SPOTCHECK_EMULATE_SMOLLM2").is_none() {
        eprintln!("SKIPPED: set SPOTCHECK_EMULATE_SMOLLM2=1 to run SmolLM2 on the SIMT emulator (about a minute)");
        return;
    }
    let Some(path) = common::smollm2_path() else { return };
    let model = Model::load(path).unwrap();
    let Some(gpu) = emulated(Some(&model)) else { return };
    let tok = model.tokenizer().unwrap();
    // The pinned case of tests/smollm2.rs: same prompt, same budget.
    let prompt = tok.encode_chat(&[Message::new("user", "What is 2+2?")]).unwrap();
    let params = GenerateParams::new(12);
    let t = std::time::Instant::now();
    let got = generate(&model, &gpu, &prompt, &params).unwrap();
    eprintln!(
        "emulated SmolLM2: {} + {} tokens in {:.1?}: {:?}",
        prompt.len(),
        got.tokens.len(),
        t.elapsed(),
        tok.decode(&got.tokens)
    );
    let want = generate(&model, &common::one_backend(), &prompt, &params).unwrap();
    assert_eq!(want.tokens, got.tokens);
    assert_eq!(want.commitments, got.commitments);
    println!("output hash {}", hex(&got.commitments.output_hash));
    println!("trace root  {}", hex(&got.commitments.trace_root));
}
