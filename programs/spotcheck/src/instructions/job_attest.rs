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

/// An oracle's completion proof: `complete` = the output is retrievable from
/// the provider's endpoint and hashes to the commitment; `false` = withheld.
/// A quorum of complete votes attests the job (the challenge window opens); a
/// quorum of withheld votes is a liveness fault, cranked by `job_expire`.
pub fn job_attest(ctx: Context<JobAttest>, complete: bool) -> Result<()> {
    let market = &ctx.accounts.market;
    let job = &mut ctx.accounts.job;
    job.require_status(JobStatus::Submitted)?;
    let now = Clock::get()?.slot;
    require!(now <= job.attestation_deadline()?, SpotcheckError::VoteDeadlinePassed);
    let oracle = ctx.accounts.oracle.key();
    let tally = job.votes.cast(market, &oracle, complete)?;
    emit!(JobAttestVoted { market: market.key(), job: job.key(), oracle, complete });
    match tally {
        Tally::Undecided => {}
        Tally::Yes => {
            job.status = JobStatus::Attested;
            job.attested_slot = now;
            job.votes = Default::default(); // the verdict round starts empty
            emit!(JobAttested {
                market: market.key(),
                job: job.key(),
                challenge_window_end: job.challenge_window_end()?,
            });
        }
        Tally::No => {
            job.status = JobStatus::Withheld;
            emit!(JobWithheld { market: market.key(), job: job.key(), provider: job.provider });
        }
    }
    Ok(())
}
