use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::SpotcheckError;
use crate::events::JobSettled;
use crate::math::{mul_bps, share};
use crate::state::{Job, JobStatus, Market, Provider, SampleDraw};
use crate::token::Vault;

#[derive(Accounts)]
pub struct JobSettle<'info> {
    #[account(mut)]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        close = client,
        has_one = market @ SpotcheckError::WrongMarket,
        has_one = provider @ SpotcheckError::WrongProvider,
        has_one = client @ SpotcheckError::NotJobClient,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(mut)]
    pub provider: Box<Account<'info, Provider>>,

    /// Gets the job account's rent back.
    #[account(mut)]
    pub client: SystemAccount<'info>,

    /// The provider's payment-token account, owned by its stake wallet.
    #[account(
        mut,
        constraint = provider_payout.mint == market.payment_mint @ SpotcheckError::WrongMint,
        constraint = provider_payout.owner == provider.stake_wallet @ SpotcheckError::WrongRecipient,
    )]
    pub provider_payout: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, dup, address = market.treasury @ SpotcheckError::WrongRecipient)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, address = market.escrow_vault @ SpotcheckError::WrongVault)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.payment_mint @ SpotcheckError::WrongMint)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(address = market.payment_token_program @ SpotcheckError::WrongTokenProgram)]
    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl JobSettle<'_> {
    /// Settles once nothing is pending: a verified job at once; an attested
    /// one that was neither sampled nor challenged once its window has closed.
    pub fn validate(&self) -> Result<()> {
        let job = &self.job;
        match job.status {
            JobStatus::Verified => Ok(()),
            JobStatus::Attested => {
                require!(!job.needs_review(), SpotcheckError::VerdictPending);
                require!(job.sample != SampleDraw::Pending, SpotcheckError::SampleNotRevealed);
                let now = Clock::get()?.slot;
                require!(now >= job.challenge_window_end()?, SpotcheckError::ChallengeWindowOpen);
                Ok(())
            }
            _ => err!(SpotcheckError::WrongJobStatus),
        }
    }
}

/// Permissionless: pays the provider price − fee and the treasury the fee,
/// unlocks the collateral, shares a failed challenger's bond between provider
/// and treasury, and closes the job (rent back to the client).
#[access_control(ctx.accounts.validate())]
pub fn job_settle(ctx: Context<JobSettle>) -> Result<()> {
    let job = &ctx.accounts.job;
    let fee = mul_bps(job.price, u64::from(job.terms.fee_bps))?;
    let to_provider = job.price.checked_sub(fee).ok_or(SpotcheckError::MathOverflow)?;
    let bond_to_provider = share(job.bond, job.terms.failed_bond_provider_bps);
    let bond_to_treasury = job.bond - bond_to_provider;
    let verified = job.status == JobStatus::Verified;
    let (price, bond, collateral) = (job.price, job.bond, job.collateral);

    let provider = &mut ctx.accounts.provider;
    provider.release_collateral(collateral)?;
    provider.jobs_completed = provider.jobs_completed.saturating_add(1);
    if verified {
        provider.jobs_verified = provider.jobs_verified.saturating_add(1);
    }
    provider.invariant()?;
    ctx.accounts.market.sub_escrowed(price.checked_add(bond).ok_or(SpotcheckError::MathOverflow)?)?;

    let accounts = &ctx.accounts;
    let escrow =
        Vault::new(&accounts.market, &accounts.escrow_vault, &accounts.payment_mint, &accounts.payment_token_program);
    let payout = accounts.provider_payout.to_account_info();
    let treasury = accounts.treasury.to_account_info();
    escrow.pay(&payout, to_provider.checked_add(bond_to_provider).ok_or(SpotcheckError::MathOverflow)?)?;
    escrow.pay(&treasury, fee.checked_add(bond_to_treasury).ok_or(SpotcheckError::MathOverflow)?)?;

    emit!(JobSettled {
        market: accounts.market.key(),
        job: accounts.job.key(),
        provider: accounts.provider.key(),
        output_hash: accounts.job.output_hash,
        to_provider,
        fee,
        bond_to_provider,
        bond_to_treasury,
        verified,
    });
    Ok(())
}
