use anchor_lang::prelude::*;
use solana_sdk_ids::sysvar::slot_hashes;

use crate::error::SpotcheckError;
use crate::events::JobSampleRevealed;
use crate::sampling::{self, SlotHashLookup};
use crate::state::{Job, JobStatus, SampleDraw};

#[derive(Accounts)]
pub struct JobRevealSample<'info> {
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,

    /// CHECK: the SlotHashes sysvar, checked by address; read as raw bytes (see sampling.rs).
    #[account(address = slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
}

impl JobRevealSample<'_> {
    /// Only an attested job has a sample slot, and only once it has passed
    /// does its hash exist.
    pub fn validate(&self) -> Result<()> {
        let job = &self.job;
        job.require_status(JobStatus::Attested)?;
        require!(job.sample == SampleDraw::Pending, SpotcheckError::SampleAlreadyRevealed);
        let now = Clock::get()?.slot;
        require!(now > job.sample_slot, SpotcheckError::SampleSlotNotReached);
        Ok(())
    }
}

/// Permissionless: decides whether the job is re-executed, from the hash of
/// its sample slot (the first slot after the challenge window) mixed with the
/// job's address (see `sampling`). A selected job's verdict clock starts now.
#[access_control(ctx.accounts.validate())]
pub fn job_reveal_sample(ctx: Context<JobRevealSample>) -> Result<()> {
    let job = &mut ctx.accounts.job;
    let now = Clock::get()?.slot;
    let data = ctx.accounts.slot_hashes.try_borrow_data()?;
    let lookup = sampling::lookup(&data, job.sample_slot)?;
    let job_key = job.key();
    let sampled = sampling::is_sampled(lookup, &job_key, job.terms.sample_rate_bps);
    job.record_draw(sampled, now);
    job.invariant()?;
    emit!(JobSampleRevealed {
        market: job.market,
        job: job_key,
        sampled,
        slot_hash_expired: lookup == SlotHashLookup::Expired,
        verdict_deadline: if job.needs_review() { job.verdict_deadline()? } else { 0 },
    });
    Ok(())
}
