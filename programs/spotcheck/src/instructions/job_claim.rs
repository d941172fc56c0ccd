use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::JobClaimed;
use crate::math::mul_bps_ceil;
use crate::state::{Job, JobStatus, Market, Provider};

#[derive(Accounts)]
pub struct JobClaim<'info> {
    /// The provider's hot worker key.
    pub worker: Signer<'info>,

    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = market @ SpotcheckError::WrongMarket,
        has_one = worker @ SpotcheckError::NotJobWorker,
    )]
    pub provider: Box<Account<'info, Provider>>,

    #[account(mut, has_one = market @ SpotcheckError::WrongMarket)]
    pub job: Box<Account<'info, Job>>,
}

impl JobClaim<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(!self.market.paused, SpotcheckError::MarketPaused);
        self.job.require_status(JobStatus::Open)
    }
}

/// A provider's worker takes an open job, locking collateral = price x the
/// collateral ratio (from the job's terms, rounded up: never less than the
/// market's proof-of-sampling check assumed) out of the provider's free stake.
#[access_control(ctx.accounts.validate())]
pub fn job_claim(ctx: Context<JobClaim>) -> Result<()> {
    let market = &ctx.accounts.market;
    let job = &mut ctx.accounts.job;
    let collateral = mul_bps_ceil(job.price, u64::from(job.terms.collateral_ratio_bps))?;
    let provider = &mut ctx.accounts.provider;
    provider.lock_collateral(collateral, market.params.min_provider_stake)?;
    provider.invariant()?;

    let now = Clock::get()?.slot;
    job.status = JobStatus::Claimed;
    job.provider = provider.key();
    job.collateral = collateral;
    job.claimed_slot = now;
    job.invariant()?;
    emit!(JobClaimed {
        market: market.key(),
        job: job.key(),
        provider: provider.key(),
        worker: provider.worker,
        collateral,
        result_deadline: job.result_deadline()?,
    });
    Ok(())
}
