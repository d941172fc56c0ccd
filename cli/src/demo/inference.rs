//! How a job's prompt becomes model input, and the three things done with it:
//! a provider generates, a cheat fabricates, an oracle or verifier re-executes.
//!
//! The job's on-chain prompt is the user's text; every party renders it with
//! the model's chat template (one user message) and tokenizes it the same
//! way, so the engine's prompt hash (over those token ids) is a function of
//! the on-chain prompt and the model alone.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use spotcheck_engine::commit::{output_hash, prompt_hash};
use spotcheck_engine::{Backend, Claim, GenerateParams, Hash, Message, Model, Verdict, generate, verify};

/// What a provider serves from its endpoint and commits on-chain.
#[derive(Clone, Debug)]
pub struct Output {
    pub tokens: Vec<u32>,
    pub output_hash: Hash,
    pub trace_root: Hash,
}

pub fn prompt_tokens(model: &Model, prompt: &str) -> Result<Vec<u32>> {
    let tokenizer = model.tokenizer()?;
    Ok(tokenizer.encode_chat(&[Message::new("user", prompt)])?)
}

/// The honest path: run the model.
pub fn generate_output(model: &Model, backend: &dyn Backend, prompt: &str, budget: u32) -> Result<Output> {
    let tokens = prompt_tokens(model, prompt)?;
    let generation =
        generate(model, backend, &tokens, &GenerateParams::new(budget as usize)).context("generating the answer")?;
    Ok(Output {
        tokens: generation.tokens,
        output_hash: generation.commitments.output_hash,
        trace_root: generation.commitments.trace_root,
    })
}

/// The cheat's path: skip the model, answer with canned text, and commit to
/// it consistently (the output hash is right for these tokens; the trace
/// root is made up, since no activations were ever computed).
pub fn fabricate_output(model: &Model, prompt: &str, budget: u32, canned: &str) -> Result<Output> {
    let tokenizer = model.tokenizer()?;
    let mut tokens = tokenizer.encode(canned)?;
    tokens.extend(tokenizer.eos_token);
    tokens.truncate(budget as usize); // a result over budget would be refused on-chain
    let hash = output_hash(&model.id, &prompt_hash(&prompt_tokens(model, prompt)?), &tokens);
    Ok(Output { tokens, output_hash: hash, trace_root: Sha256::digest(canned.as_bytes()).into() })
}

/// An oracle's completion check: the served output hashes to the commitment.
pub fn output_matches(model: &Model, prompt: &str, tokens: &[u32], committed: &Hash) -> Result<bool> {
    Ok(output_hash(&model.id, &prompt_hash(&prompt_tokens(model, prompt)?), tokens) == *committed)
}

/// Re-execution: one teacher-forced pass over prompt + claimed output.
/// Returns whether it passed, and the evidence hash posted with the verdict
/// (SHA-256 of the divergence's description, zeros on a pass).
pub fn re_execute(
    model: &Model,
    backend: &dyn Backend,
    prompt: &str,
    budget: u32,
    output: &Output,
) -> Result<(bool, Hash, String)> {
    let tokens = prompt_tokens(model, prompt)?;
    let claim = Claim {
        prompt: &tokens,
        output: &output.tokens,
        max_new_tokens: budget as usize,
        output_hash: Some(output.output_hash),
        trace_root: Some(output.trace_root),
        trace: None,
    };
    Ok(match verify(model, backend, &claim).context("re-executing the job")? {
        Verdict::Pass(_) => (true, [0; 32], "re-execution reproduced the output".to_string()),
        Verdict::Fail(divergence) => {
            let what = divergence.to_string();
            (false, Sha256::digest(what.as_bytes()).into(), what)
        }
    })
}
