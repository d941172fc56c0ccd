//! The CUDA backend on a real GPU against the CPU backend, bit for bit:
//! every op, the tiny seeded models (every weight type), verification in
//! both directions, and SmolLM2 when it is installed. Each test prints
//! `SKIPPED: ...` and passes on a machine where the CUDA backend cannot
//! start (no driver, no NVRTC, no GPU), unless `SPOTCHECK_REQUIRE_CUDA` is
//! set. On a CUDA machine, one command runs them (engine/README.md):
//!
//! ```sh
//! SPOTCHECK_REQUIRE_CUDA=1 SPOTCHECK_NVRTC_LIB_DIR="$(engine/scripts/install-nvrtc.sh)" \
//!     cargo test -p spotcheck-engine --test cuda_gpu -- --nocapture
//! ```

mod common;

use std::sync::{Arc, OnceLock};

use spotcheck_engine::commit::hex;
use spotcheck_engine::engine::KvCache;
use spotcheck_engine::engine::cuda::CudaGpu;
use spotcheck_engine::engine::forward::forward;
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::{
    Backend, Claim, CudaBackend, CudaUnavailable, GenerateParams, Message, Model, Verdict, generate, verify,
};

const TYPES: [GgmlType; 4] = [GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_1];

/// One CUDA context and one NVRTC compilation for the whole test binary.
fn shared_gpu() -> Result<Arc<CudaGpu>, CudaUnavailable> {
    static GPU: OnceLock<Result<Arc<CudaGpu>, CudaUnavailable>> = OnceLock::new();
    GPU.get_or_init(|| CudaGpu::open(0, common::nvrtc_dir().as_deref()).map(Arc::new)).clone()
}

/// The CUDA backend holding `model` (None: weights uploaded per op), or
/// None after a SKIPPED line.
fn cuda(model: Option<&Model>) -> Option<CudaBackend<'_>> {
    match shared_gpu() {
        Ok(gpu) => Some(CudaBackend::with_gpu(gpu, model.map(|m| &m.weights)).expect("CUDA backend")),
        Err(why) if std::env::var_os("SPOTCHECK_REQUIRE_CUDA").is_none() => {
            eprintln!("SKIPPED: no usable GPU ({why}); set SPOTCHECK_REQUIRE_CUDA=1 to fail instead");
            None
        }
        Err(why) => panic!("SPOTCHECK_REQUIRE_CUDA is set but the CUDA backend cannot start: {why}"),
    }
}

macro_rules! op_test {
    ($name:ident) => {
        #[test]
        fn $name() {
            let Some(gpu) = cuda(None) else { return };
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
fn tiny_models_decode_to_the_cpu_commitments() {
    for ty in TYPES {
        let model = common::tiny(ty);
        let Some(gpu) = cuda(Some(&model)) else { return };
        let prompt = common::tiny_prompt(&model);
        let params = GenerateParams::new(24); // as the golden file
        let want = generate(&model, &common::one_backend(), &prompt, &params).unwrap();
        let got = generate(&model, &gpu, &prompt, &params).unwrap();
        assert_eq!(want.tokens, got.tokens, "{ty}");
        assert_eq!(want.commitments, got.commitments, "{ty}");
        assert_eq!(want.trace, got.trace, "{ty}");
        println!("{ty} on {}: output hash {}", gpu.name(), hex(&got.commitments.output_hash));
    }
}

#[test]
fn verification_crosses_devices_and_batching_is_exact() {
    let model = common::tiny(GgmlType::Q4_1);
    let Some(gpu) = cuda(Some(&model)) else { return };
    let cpu = common::one_backend();
    let prompt = common::tiny_prompt(&model);
    for (producer, checker) in [(&cpu as &dyn Backend, &gpu as &dyn Backend), (&gpu, &cpu)] {
        let out = generate(&model, producer, &prompt, &GenerateParams::new(10)).unwrap();
        let claim = Claim {
            output_hash: Some(out.commitments.output_hash),
            trace_root: Some(out.commitments.trace_root),
            trace: Some(&out.trace.leaves),
            ..Claim::tokens(&prompt, &out.tokens, 10)
        };
        assert_eq!(verify(&model, checker, &claim).unwrap(), Verdict::Pass(out.commitments));
    }
    let c = model.config();
    let mut kv = KvCache::new(c.n_layers, c.kv_dim(), prompt.len());
    let all = forward(&model.weights, &gpu, &mut kv, &prompt, 0, None).unwrap();
    let mut kv = KvCache::new(c.n_layers, c.kv_dim(), prompt.len());
    for (i, &t) in prompt.iter().enumerate() {
        let one = forward(&model.weights, &gpu, &mut kv, &[t], 0, None).unwrap();
        let row = &all[i * c.vocab_size..(i + 1) * c.vocab_size];
        assert!(one.iter().zip(row).all(|(a, b)| a.to_bits() == b.to_bits()), "row {i}");
    }
}

#[test]
fn smollm2_on_cuda_commits_like_the_cpu() {
    let Some(path) = common::smollm2_path() else { return };
    let model = Model::load(path).unwrap();
    let Some(gpu) = cuda(Some(&model)) else { return };
    let tok = model.tokenizer().unwrap();
    let cpu = spotcheck_engine::CpuBackend::new(2).unwrap();
    for (question, n) in [("What is the capital of France?", 8), ("Write a short story about a lighthouse keeper.", 48)]
    {
        let prompt = tok.encode_chat(&[Message::new("user", question)]).unwrap();
        let params = GenerateParams::new(n);
        let want = generate(&model, &cpu, &prompt, &params).unwrap();
        let got = generate(&model, &gpu, &prompt, &params).unwrap();
        println!("SmolLM2 on {}: {:?}", gpu.name(), tok.decode(&got.tokens));
        assert_eq!(want.tokens, got.tokens, "{question}");
        assert_eq!(want.commitments, got.commitments, "{question}");
        let claim = Claim {
            output_hash: Some(got.commitments.output_hash),
            trace_root: Some(got.commitments.trace_root),
            ..Claim::tokens(&prompt, &got.tokens, n)
        };
        assert_eq!(verify(&model, &gpu, &claim).unwrap(), Verdict::Pass(want.commitments));
    }
}
