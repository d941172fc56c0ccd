//! Verification catches each kind of wrong claim and names the first
//! divergent token (and, with a claimed trace, position and layer).

mod common;

use spotcheck_engine::commit::{self, verify_proof};
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::model::tiny::TinySpec;
use spotcheck_engine::{Claim, DivergenceKind, Error, GenerateParams, Generation, Model, Verdict, generate, verify};

const MAX_NEW: usize = 12;

fn setup(ty: GgmlType) -> (Model, Vec<u32>, Generation) {
    let model = common::tiny(ty);
    let prompt = common::tiny_prompt(&model);
    let out = generate(&model, &common::one_backend(), &prompt, &GenerateParams::new(MAX_NEW)).unwrap();
    (model, prompt, out)
}

fn fail_of(v: Verdict) -> spotcheck_engine::Divergence {
    match v {
        Verdict::Fail(d) => d,
        Verdict::Pass(_) => panic!("expected a failure"),
    }
}

#[test]
fn tampered_token_fails_at_that_token() {
    let (model, prompt, out) = setup(GgmlType::Q4_1);
    for be in common::backends() {
        for idx in [0, 5, MAX_NEW - 1] {
            let mut bad = out.tokens.clone();
            bad[idx] = (bad[idx] + 1) % model.config().vocab_size as u32;
            let d = fail_of(verify(&model, &be, &Claim::tokens(&prompt, &bad, MAX_NEW)).unwrap());
            assert_eq!(d.kind, DivergenceKind::NotArgmax);
            assert_eq!(d.token_index, idx);
            assert_eq!(d.expected, Some(out.tokens[idx]));
            assert_eq!(d.claimed, Some(bad[idx]));
            let err = verify(&model, &be, &Claim::tokens(&prompt, &bad, MAX_NEW)).unwrap().into_result().unwrap_err();
            assert!(matches!(err, Error::OutputMismatch(_)) && !err.is_retryable());
        }
    }
}

#[test]
fn truncated_output_fails_at_the_missing_token() {
    let (model, prompt, out) = setup(GgmlType::Q8_0);
    let be = common::one_backend();
    for keep in [0, 1, 7] {
        let d = fail_of(verify(&model, &be, &Claim::tokens(&prompt, &out.tokens[..keep], MAX_NEW)).unwrap());
        assert_eq!(d.kind, DivergenceKind::Truncated);
        assert_eq!(d.token_index, keep);
        assert_eq!(d.expected, Some(out.tokens[keep]));
    }
}

#[test]
fn over_budget_and_premature_eos_fail() {
    let (model, prompt, out) = setup(GgmlType::F32);
    let be = common::one_backend();
    // The same tokens claimed under a smaller budget.
    let d = fail_of(verify(&model, &be, &Claim::tokens(&prompt, &out.tokens, MAX_NEW - 2)).unwrap());
    assert_eq!((d.kind, d.token_index), (DivergenceKind::OverBudget, MAX_NEW - 2));
    assert_eq!(d.claimed, Some(out.tokens[MAX_NEW - 2]));
    // Stopping early with a fake EOS: the EOS is not the argmax.
    let eos = model.config().eos_token.unwrap();
    let mut bad = out.tokens[..4].to_vec();
    bad[3] = eos;
    let d = fail_of(verify(&model, &be, &Claim::tokens(&prompt, &bad, MAX_NEW)).unwrap());
    assert_eq!((d.kind, d.token_index), (DivergenceKind::NotArgmax, 3));
    // (Tokens after a real EOS are checked on SmolLM2, whose answers end in one.)
}

#[test]
fn another_model_fails_with_the_first_differing_token() {
    let (_, prompt, out) = setup(GgmlType::F32);
    let other = common::tiny_with(&TinySpec { seed: 7, ..TinySpec::default() }, GgmlType::F32);
    let be = common::one_backend();
    let theirs = generate(&other, &be, &prompt, &GenerateParams::new(MAX_NEW)).unwrap();
    let first_diff = out.tokens.iter().zip(&theirs.tokens).position(|(a, b)| a != b).unwrap();
    let d = fail_of(verify(&other, &be, &Claim::tokens(&prompt, &out.tokens, MAX_NEW)).unwrap());
    assert_eq!((d.kind, d.token_index), (DivergenceKind::NotArgmax, first_diff));
    // With the claimed trace, the very first leaf already differs.
    let claim = Claim { trace: Some(&out.trace.leaves), ..Claim::tokens(&prompt, &out.tokens, MAX_NEW) };
    let d = fail_of(verify(&other, &be, &claim).unwrap());
    assert_eq!(d.kind, DivergenceKind::Activation);
    assert_eq!((d.position, d.layer, d.token_index), (Some(0), Some(0), 0));
}

#[test]
fn tampered_trace_names_position_and_layer() {
    let (model, prompt, out) = setup(GgmlType::Q4_1);
    let layers = model.config().n_layers;
    let be = common::one_backend();
    for (pos, layer) in [(3usize, 1usize), (prompt.len() + 4, 0)] {
        let mut leaves = out.trace.leaves.clone();
        leaves[pos * layers + layer][0] ^= 1;
        let claim = Claim { trace: Some(&leaves), ..Claim::tokens(&prompt, &out.tokens, MAX_NEW) };
        let d = fail_of(verify(&model, &be, &claim).unwrap());
        assert_eq!(d.kind, DivergenceKind::Activation);
        assert_eq!((d.position, d.layer), (Some(pos as u32), Some(layer as u32)));
        assert_eq!(d.token_index, (pos + 1).saturating_sub(prompt.len()));
    }
    let short = &out.trace.leaves[1..];
    let claim = Claim { trace: Some(short), ..Claim::tokens(&prompt, &out.tokens, MAX_NEW) };
    let d = fail_of(verify(&model, &be, &claim).unwrap());
    assert_eq!((d.kind, d.token_index, d.position), (DivergenceKind::TraceLength, 0, None));
}

#[test]
fn wrong_hashes_fail() {
    let (model, prompt, out) = setup(GgmlType::Q8_0);
    let be = common::one_backend();
    let mut h = out.commitments.output_hash;
    h[31] ^= 0x80;
    let claim = Claim { output_hash: Some(h), ..Claim::tokens(&prompt, &out.tokens, MAX_NEW) };
    assert_eq!(fail_of(verify(&model, &be, &claim).unwrap()).kind, DivergenceKind::OutputHash);
    let claim = Claim { trace_root: Some(h), ..Claim::tokens(&prompt, &out.tokens, MAX_NEW) };
    assert_eq!(fail_of(verify(&model, &be, &claim).unwrap()).kind, DivergenceKind::TraceRoot);
}

#[test]
fn trace_covers_prompt_and_fed_back_tokens_with_proofs() {
    let (model, prompt, out) = setup(GgmlType::F32);
    let layers = model.config().n_layers as u32;
    let positions = (prompt.len() + out.tokens.len() - 1) as u32;
    assert_eq!(out.trace.positions(), positions);
    assert_eq!(out.trace.leaves.len(), (positions * layers) as usize);
    let root = out.commitments.trace_root;
    assert_eq!(root, commit::trace_root(positions, layers, &out.trace.leaves));
    for (p, l) in [(0, 0), (positions - 1, layers - 1), (prompt.len() as u32, 1)] {
        let proof = out.trace.prove(p, l).unwrap();
        let leaf = out.trace.leaf(p, l).unwrap();
        assert!(verify_proof(leaf, &proof, positions, layers, &root));
        let mut forged = *leaf;
        forged[0] ^= 1;
        assert!(!verify_proof(&forged, &proof, positions, layers, &root));
    }
    assert!(out.trace.prove(positions, 0).is_none());
    // The output hash follows the documented layout.
    let ph = commit::prompt_hash(&prompt);
    assert_eq!(out.commitments.output_hash, commit::output_hash(&model.id, &ph, &out.tokens));
}
