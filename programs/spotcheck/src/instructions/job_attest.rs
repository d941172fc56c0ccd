use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::{JobAttestVoted, JobAttested, JobWithheld};
use crate::state::{Job, JobStatus, Market, Tally};

#[derive(Accounts)]
pub struct JobAttest<'info> {
    /// An oracle of the market's current set.
    pub oracle: Signer<'info>,

    pub market: Box<Account<'info, Market>>,

    #[account(mut, has_one = market @ SpotcheckError::WrongMarket)]
    pub job: Box<Account<'info, Job>>,
}

impl JobAttest<'_> {
    pub fn validate(&self) -> Result<()> {
        self.job.require_status(JobStatus::Submitted)?;
        let now = Clock::get()?.slot;
        require!(now <= self.job.attestation_deadline()?, SpotcheckError::VoteDeadlinePassed);
        Ok(())
    }
}

/// An oracle's completion proof: `complete` = the output is retrievable from
/// the provider's endpoint and hashes to the commitment; `false` = withheld.
/// A quorum of complete votes attests the job: the challenge window opens and
/// the sample slot is fixed at its end, so the provider has committed to
/// serving (or not) before anybody can know the draw. A quorum of withheld
/// votes is a liveness fault, cranked by `job_expire`.
#[access_control(ctx.accounts.validate())]
pub fn job_attest(ctx: Context<JobAttest>, complete: bool) -> Result<()> {
    let market = &ctx.accounts.market;
    let job = &mut ctx.accounts.job;
    let now = Clock::get()?.slot;
    let oracle = ctx.accounts.oracle.key();
    let tally = job.votes.cast(market, &oracle, complete)?;
    emit!(JobAttestVoted { market: market.key(), job: job.key(), oracle, complete });
    match tally {
        Tally::Undecided => {}
        Tally::Yes => {
            job.attest(now)?;
            emit!(JobAttested {
                market: market.key(),
                job: job.key(),
                challenge_window_end: job.challenge_window_end()?,
                sample_slot: job.sample_slot,
            });
        }
        Tally::No => {
            job.status = JobStatus::Withheld;
            emit!(JobWithheld { market: market.key(), job: job.key(), provider: job.provider });
        }
    }
    job.invariant()
}
