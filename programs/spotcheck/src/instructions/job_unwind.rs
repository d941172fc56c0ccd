use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::SpotcheckError;
use crate::events::JobUnwound;
use crate::state::{Job, JobStatus, Market, Provider};
use crate::token::Vault;

#[derive(Accounts)]
pub struct JobUnwind<'info> {
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

    /// The client's payment-token account: the escrow is refunded here.
    #[account(
        mut,
        constraint = client_token.mint == market.payment_mint @ SpotcheckError::WrongMint,
        constraint = client_token.owner == job.client @ SpotcheckError::WrongRecipient,
    )]
    pub client_token: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Where the challenger's bond came from, if there is a challenger: refunded.
    #[account(mut, dup, address = job.challenger_token @ SpotcheckError::WrongRecipient)]
    pub challenger_token: Option<Box<InterfaceAccount<'info, TokenAccount>>>,

    #[account(mut, address = market.escrow_vault @ SpotcheckError::WrongVault)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.payment_mint @ SpotcheckError::WrongMint)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(address = market.payment_token_program @ SpotcheckError::WrongTokenProgram)]
    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl JobUnwind<'_> {
    /// The oracles stayed silent: no attestation quorum by its deadline, or no
    /// verdict quorum on a sampled or challenged job by the verdict deadline.
    pub fn validate(&self) -> Result<()> {
        let job = &self.job;
        let now = Clock::get()?.slot;
        match job.status {
            JobStatus::Submitted => {
                require!(now > job.attestation_deadline()?, SpotcheckError::OraclesNotLate);
            }
            JobStatus::Attested if job.needs_review() => {
                require!(now > job.verdict_deadline()?, SpotcheckError::OraclesNotLate);
            }
            _ => return err!(SpotcheckError::WrongJobStatus),
        }
        require!(!job.is_challenged() || self.challenger_token.is_some(), SpotcheckError::ChallengerAccountsMissing);
        Ok(())
    }
}

/// Permissionless, when the oracle set failed to decide in time: everything
/// goes back without fault to anyone. The client is refunded, a challenger's
/// bond returned, the collateral unlocked; oracle downtime never costs an
/// honest provider or client anything. The job closes.
#[access_control(ctx.accounts.validate())]
pub fn job_unwind(ctx: Context<JobUnwind>) -> Result<()> {
    let job = &ctx.accounts.job;
    let (price, bond, collateral) = (job.price, job.bond, job.collateral);
    let provider = &mut ctx.accounts.provider;
    provider.release_collateral(collateral)?;
    provider.invariant()?;
    ctx.accounts.market.sub_escrowed(price.checked_add(bond).ok_or(SpotcheckError::MathOverflow)?)?;

    let accounts = &ctx.accounts;
    let escrow =
        Vault::new(&accounts.market, &accounts.escrow_vault, &accounts.payment_mint, &accounts.payment_token_program);
    escrow.pay(&accounts.client_token.to_account_info(), price)?;
    if let Some(bond_back) = &accounts.challenger_token {
        escrow.pay(&bond_back.to_account_info(), bond)?;
    }
    emit!(JobUnwound {
        market: accounts.market.key(),
        job: accounts.job.key(),
        provider: accounts.provider.key(),
        refund: price,
        bond_refund: bond,
    });
    Ok(())
}
