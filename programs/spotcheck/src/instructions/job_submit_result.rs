use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::JobResultSubmitted;
use crate::state::{Job, JobStatus, Provider};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct JobSubmitResultArgs {
    /// SHA-256 over (model id, prompt hash, generated tokens); see the engine's README.
    pub output_hash: [u8; 32],
    /// Merkle root over per-(token, layer) activation hashes.
    pub trace_root: [u8; 32],
    /// Tokens generated; at most the job's budget.
    pub token_count: u32,
}

#[derive(Accounts)]
pub struct JobSubmitResult<'info> {
    /// The claiming provider's current worker key.
    pub worker: Signer<'info>,

    #[account(has_one = worker @ SpotcheckError::NotJobWorker)]
    pub provider: Box<Account<'info, Provider>>,

    #[account(mut, has_one = provider @ SpotcheckError::WrongProvider)]
    pub job: Box<Account<'info, Job>>,
}

impl JobSubmitResult<'_> {
    pub fn validate(&self) -> Result<()> {
        self.job.require_status(JobStatus::Claimed)?;
        let now = Clock::get()?.slot;
        require!(now <= self.job.result_deadline()?, SpotcheckError::ResultDeadlinePassed);
        Ok(())
    }
}

/// Commits the result before the deadline. The oracles then check it is
/// served and matches; only after that, and after the challenge window, is the
/// sampling draw fixed.
#[access_control(ctx.accounts.validate())]
pub fn job_submit_result(ctx: Context<JobSubmitResult>, args: JobSubmitResultArgs) -> Result<()> {
    let job = &mut ctx.accounts.job;
    let now = Clock::get()?.slot;
    job.commit_result(args.output_hash, args.trace_root, args.token_count, now)?;
    job.invariant()?;
    emit!(JobResultSubmitted {
        market: job.market,
        job: job.key(),
        provider: job.provider,
        output_hash: job.output_hash,
        trace_root: job.trace_root,
        token_count: job.token_count,
        attestation_deadline: job.attestation_deadline()?,
    });
    Ok(())
}
