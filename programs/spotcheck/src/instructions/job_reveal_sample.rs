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

/// Permissionless: decides whether the job is re-executed, from the hash of
/// its sample slot mixed with the job's address (see `sampling`).
pub fn job_reveal_sample(ctx: Context<JobRevealSample>) -> Result<()> {
    let job = &mut ctx.accounts.job;
    require!(matches!(job.status, JobStatus::Submitted | JobStatus::Attested), SpotcheckError::WrongJobStatus);
    require!(job.sample == SampleDraw::Pending, SpotcheckError::SampleAlreadyRevealed);
    let now = Clock::get()?.slot;
    require!(now > job.sample_slot, SpotcheckError::SampleSlotNotReached);

    let data = ctx.accounts.slot_hashes.try_borrow_data()?;
    let lookup = sampling::lookup(&data, job.sample_slot)?;
    let job_key = job.key();
    let sampled = sampling::is_sampled(lookup, &job_key, job.terms.sample_rate_bps);
    job.sample = if sampled { SampleDraw::Selected } else { SampleDraw::Skipped };
    emit!(JobSampleRevealed {
        market: job.market,
        job: job_key,
        sampled,
        slot_hash_expired: lookup == SlotHashLookup::Expired,
    });
    Ok(())
}
