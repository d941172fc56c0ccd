//! Greedy generation: prefill the prompt (in chunks), then decode one token
//! at a time until EOS or the token budget, committing to the result.

use crate::commit::{self, Commitments, Trace};
use crate::engine::forward::{RunState, forward_into};
use crate::engine::{Backend, KvCache};
use crate::error::{Error, Result};
use crate::model::Model;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenerateParams {
    /// The token budget: at most this many tokens are generated (> 0).
    pub max_new_tokens: usize,
    /// Prompt tokens per prefill batch; 0 = the whole prompt at once. It
    /// changes speed and memory only, never the result.
    pub prefill_chunk: usize,
}

impl GenerateParams {
    pub fn new(max_new_tokens: usize) -> Self {
        Self { max_new_tokens, prefill_chunk: 0 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The model produced its end-of-sequence token (included in `tokens`).
    Eos,
    /// `max_new_tokens` were generated.
    Budget,
}

#[derive(Clone, Debug)]
pub struct Generation {
    pub tokens: Vec<u32>,
    pub stop: StopReason,
    pub commitments: Commitments,
    pub trace: Trace,
}

/// The checks shared by generation and verification.
pub(crate) fn check_request(model: &Model, prompt: &[u32], max_new_tokens: usize) -> Result<()> {
    let c = model.config();
    if prompt.is_empty() {
        return Err(Error::EmptyPrompt);
    }
    if max_new_tokens == 0 {
        return Err(Error::ZeroBudget);
    }
    if prompt.len().saturating_add(max_new_tokens) > c.context_length {
        return Err(Error::ContextOverflow { prompt: prompt.len(), max_new_tokens, context_length: c.context_length });
    }
    if let Some(&id) = prompt.iter().find(|&&t| t as usize >= c.vocab_size) {
        return Err(Error::TokenOutOfRange { id, vocab_size: c.vocab_size });
    }
    Ok(())
}

pub fn generate(model: &Model, be: &dyn Backend, prompt: &[u32], params: &GenerateParams) -> Result<Generation> {
    generate_streaming(model, be, prompt, params, |_| {})
}

/// As [`generate`], calling `on_token` with each token as it is produced.
pub fn generate_streaming(
    model: &Model,
    be: &dyn Backend,
    prompt: &[u32],
    params: &GenerateParams,
    mut on_token: impl FnMut(u32),
) -> Result<Generation> {
    check_request(model, prompt, params.max_new_tokens)?;

    let c = model.config();
    let mut kv = KvCache::new(c.n_layers, c.kv_dim(), prompt.len() + params.max_new_tokens);
    let mut leaves = Vec::with_capacity((prompt.len() + params.max_new_tokens) * c.n_layers);

    let chunk = if params.prefill_chunk == 0 { prompt.len() } else { params.prefill_chunk };
    // One set of buffers for the whole generation: no allocation per token.
    let mut st = RunState::default();
    let n_chunks = prompt.len().div_ceil(chunk);
    for (i, part) in prompt.chunks(chunk).enumerate() {
        let logits_from = if i + 1 == n_chunks { part.len() - 1 } else { part.len() };
        forward_into(&model.weights, be, &mut kv, part, logits_from, Some(&mut leaves), &mut st)?;
    }

    let mut tokens = Vec::with_capacity(params.max_new_tokens);
    let stop = loop {
        let next = be.argmax(st.logits())?;
        tokens.push(next);
        on_token(next);
        if Some(next) == c.eos_token {
            break StopReason::Eos;
        }
        if tokens.len() == params.max_new_tokens {
            break StopReason::Budget;
        }
        forward_into(&model.weights, be, &mut kv, &[next], 0, Some(&mut leaves), &mut st)?;
    };

    let trace = Trace { layers: c.n_layers as u32, leaves };
    let prompt_hash = commit::prompt_hash(prompt);
    let commitments = Commitments {
        model_id: model.id,
        prompt_hash,
        output_hash: commit::output_hash(&model.id, &prompt_hash, &tokens),
        trace_root: trace.root(),
    };
    Ok(Generation { tokens, stop, commitments, trace })
}
