//! `job show <address>` and `job list --market <address> [--status S]`.

use std::fmt;

use anchor_lang::prelude::Pubkey;
use serde::Serialize;
use spotcheck::state::{Job, JobStatus, SampleDraw};
use spotcheck_client::chain::{Chain, filters};
use spotcheck_engine::commit::hex;

use super::{ViewError, name, read, set};
use crate::output::Fields;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobView {
    pub address: String,
    pub market: String,
    pub client: String,
    pub nonce: u64,
    pub status: String,
    pub provider: Option<String>,
    pub model: String,
    pub weights_hash: String,
    pub prompt: String,
    pub token_budget: u32,
    pub price: u64,
    pub collateral: u64,
    pub submitted_slot: u64,
    /// The committed result, once submitted.
    pub output_hash: Option<String>,
    pub trace_root: Option<String>,
    pub token_count: Option<u32>,
    /// `pending`, `skipped` or `selected`.
    pub sample: String,
    pub challenger: Option<String>,
    /// What the job waits for now and the last slot it may happen in.
    pub next: Next,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Next {
    pub waiting_for: &'static str,
    pub until_slot: Option<u64>,
}

impl JobView {
    pub fn new(address: &Pubkey, job: &Job) -> Self {
        let committed = !matches!(job.status, JobStatus::Open | JobStatus::Claimed);
        JobView {
            address: address.to_string(),
            market: job.market.to_string(),
            client: job.client.to_string(),
            nonce: job.nonce,
            status: name(&job.status),
            provider: set(&job.provider),
            model: job.model.to_string(),
            weights_hash: hex(&job.weights_hash),
            prompt: job.prompt.clone(),
            token_budget: job.token_budget,
            price: job.price,
            collateral: job.collateral,
            submitted_slot: job.submitted_slot,
            output_hash: committed.then(|| hex(&job.output_hash)),
            trace_root: committed.then(|| hex(&job.trace_root)),
            token_count: committed.then_some(job.token_count),
            sample: name(&job.sample),
            challenger: set(&job.challenger),
            next: next(job),
        }
    }
}

/// What a job waits for, by its status (the program's deadlines).
fn next(job: &Job) -> Next {
    let (waiting_for, until_slot) = match job.status {
        JobStatus::Open => ("a provider's claim", None),
        JobStatus::Claimed => ("the provider's result", job.result_deadline().ok()),
        JobStatus::Submitted => ("the oracles' attestation", job.attestation_deadline().ok()),
        JobStatus::Withheld => ("job_expire (a liveness fault)", None),
        JobStatus::Attested if job.needs_review() => ("the oracles' verdict", job.verdict_deadline().ok()),
        JobStatus::Attested if job.sample == SampleDraw::Pending => {
            ("the challenge window, then the sampling draw", job.challenge_window_end().ok())
        }
        JobStatus::Attested => ("job_settle", None),
        JobStatus::Verified => ("job_settle", None),
        JobStatus::Rejected => ("job_slash", None),
    };
    Next { waiting_for, until_slot }
}

impl fmt::Display for JobView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let none = || "-".to_string();
        let mut out = Fields { f };
        out.field("Job", &self.address)?;
        out.field("Status", &self.status)?;
        out.field("Market", &self.market)?;
        out.field("Client", format!("{} (nonce {})", self.client, self.nonce))?;
        out.field("Provider", self.provider.clone().unwrap_or_else(none))?;
        out.field("Model", format!("{} (weights {})", self.model, self.weights_hash))?;
        out.field("Prompt", format!("{:?}", self.prompt))?;
        out.field(
            "Budget",
            format!("{} tokens, price {}, collateral {}", self.token_budget, self.price, self.collateral),
        )?;
        out.field("Submitted at slot", self.submitted_slot)?;
        if let (Some(output), Some(root), Some(count)) = (&self.output_hash, &self.trace_root, self.token_count) {
            out.field("Output hash", output)?;
            out.field("Trace root", root)?;
            out.field("Tokens", count)?;
        }
        out.field("Sample", &self.sample)?;
        out.field("Challenger", self.challenger.clone().unwrap_or_else(none))?;
        let until = self.next.until_slot.map(|slot| format!(" (until slot {slot})")).unwrap_or_default();
        out.field("Waiting for", format!("{}{until}", self.next.waiting_for))
    }
}

pub async fn job_show(chain: &dyn Chain, address: &Pubkey) -> Result<JobView, ViewError> {
    let job: Job = read(chain, address, "job").await?;
    Ok(JobView::new(address, &job))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobList {
    pub market: String,
    pub status: Option<String>,
    pub jobs: Vec<JobView>,
}

impl fmt::Display for JobList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let filter = self.status.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
        writeln!(f, "{} job(s) in market {}{filter}", self.jobs.len(), self.market)?;
        for job in &self.jobs {
            let tokens = job.token_count.map(|n| format!("{n} tokens")).unwrap_or_else(|| "-".into());
            writeln!(
                f,
                "{}  {:<9}  {:>6} tokens budget  {:>12}  {}",
                job.address, job.status, job.token_budget, tokens, job.price
            )?;
        }
        Ok(())
    }
}

/// The market's jobs, oldest first; only those in `status` if given.
pub async fn job_list(chain: &dyn Chain, market: &Pubkey, status: Option<JobStatus>) -> Result<JobList, ViewError> {
    // The market itself must exist: an empty list for a wrong address would mislead.
    let _: spotcheck::state::Market = read(chain, market, "market").await?;
    let jobs = filters::jobs(chain, market, status).await?;
    Ok(JobList {
        market: market.to_string(),
        status: status.map(|s| name(&s)),
        jobs: jobs.iter().map(|(address, job)| JobView::new(address, job)).collect(),
    })
}
