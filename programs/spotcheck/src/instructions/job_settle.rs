use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::error::SpotcheckError;
use crate::events::JobSettled;
use crate::instructions::job_end::*;
use crate::math::{mul_bps_ceil, share};
use crate::state::{JobStatus, SampleDraw, TreasurySide};

#[derive(Accounts)]
pub struct JobSettle<'info> {
    pub end: JobEnd<'info>,

    /// Any payment-token account owned by the provider's stake wallet.
    #[account(
        mut,
        constraint = provider_payout.mint == end.market.payment_mint @ SpotcheckError::WrongMint,
        constraint = provider_payout.owner == end.provider.stake_wallet @ SpotcheckError::WrongRecipient,
    )]
    pub provider_payout: Box<InterfaceAccount<'info, TokenAccount>>,
}

impl JobSettle<'_> {
    /// Settles once nothing is pending: a verified job at once; an attested
    /// one that was neither sampled nor challenged once its window has closed
    /// and the draw skipped it.
    pub fn validate(&self) -> Result<()> {
        let job = &self.end.job;
        match job.status {
            JobStatus::Verified => Ok(()),
            JobStatus::Attested => {
                require!(!job.needs_review(), SpotcheckError::VerdictPending);
                let now = Clock::get()?.slot;
                require!(now >= job.challenge_window_end()?, SpotcheckError::ChallengeWindowOpen);
                require!(job.sample != SampleDraw::Pending, SpotcheckError::SampleNotRevealed);
                Ok(())
            }
            _ => err!(SpotcheckError::WrongJobStatus),
        }
    }
}

/// Permissionless: pays the provider price − fee (the fee rounds up and stays
/// in the escrow vault as the treasury's), unlocks the collateral, shares a
/// failed challenger's bond between provider and treasury, and closes the job
/// (rent back to the client).
#[access_control(ctx.accounts.validate())]
pub fn job_settle(ctx: Context<JobSettle>) -> Result<()> {
    let job = &ctx.accounts.end.job;
    let fee = mul_bps_ceil(job.price, u64::from(job.terms.fee_bps))?.min(job.price);
    let to_provider = job.price.checked_sub(fee).ok_or(SpotcheckError::MathOverflow)?;
    let bond_to_provider = share(job.bond, job.terms.failed_bond_provider_bps);
    let bond_to_treasury = job.bond.checked_sub(bond_to_provider).ok_or(SpotcheckError::MathOverflow)?;
    let verified = job.status == JobStatus::Verified;
    let collateral = job.collateral;

    let end = &mut ctx.accounts.end;
    let provider = &mut end.provider;
    provider.release_collateral(collateral)?;
    provider.jobs_completed = provider.jobs_completed.saturating_add(1);
    if verified {
        provider.jobs_verified = provider.jobs_verified.saturating_add(1);
    }
    end.release_escrow()?;
    let to_treasury = fee.checked_add(bond_to_treasury).ok_or(SpotcheckError::MathOverflow)?;
    end.market.credit_treasury(TreasurySide::Payment, to_treasury)?;
    end.invariants()?;

    let accounts = &ctx.accounts;
    let to_payout = to_provider.checked_add(bond_to_provider).ok_or(SpotcheckError::MathOverflow)?;
    accounts.end.escrow().pay(&accounts.provider_payout.to_account_info(), to_payout)?;

    emit!(JobSettled {
        market: accounts.end.market.key(),
        job: accounts.end.job.key(),
        provider: accounts.end.provider.key(),
        output_hash: accounts.end.job.output_hash,
        to_provider,
        fee,
        bond_to_provider,
        bond_to_treasury,
        verified,
    });
    Ok(())
}
