use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::SpotcheckError;
use crate::events::JobCancelled;
use crate::state::{Job, JobStatus, Market};
use crate::token::Vault;

#[derive(Accounts)]
pub struct JobCancel<'info> {
    /// Only the client; gets the escrow and the rent back.
    #[account(mut)]
    pub client: Signer<'info>,

    #[account(mut)]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        close = client,
        has_one = market @ SpotcheckError::WrongMarket,
        has_one = client @ SpotcheckError::NotJobClient,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(address = market.payment_mint @ SpotcheckError::WrongMint)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    /// Where the refund goes: any payment-token account of the client.
    #[account(
        mut,
        constraint = client_token.mint == market.payment_mint @ SpotcheckError::WrongMint,
        constraint = client_token.owner == client.key() @ SpotcheckError::WrongRecipient,
    )]
    pub client_token: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, address = market.escrow_vault @ SpotcheckError::WrongVault)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.payment_token_program @ SpotcheckError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl JobCancel<'_> {
    pub fn validate(&self) -> Result<()> {
        self.job.require_status(JobStatus::Open)
    }
}

/// Cancels a job no provider has claimed: the whole escrow and the rent go back.
/// Allowed while paused.
#[access_control(ctx.accounts.validate())]
pub fn job_cancel(ctx: Context<JobCancel>) -> Result<()> {
    let price = ctx.accounts.job.price;
    ctx.accounts.market.sub_escrowed(price)?;
    ctx.accounts.market.invariant()?;
    let accounts = &ctx.accounts;
    Vault::new(&accounts.market, &accounts.escrow_vault, &accounts.payment_mint, &accounts.token_program)
        .pay(&accounts.client_token.to_account_info(), price)?;
    emit!(JobCancelled { market: accounts.market.key(), job: accounts.job.key(), refund: price });
    Ok(())
}
