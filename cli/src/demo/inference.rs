//! The demo's parties doing inference: a provider generates, a cheat
//! fabricates, an oracle or verifier checks and re-executes. Everything but
//! the cheat follows the engine's job protocol (`spotcheck_engine::job`), as
//! the real worker and oracle will; the cheat's fabrication is the demo's own.
//!
//! The demo registers exactly the loaded model, so each job's weights hash
//! is `model.id`.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use spotcheck_engine::{Backend, Completion, Hash, Job, Model};

/// What a provider serves from its endpoint and commits on-chain.
pub use spotcheck_engine::JobOutput as Output;

fn job<'a>(model: &Model, prompt: &'a str, budget: u32) -> Job<'a> {
    Job { model_id: model.id, prompt, token_budget: budget }
}

/// The honest path: run the model.
pub fn generate_output(model: &Model, backend: &dyn Backend, prompt: &str, budget: u32) -> Result<Output> {
    job(model, prompt, budget).run(model, backend).context("generating the answer")
}

/// The cheat's path: skip the model, answer with canned text, and commit to
/// it consistently (the output hash is right for these tokens; the trace
/// root is made up, since no activations were ever computed).
pub fn fabricate_output(model: &Model, prompt: &str, budget: u32, canned: &str) -> Result<Output> {
    let tokenizer = model.tokenizer()?;
    let mut tokens = tokenizer.encode(canned)?;
    tokens.extend(tokenizer.eos_token);
    tokens.truncate(budget as usize); // a result over budget would be refused on-chain
    let output_hash = job(model, prompt, budget).output_hash(model, &tokens)?;
    Ok(Output { tokens, output_hash, trace_root: Sha256::digest(canned.as_bytes()).into() })
}

/// An oracle's completion check: the served output is the committed one.
/// (The demo's providers serve what they committed, so the committed token
/// count is the served one; the hash decides.)
pub fn output_matches(model: &Model, prompt: &str, budget: u32, tokens: &[u32], committed: &Hash) -> Result<bool> {
    let served = tokens.len() as u32;
    let completion = job(model, prompt, budget).check_served(model, committed, served, tokens)?;
    Ok(completion == Completion::Complete)
}

/// Re-execution: one teacher-forced pass over prompt + served output against
/// its commitments. Returns whether it passed, the evidence hash posted with
/// the verdict, and what it found.
pub fn re_execute(
    model: &Model,
    backend: &dyn Backend,
    prompt: &str,
    budget: u32,
    output: &Output,
) -> Result<(bool, Hash, String)> {
    let verdict = job(model, prompt, budget)
        .re_execute(model, backend, &output.output_hash, &output.trace_root, &output.tokens)
        .context("re-executing the job")?;
    let finding = match &verdict.divergence {
        None => "re-execution reproduced the output".to_string(),
        Some(divergence) => divergence.to_string(),
    };
    Ok((verdict.passed(), verdict.evidence_hash(), finding))
}
