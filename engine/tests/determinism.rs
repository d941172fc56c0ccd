//! One body per property, run on every backend (portable and AVX2 kernels,
//! 1 and 2 threads); results are compared as bits, never with tolerances.

mod common;

use spotcheck_engine::engine::KvCache;
use spotcheck_engine::engine::forward::forward;
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::{Backend, Claim, GenerateParams, Verdict, generate, verify};

const TYPES: [GgmlType; 4] = [GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_1];

#[test]
fn every_backend_and_thread_count_gives_identical_bits() {
    for ty in TYPES {
        let model = common::tiny(ty);
        let prompt = common::tiny_prompt(&model);
        let params = GenerateParams::new(12);
        let mut reference = None;
        for be in common::backends() {
            let out = generate(&model, &be, &prompt, &params).unwrap();
            let key = (out.tokens.clone(), out.commitments, out.trace.leaves.clone());
            match &reference {
                None => reference = Some((be.name(), key)),
                Some((name, r)) => assert!(*r == key, "{ty}: {} differs from {name}", be.name()),
            }
        }
    }
}

#[test]
fn batched_prefill_equals_one_token_at_a_time() {
    for ty in TYPES {
        let model = common::tiny(ty);
        let prompt = common::tiny_prompt(&model);
        for be in common::backends() {
            let run = |chunk| {
                let params = GenerateParams { max_new_tokens: 6, prefill_chunk: chunk };
                generate(&model, &be, &prompt, &params).unwrap()
            };
            let whole = run(0);
            for chunk in [1, 3, 7] {
                let part = run(chunk);
                assert_eq!(whole.tokens, part.tokens, "{ty} chunk {chunk} on {}", be.name());
                assert_eq!(whole.commitments, part.commitments);
                assert_eq!(whole.trace, part.trace);
            }
        }
    }
}

#[test]
fn batched_logits_equal_single_row_logits() {
    let model = common::tiny(GgmlType::Q4_1);
    let prompt = common::tiny_prompt(&model);
    let c = model.config();
    for be in common::backends() {
        let mut kv = KvCache::new(c.n_layers, c.kv_dim(), prompt.len());
        let all = forward(&model.weights, &be, &mut kv, &prompt, 0, None).unwrap();
        let mut kv = KvCache::new(c.n_layers, c.kv_dim(), prompt.len());
        for (i, &t) in prompt.iter().enumerate() {
            let one = forward(&model.weights, &be, &mut kv, &[t], 0, None).unwrap();
            let row = &all[i * c.vocab_size..(i + 1) * c.vocab_size];
            let same = one.iter().zip(row).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "row {i} differs on {}", be.name());
        }
    }
}

#[test]
fn decode_and_teacher_forced_verify_commit_identically() {
    for ty in TYPES {
        let model = common::tiny(ty);
        let prompt = common::tiny_prompt(&model);
        for be in common::backends() {
            let out = generate(&model, &be, &prompt, &GenerateParams::new(10)).unwrap();
            let claim = Claim {
                output_hash: Some(out.commitments.output_hash),
                trace_root: Some(out.commitments.trace_root),
                trace: Some(&out.trace.leaves),
                ..Claim::tokens(&prompt, &out.tokens, 10)
            };
            assert_eq!(verify(&model, &be, &claim).unwrap(), Verdict::Pass(out.commitments), "{ty} on {}", be.name());
        }
    }
}
