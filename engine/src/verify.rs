//! Verification by re-execution: one teacher-forced, batched forward pass
//! over prompt + claimed output checks that every claimed token is the
//! greedy choice, that generation stopped where it had to, and recomputes
//! both commitments. A claimed trace pins the first divergent
//! (position, layer).

use crate::commit::{self, Commitments, Hash, Trace};
pub use crate::divergence::{Divergence, DivergenceKind};
use crate::engine::forward::forward;
use crate::engine::{Backend, KvCache};
use crate::error::{Error, Result};
use crate::generate::check_request;
use crate::model::Model;

/// What a worker claims to have computed.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    pub prompt: &'a [u32],
    /// The generated tokens, EOS included if it was produced.
    pub output: &'a [u32],
    /// The job's token budget.
    pub max_new_tokens: usize,
    pub output_hash: Option<Hash>,
    pub trace_root: Option<Hash>,
    /// All trace leaves, position-major (see [`crate::commit`]).
    pub trace: Option<&'a [Hash]>,
}

impl<'a> Claim<'a> {
    /// A claim of tokens only.
    pub fn tokens(prompt: &'a [u32], output: &'a [u32], max_new_tokens: usize) -> Self {
        Self { prompt, output, max_new_tokens, output_hash: None, trace_root: None, trace: None }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass(Commitments),
    Fail(Divergence),
}

impl Verdict {
    /// Pass -> the commitments; Fail -> [`Error::OutputMismatch`].
    pub fn into_result(self) -> Result<Commitments> {
        match self {
            Verdict::Pass(c) => Ok(c),
            Verdict::Fail(d) => Err(Error::OutputMismatch(d)),
        }
    }
}

fn fail(kind: DivergenceKind, token_index: usize) -> Divergence {
    Divergence { kind, token_index, position: None, layer: None, expected: None, claimed: None }
}

/// The trace generation commits for `output` after `prompt` (one leaf per
/// position and layer, position-major), from one teacher-forced pass over
/// the prompt and every output token but the last: what an oracle compares,
/// leaf by leaf, with a provider's proven leaves to say where a trace that
/// failed first diverged.
pub fn teacher_forced_trace(
    model: &Model,
    be: &dyn Backend,
    prompt: &[u32],
    output: &[u32],
    max_new_tokens: usize,
) -> Result<Trace> {
    let c = model.config();
    check_request(model, prompt, max_new_tokens)?;
    let fed = output.len().saturating_sub(1);
    let mut kv = KvCache::new(c.n_layers, c.kv_dim(), prompt.len() + fed.max(max_new_tokens));
    let mut input = Vec::with_capacity(prompt.len() + fed);
    input.extend_from_slice(prompt);
    input.extend_from_slice(&output[..fed]);
    let mut leaves = Vec::with_capacity(input.len() * c.n_layers);
    forward(&model.weights, be, &mut kv, &input, input.len(), Some(&mut leaves))?;
    Ok(Trace { layers: c.n_layers as u32, leaves })
}

/// Re-executes `claim` on `model` and says whether it holds.
pub fn verify(model: &Model, be: &dyn Backend, claim: &Claim<'_>) -> Result<Verdict> {
    let c = model.config();
    let (prompt, output) = (claim.prompt, claim.output);
    check_request(model, prompt, claim.max_new_tokens)?;
    let p = prompt.len();
    let layers = c.n_layers;

    // Tokens to check: within the budget, and up to the first one outside
    // the vocabulary (which can't be an argmax and can't be fed).
    let mut n_check = output.len().min(claim.max_new_tokens);
    if let Some(i) = output[..n_check].iter().position(|&t| t as usize >= c.vocab_size) {
        n_check = i + 1;
    }
    let fed = n_check.saturating_sub(1);
    if let Some(trace) = claim.trace {
        let expected = (p + output.len().saturating_sub(1)) * layers;
        if trace.len() != expected {
            // A malformed claim is the claimant's fault: a failed verdict
            // an oracle can post, not an error it would have to retry.
            return Ok(Verdict::Fail(fail(DivergenceKind::TraceLength, 0)));
        }
    }

    // ---- One batched, teacher-forced pass over prompt + output[..fed] ----
    let mut kv = KvCache::new(layers, c.kv_dim(), p + claim.max_new_tokens);
    let mut input = Vec::with_capacity(p + fed);
    input.extend_from_slice(prompt);
    input.extend_from_slice(&output[..fed]);
    let mut leaves = Vec::with_capacity(input.len() * layers);
    let logits = forward(&model.weights, be, &mut kv, &input, p - 1, Some(&mut leaves))?;
    let argmax = |row: usize| be.argmax(&logits[row * c.vocab_size..(row + 1) * c.vocab_size]);

    // ---- First divergent trace leaf, if a trace was claimed ----
    let activation = claim.trace.and_then(|claimed| {
        let i = leaves.iter().zip(claimed).position(|(a, b)| a != b)?;
        let (pos, layer) = (i / layers, i % layers);
        Some(Divergence {
            position: Some(pos as u32),
            layer: Some(layer as u32),
            ..fail(DivergenceKind::Activation, (pos + 1).saturating_sub(p))
        })
    });

    // ---- First token that isn't what greedy decoding does ----
    let mut token_fail = None;
    for (i, &claimed) in output[..n_check].iter().enumerate() {
        let expected = argmax(i)?;
        if claimed != expected {
            token_fail = Some(Divergence {
                expected: Some(expected),
                claimed: Some(claimed),
                ..fail(DivergenceKind::NotArgmax, i)
            });
            break;
        }
        if Some(claimed) == c.eos_token && i + 1 < output.len() {
            token_fail = Some(Divergence {
                claimed: output.get(i + 1).copied(),
                ..fail(DivergenceKind::ContinuesAfterStop, i + 1)
            });
            break;
        }
    }
    if token_fail.is_none() {
        let g = output.len();
        if g > claim.max_new_tokens {
            token_fail = Some(Divergence {
                claimed: output.get(claim.max_new_tokens).copied(),
                ..fail(DivergenceKind::OverBudget, claim.max_new_tokens)
            });
        } else if g < claim.max_new_tokens && !(c.eos_token.is_some() && output.last().copied() == c.eos_token) {
            // Stopped early: what should have come next?
            let expected = match output.last() {
                None => argmax(0)?,
                Some(&last) => be.argmax(&forward(&model.weights, be, &mut kv, &[last], 0, None)?)?,
            };
            token_fail = Some(Divergence { expected: Some(expected), ..fail(DivergenceKind::Truncated, g) });
        }
    }

    // The earlier of the two; at the same token the trace is more precise.
    let first = match (activation, token_fail) {
        (Some(a), Some(t)) if t.token_index < a.token_index => Some(t),
        (Some(a), _) => Some(a),
        (None, t) => t,
    };
    if let Some(d) = first {
        return Ok(Verdict::Fail(d));
    }

    let trace = Trace { layers: layers as u32, leaves };
    let prompt_hash = commit::prompt_hash(prompt);
    let commitments = Commitments {
        model_id: model.id,
        prompt_hash,
        output_hash: commit::output_hash(&model.id, &prompt_hash, output),
        trace_root: trace.root(),
    };
    if claim.output_hash.is_some_and(|h| h != commitments.output_hash) {
        return Ok(Verdict::Fail(fail(DivergenceKind::OutputHash, 0)));
    }
    if claim.trace_root.is_some_and(|h| h != commitments.trace_root) {
        return Ok(Verdict::Fail(fail(DivergenceKind::TraceRoot, 0)));
    }
    Ok(Verdict::Pass(commitments))
}
