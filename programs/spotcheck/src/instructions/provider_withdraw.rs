use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::SpotcheckError;
use crate::events::ProviderWithdrawn;
use crate::state::{Market, Provider};
use crate::token::{TokenTransfer, transfer_out};

#[derive(Accounts)]
pub struct ProviderWithdraw<'info> {
    pub stake_wallet: Signer<'info>,

    #[account(mut)]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = market @ SpotcheckError::WrongMarket,
        has_one = stake_wallet @ SpotcheckError::NotStakeWallet,
    )]
    pub provider: Box<Account<'info, Provider>>,

    #[account(address = market.stake_mint @ SpotcheckError::WrongMint)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    /// Any token account of the stake mint; the stake wallet chose it by signing.
    #[account(
        mut,
        constraint = destination.mint == market.stake_mint @ SpotcheckError::WrongMint,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, address = market.stake_vault @ SpotcheckError::WrongVault)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.stake_token_program @ SpotcheckError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl ProviderWithdraw<'_> {
    pub fn validate(&self) -> Result<()> {
        let provider = &self.provider;
        require!(provider.pending_unstake > 0, SpotcheckError::NothingToWithdraw);
        require!(Clock::get()?.slot >= provider.unstake_release_slot, SpotcheckError::StillUnbonding);
        Ok(())
    }
}

/// Pays out the whole pending unstake once its unbonding period has passed.
/// Allowed while paused: a pause never traps stake.
#[access_control(ctx.accounts.validate())]
pub fn provider_withdraw(ctx: Context<ProviderWithdraw>) -> Result<()> {
    let now = Clock::get()?.slot;
    let amount = ctx.accounts.provider.withdraw(now)?;
    ctx.accounts.provider.invariant()?;
    ctx.accounts.market.sub_staked(amount)?;
    ctx.accounts.market.invariant()?;

    let accounts = &ctx.accounts;
    accounts.market.with_signer(|signer| {
        transfer_out(
            &TokenTransfer {
                token_program: &accounts.token_program.to_account_info(),
                mint: &accounts.stake_mint.to_account_info(),
                from: &accounts.stake_vault.to_account_info(),
                to: &accounts.destination.to_account_info(),
                authority: &accounts.market.to_account_info(),
                amount,
                decimals: accounts.stake_mint.decimals,
            },
            signer,
        )
    })?;
    emit!(ProviderWithdrawn {
        market: accounts.market.key(),
        provider: accounts.provider.key(),
        amount,
        staked: accounts.provider.staked,
    });
    Ok(())
}
