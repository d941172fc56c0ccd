use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::{JobExpired, ProviderJailed};
use crate::instructions::job_end::*;
use crate::math::share;
use crate::state::JobStatus;

#[derive(Accounts)]
pub struct JobExpire<'info> {
    pub penalty: JobPenalty<'info>,
}

impl JobExpire<'_> {
    /// A liveness fault: no result by the deadline, or a quorum found the output withheld.
    pub fn validate(&self) -> Result<()> {
        let job = &self.penalty.end.job;
        match job.status {
            JobStatus::Withheld => Ok(()),
            JobStatus::Claimed => {
                let now = Clock::get()?.slot;
                require!(now > job.result_deadline()?, SpotcheckError::ResultDeadlineNotPassed);
                Ok(())
            }
            _ => err!(SpotcheckError::WrongJobStatus),
        }
    }
}

/// Permissionless, on a liveness fault: the client is refunded, the
/// market's liveness share of the collateral is slashed (the client's share to
/// the client, the rest to the treasury), the remainder unlocks; the provider's
/// fault counter goes up. The job closes.
#[access_control(ctx.accounts.validate())]
pub fn job_expire(ctx: Context<JobExpire>) -> Result<()> {
    let job = &ctx.accounts.penalty.end.job;
    let withheld = job.status == JobStatus::Withheld;
    let slashed = share(job.collateral, job.terms.liveness_slash_bps);
    let to_client = share(slashed, job.terms.slash_split.client_bps);
    let to_treasury = slashed - to_client;

    let jailed = ctx.accounts.penalty.book_slash(slashed)?;
    let provider = &mut ctx.accounts.penalty.end.provider;
    provider.jobs_failed = provider.jobs_failed.saturating_add(1);

    let penalty = &ctx.accounts.penalty;
    penalty.pay_client_and_treasury(to_client, to_treasury)?;
    let end = &penalty.end;
    emit!(JobExpired {
        market: end.market.key(),
        job: end.job.key(),
        provider: end.provider.key(),
        withheld,
        refund: end.job.price,
        to_client,
        to_treasury,
    });
    if jailed {
        emit!(ProviderJailed { market: end.market.key(), provider: end.provider.key(), faults: end.provider.faults });
    }
    Ok(())
}
