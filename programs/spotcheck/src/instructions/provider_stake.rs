use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::SpotcheckError;
use crate::events::ProviderStaked;
use crate::state::{Market, Provider};
use crate::token::{TokenTransfer, transfer_in};

#[derive(Accounts)]
pub struct ProviderStake<'info> {
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

    /// The stake wallet's token account the stake comes from.
    #[account(
        mut,
        constraint = source.mint == market.stake_mint @ SpotcheckError::WrongMint,
        constraint = source.owner == stake_wallet.key() @ SpotcheckError::WrongTokenOwner,
    )]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, address = market.stake_vault @ SpotcheckError::WrongVault)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.stake_token_program @ SpotcheckError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl ProviderStake<'_> {
    pub fn validate(&self, amount: u64) -> Result<()> {
        require!(!self.market.paused, SpotcheckError::MarketPaused);
        require!(amount > 0, SpotcheckError::ZeroAmount);
        // What stays staked once pending unstakes leave must reach the minimum:
        // a provider is either properly staked or not staked at all.
        let remaining = self
            .provider
            .staked
            .checked_add(amount)
            .and_then(|total| total.checked_sub(self.provider.pending_unstake))
            .ok_or(SpotcheckError::MathOverflow)?;
        require!(remaining >= self.market.params.min_provider_stake, SpotcheckError::BelowMinStake);
        Ok(())
    }
}

/// Adds stake from the stake wallet's token account to the market's stake vault.
#[access_control(ctx.accounts.validate(amount))]
pub fn provider_stake(ctx: Context<ProviderStake>, amount: u64) -> Result<()> {
    let accounts = &ctx.accounts;
    transfer_in(&TokenTransfer {
        token_program: &accounts.token_program.to_account_info(),
        mint: &accounts.stake_mint.to_account_info(),
        from: &accounts.source.to_account_info(),
        to: &accounts.stake_vault.to_account_info(),
        authority: &accounts.stake_wallet.to_account_info(),
        amount,
        decimals: accounts.stake_mint.decimals,
    })?;

    let provider = &mut ctx.accounts.provider;
    provider.add_stake(amount)?;
    provider.invariant()?;
    ctx.accounts.market.add_staked(amount)?;
    ctx.accounts.market.invariant()?;
    emit!(ProviderStaked { market: provider.market, provider: provider.key(), amount, staked: provider.staked });
    Ok(())
}
