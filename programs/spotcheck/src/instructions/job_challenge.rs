use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::SpotcheckError;
use crate::events::JobChallenged;
use crate::state::{Job, JobStatus, Market};
use crate::token::{TokenTransfer, transfer_in};

#[derive(Accounts)]
pub struct JobChallenge<'info> {
    /// Any wallet; posts the bond.
    pub challenger: Signer<'info>,

    #[account(mut)]
    pub market: Box<Account<'info, Market>>,

    #[account(mut, has_one = market @ SpotcheckError::WrongMarket)]
    pub job: Box<Account<'info, Job>>,

    #[account(address = market.payment_mint @ SpotcheckError::WrongMint)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    /// The challenger's payment-token account the bond comes from (it may come
    /// back to any payment-token account of the challenger's).
    #[account(
        mut,
        constraint = challenger_token.mint == market.payment_mint @ SpotcheckError::WrongMint,
        constraint = challenger_token.owner == challenger.key() @ SpotcheckError::WrongTokenOwner,
    )]
    pub challenger_token: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, address = market.escrow_vault @ SpotcheckError::WrongVault)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.payment_token_program @ SpotcheckError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl JobChallenge<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = &self.job;
        job.require_status(JobStatus::Attested)?;
        require!(!job.is_challenged(), SpotcheckError::AlreadyChallenged);
        let now = Clock::get()?.slot;
        require!(now < job.challenge_window_end()?, SpotcheckError::ChallengeWindowClosed);
        Ok(())
    }
}

/// Disputes an attested result inside the challenge window, posting the job's
/// challenge bond. The oracles must then re-execute it and vote within the
/// verdict timeout from now. The window closes before the sample slot, so a
/// challenger (the provider itself included) never knows the draw.
#[access_control(ctx.accounts.validate())]
pub fn job_challenge(ctx: Context<JobChallenge>) -> Result<()> {
    let bond = ctx.accounts.job.terms.challenge_bond;

    let accounts = &ctx.accounts;
    transfer_in(&TokenTransfer {
        token_program: &accounts.token_program.to_account_info(),
        mint: &accounts.payment_mint.to_account_info(),
        from: &accounts.challenger_token.to_account_info(),
        to: &accounts.escrow_vault.to_account_info(),
        authority: &accounts.challenger.to_account_info(),
        amount: bond,
        decimals: accounts.payment_mint.decimals,
    })?;
    ctx.accounts.market.add_escrowed(bond)?;
    ctx.accounts.market.invariant()?;
    let challenger = ctx.accounts.challenger.key();
    let now = Clock::get()?.slot;
    let job = &mut ctx.accounts.job;
    job.challenge(challenger, bond, now);
    job.invariant()?;
    emit!(JobChallenged {
        market: job.market,
        job: job.key(),
        challenger,
        bond,
        verdict_deadline: job.verdict_deadline()?,
    });
    Ok(())
}
