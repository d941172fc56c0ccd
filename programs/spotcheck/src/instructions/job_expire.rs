use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::{JobExpired, ProviderJailed};
use crate::instructions::job_end::*;
use crate::math::{share, share_ceil};
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

/// Permissionless, on a liveness fault: the client is refunded, the market's
/// liveness share of the collateral (rounded up, so never zero) is slashed —
/// the client's share to the client, the rest kept as the treasury's — and
/// the remainder unlocks; the provider's fault counter goes up. The job closes.
#[access_control(ctx.accounts.validate())]
pub fn job_expire(ctx: Context<JobExpire>) -> Result<()> {
    let job = &ctx.accounts.penalty.end.job;
    let withheld = job.status == JobStatus::Withheld;
    let slashed = share_ceil(job.collateral, job.terms.liveness_slash_bps);
    let shares = SlashShares::new(slashed, share(slashed, job.terms.slash_split.client_bps), 0)?;

    let jailed = ctx.accounts.penalty.book_slash(&shares)?;
    let provider = &mut ctx.accounts.penalty.end.provider;
    provider.jobs_failed = provider.jobs_failed.saturating_add(1);

    let penalty = &ctx.accounts.penalty;
    penalty.pay_client(shares.to_client)?;
    let end = &penalty.end;
    emit!(JobExpired {
        market: end.market.key(),
        job: end.job.key(),
        provider: end.provider.key(),
        withheld,
        refund: end.job.price,
        slashed,
        to_client: shares.to_client,
        to_treasury: shares.to_treasury,
    });
    if jailed {
        emit!(ProviderJailed { market: end.market.key(), provider: end.provider.key(), faults: end.provider.faults });
    }
    Ok(())
}
