use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::{JobVerdictReached, JobVerdictVoted};
use crate::state::{Job, JobStatus, Market, Tally};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct JobPostVerdictArgs {
    /// Whether the oracle's re-execution reproduced the committed result.
    pub pass: bool,
    /// Hash of the oracle's evidence (e.g. the first divergent token and layer).
    pub evidence_hash: [u8; 32],
}

#[derive(Accounts)]
pub struct JobPostVerdict<'info> {
    /// An oracle of the market's current set.
    pub oracle: Signer<'info>,

    pub market: Box<Account<'info, Market>>,

    #[account(mut, has_one = market @ SpotcheckError::WrongMarket)]
    pub job: Box<Account<'info, Job>>,
}

impl JobPostVerdict<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = &self.job;
        job.require_status(JobStatus::Attested)?;
        require!(job.needs_review(), SpotcheckError::NothingToJudge);
        let now = Clock::get()?.slot;
        require!(now <= job.verdict_deadline()?, SpotcheckError::VoteDeadlinePassed);
        Ok(())
    }
}

/// An oracle's verdict on a sampled or challenged job. A quorum of passes
/// verifies it (`job_settle` pays the provider); a quorum of fails rejects it
/// (`job_slash` slashes the provider).
#[access_control(ctx.accounts.validate())]
pub fn job_post_verdict(ctx: Context<JobPostVerdict>, args: JobPostVerdictArgs) -> Result<()> {
    let market = &ctx.accounts.market;
    let job = &mut ctx.accounts.job;
    let oracle = ctx.accounts.oracle.key();
    let tally = job.votes.cast(market, &oracle, args.pass)?;
    emit!(JobVerdictVoted {
        market: market.key(),
        job: job.key(),
        oracle,
        pass: args.pass,
        evidence_hash: args.evidence_hash,
    });
    let pass = match tally {
        Tally::Undecided => return Ok(()),
        Tally::Yes => true,
        Tally::No => false,
    };
    job.status = if pass { JobStatus::Verified } else { JobStatus::Rejected };
    job.evidence_hash = args.evidence_hash;
    job.invariant()?;
    emit!(JobVerdictReached {
        market: market.key(),
        job: job.key(),
        provider: job.provider,
        pass,
        evidence_hash: args.evidence_hash,
    });
    Ok(())
}
