//! The job protocol, version 2 (`spotcheck/job/v2`): the rules every party —
//! a provider's worker, each oracle, a verifier, the demo — applies to a job
//! read from the chain, so that they agree on it bit for bit:
//!
//! 1. **Model input** ([`Job::prompt_tokens`]). The job names its model by
//!    `weights_hash`, the model id (SHA-256 of the weights file); a model
//!    with any other id is refused ([`Error::WrongModel`]). The job's
//!    `prompt` (the client's UTF-8 text, stored inline on-chain) is the
//!    content of one `user` message, rendered with the model's ChatML chat
//!    template — which inserts the template's default system message and
//!    ends with `<|im_start|>assistant\n` — and the rendered text is
//!    tokenized by the model's byte-level BPE, no BOS, control-token text
//!    anywhere in it (e.g. `<|im_end|>` written by the client) becoming the
//!    control token, as in the reference tokenizers. The prompt hash is
//!    [`commit::prompt_hash`] of these ids.
//! 2. **Output** ([`Job::run`]). Greedy decoding of at most `token_budget`
//!    tokens, stopping after EOS (included). The provider commits (with
//!    `job_submit_result`) the output hash [`commit::output_hash`]`(model
//!    id, prompt hash, generated ids)`, the trace root and the token count.
//! 3. **Completion check** ([`Job::check_served`], what `job_attest`
//!    votes on). The ids a provider serves are complete when their count is
//!    the committed count, within the budget, every id is in the model's
//!    vocabulary, and they hash (rule 2) to the committed output hash.
//! 4. **Re-execution** ([`Job::re_execute`], what `job_post_verdict` votes
//!    on). [`verify()`] over the served ids with the committed output hash
//!    and trace root: one teacher-forced pass that passes or names the first
//!    divergence.
//! 5. **Evidence** ([`JobVerdict::encode`], [`JobVerdict::evidence_hash`]).
//!    Every integer little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 22 | [`EVIDENCE_TAG`], `"spotcheck/evidence/v2\0"` |
//! | 32 | model id |
//! | 32 | prompt hash (rule 1) |
//! | 4 | u32 token budget |
//! | 32 | the committed output hash |
//! | 32 | the committed trace root |
//! | 1 | outcome: 0 = pass, 1 = fail; on a pass the record ends here |
//! | 1 | divergence kind: 1 Activation, 2 NotArgmax, 3 ContinuesAfterStop, 4 Truncated, 5 OverBudget, 6 OutputHash, 7 TraceRoot, 8 TraceLength (v2) |
//! | 4 | u32 index of the first affected generated token |
//! | 1 or 5 | trace position: 0 (none), or 1 then u32 |
//! | 1 or 5 | trace layer: the same |
//! | 1 or 5 | the token re-execution chose there: the same |
//! | 1 or 5 | the claimed token there: the same |
//!
//!    The evidence hash posted on-chain is SHA-256 of those bytes. It binds
//!    the verdict to the job's work (model, prompt, budget, commitments), and
//!    honest oracles, re-executing the same bits, post the same hash.
//!
//! A change to any rule — the rendering, a check, a byte of the evidence —
//! is a new version, with new tags; a v2 party must never judge by other rules.

use sha2::{Digest, Sha256};

use crate::commit::{self, Hash};
use crate::divergence::{Divergence, DivergenceKind};
use crate::engine::Backend;
use crate::error::{Error, Result};
use crate::generate::{GenerateParams, generate};
use crate::model::Model;
use crate::tokenizer::Message;
use crate::verify::{Claim, Verdict, verify};

/// The name of these rules, for logs and protocol negotiation.
pub const JOB_PROTOCOL: &str = "spotcheck/job/v2";
/// The domain tag that starts every v2 evidence record.
pub const EVIDENCE_TAG: &[u8] = b"spotcheck/evidence/v2\0";

/// A job as the chain holds it: what running or checking it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job<'a> {
    /// The job's `weights_hash`: the id of the model it must run on.
    pub model_id: Hash,
    /// The job's `prompt`: the client's text.
    pub prompt: &'a str,
    /// The job's `token_budget`: most tokens the provider may generate.
    pub token_budget: u32,
}

/// What a provider computed: the ids it serves and the commitments it
/// submits with `job_submit_result` (output hash, trace root, token count).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobOutput {
    /// The generated ids, EOS included when produced.
    pub tokens: Vec<u32>,
    pub output_hash: Hash,
    pub trace_root: Hash,
}

impl JobOutput {
    /// The token count `job_submit_result` commits.
    pub fn token_count(&self) -> u32 {
        // At most the budget, a u32 (generation stops there).
        self.tokens.len() as u32
    }
}

/// The outcome of the completion check (rule 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// The served ids are the committed output.
    Complete,
    /// They are not: the committed output was not delivered.
    Mismatch(ServedMismatch),
}

/// Why served ids are not the committed output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServedMismatch {
    #[error("{served} tokens served, {committed} committed")]
    TokenCount { served: usize, committed: u32 },
    #[error("{served} tokens served, over the job's budget of {budget}")]
    OverBudget { served: usize, budget: u32 },
    #[error("served token {index} is {id}, outside the vocabulary of {vocab_size}")]
    TokenOutOfRange { index: usize, id: u32, vocab_size: usize },
    #[error("the served tokens do not hash to the committed output hash")]
    OutputHash,
}

/// An oracle's finding on a sampled or challenged job (rules 4 and 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobVerdict {
    pub model_id: Hash,
    pub prompt_hash: Hash,
    pub token_budget: u32,
    /// The commitments re-execution checked: the job's output hash and trace root.
    pub output_hash: Hash,
    pub trace_root: Hash,
    /// None: re-execution reproduced the commitments (pass).
    pub divergence: Option<Divergence>,
}

impl JobVerdict {
    /// Whether the provider's result holds (the vote of `job_post_verdict`).
    pub fn passed(&self) -> bool {
        self.divergence.is_none()
    }

    /// The evidence record, byte for byte as in the module docs.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(EVIDENCE_TAG.len() + 4 * 32 + 4 + 1 + 1 + 4 + 4 * 5);
        out.extend_from_slice(EVIDENCE_TAG);
        out.extend_from_slice(&self.model_id);
        out.extend_from_slice(&self.prompt_hash);
        out.extend_from_slice(&self.token_budget.to_le_bytes());
        out.extend_from_slice(&self.output_hash);
        out.extend_from_slice(&self.trace_root);
        let Some(d) = &self.divergence else {
            out.push(0);
            return out;
        };
        out.push(1);
        out.push(kind_code(d.kind));
        // At most max(served, budget); saturating keeps even an absurd
        // served length encodable, identically for every oracle.
        out.extend_from_slice(&u32::try_from(d.token_index).unwrap_or(u32::MAX).to_le_bytes());
        for field in [d.position, d.layer, d.expected, d.claimed] {
            match field {
                None => out.push(0),
                Some(v) => {
                    out.push(1);
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        out
    }

    /// SHA-256 of [`JobVerdict::encode`]: the `evidence_hash` posted on-chain.
    pub fn evidence_hash(&self) -> Hash {
        Sha256::digest(self.encode()).into()
    }
}

/// The code of each divergence kind (an exhaustive match: a new kind
/// cannot be added without choosing its code).
fn kind_code(kind: DivergenceKind) -> u8 {
    match kind {
        DivergenceKind::Activation => 1,
        DivergenceKind::NotArgmax => 2,
        DivergenceKind::ContinuesAfterStop => 3,
        DivergenceKind::Truncated => 4,
        DivergenceKind::OverBudget => 5,
        DivergenceKind::OutputHash => 6,
        DivergenceKind::TraceRoot => 7,
        DivergenceKind::TraceLength => 8,
    }
}

impl Job<'_> {
    /// Rule 1: the model input, on the job's own model.
    pub fn prompt_tokens(&self, model: &Model) -> Result<Vec<u32>> {
        if model.id != self.model_id {
            return Err(Error::WrongModel { job: self.model_id, loaded: model.id });
        }
        model.tokenizer()?.encode_chat(&[Message::new("user", self.prompt)])
    }

    /// Rule 1, and whether the job can run at all: its model input, refused
    /// (as [`Job::run`] would refuse it) when it is empty or does not fit the
    /// model's context with the whole token budget, or the budget is zero.
    /// What a provider checks before it claims a job.
    pub fn check(&self, model: &Model) -> Result<Vec<u32>> {
        let prompt = self.prompt_tokens(model)?;
        crate::generate::check_request(model, &prompt, self.token_budget as usize)?;
        Ok(prompt)
    }

    /// Rule 1's prompt hash.
    pub fn prompt_hash(&self, model: &Model) -> Result<Hash> {
        Ok(commit::prompt_hash(&self.prompt_tokens(model)?))
    }

    /// Rule 2's output hash of `tokens` as this job's output.
    pub fn output_hash(&self, model: &Model, tokens: &[u32]) -> Result<Hash> {
        Ok(commit::output_hash(&model.id, &self.prompt_hash(model)?, tokens))
    }

    /// Rule 2, the honest provider's work: generate and commit.
    pub fn run(&self, model: &Model, backend: &dyn Backend) -> Result<JobOutput> {
        let prompt = self.prompt_tokens(model)?;
        let generation = generate(model, backend, &prompt, &GenerateParams::new(self.token_budget as usize))?;
        Ok(JobOutput {
            tokens: generation.tokens,
            output_hash: generation.commitments.output_hash,
            trace_root: generation.commitments.trace_root,
        })
    }

    /// Rule 3: are the `served` ids the output committed as
    /// (`output_hash`, `token_count`)? An error means the check could not be
    /// made (the wrong model loaded, no tokenizer), not that it failed.
    pub fn check_served(
        &self,
        model: &Model,
        output_hash: &Hash,
        token_count: u32,
        served: &[u32],
    ) -> Result<Completion> {
        let prompt_hash = self.prompt_hash(model)?;
        let mismatch = if served.len() != token_count as usize {
            Some(ServedMismatch::TokenCount { served: served.len(), committed: token_count })
        } else if served.len() > self.token_budget as usize {
            Some(ServedMismatch::OverBudget { served: served.len(), budget: self.token_budget })
        } else if let Some((index, &id)) =
            served.iter().enumerate().find(|(_, id)| **id as usize >= model.config().vocab_size)
        {
            Some(ServedMismatch::TokenOutOfRange { index, id, vocab_size: model.config().vocab_size })
        } else if commit::output_hash(&model.id, &prompt_hash, served) != *output_hash {
            Some(ServedMismatch::OutputHash)
        } else {
            None
        };
        Ok(mismatch.map_or(Completion::Complete, Completion::Mismatch))
    }

    /// The trace an honest provider commits for `served` as this job's
    /// output ([`crate::verify::teacher_forced_trace`]): not part of the
    /// verdict, but where a failed one says which leaf first differs.
    pub fn trace(&self, model: &Model, backend: &dyn Backend, served: &[u32]) -> Result<commit::Trace> {
        let prompt = self.prompt_tokens(model)?;
        crate::verify::teacher_forced_trace(model, backend, &prompt, served, self.token_budget as usize)
    }

    /// Rules 4 and 5: re-executes the `served` ids against the committed
    /// `output_hash` and `trace_root`, and returns the verdict with its
    /// evidence.
    pub fn re_execute(
        &self,
        model: &Model,
        backend: &dyn Backend,
        output_hash: &Hash,
        trace_root: &Hash,
        served: &[u32],
    ) -> Result<JobVerdict> {
        let prompt = self.prompt_tokens(model)?;
        let claim = Claim {
            prompt: &prompt,
            output: served,
            max_new_tokens: self.token_budget as usize,
            output_hash: Some(*output_hash),
            trace_root: Some(*trace_root),
            trace: None,
        };
        let divergence = match verify(model, backend, &claim)? {
            Verdict::Pass(_) => None,
            Verdict::Fail(d) => Some(d),
        };
        Ok(JobVerdict {
            model_id: model.id,
            prompt_hash: commit::prompt_hash(&prompt),
            token_budget: self.token_budget,
            output_hash: *output_hash,
            trace_root: *trace_root,
            divergence,
        })
    }
}
