use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::error::SpotcheckError;
use crate::events::MarketUpdated;
use crate::state::{Market, MarketParams};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct MarketUpdateArgs {
    pub params: MarketParams,
}

#[derive(Accounts)]
pub struct MarketUpdate<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ SpotcheckError::NotMarketAuthority)]
    pub market: Box<Account<'info, Market>>,

    /// The treasury from now on (pass the current one to keep it).
    #[account(
        constraint = treasury.mint == market.payment_mint @ SpotcheckError::WrongTreasuryMint,
        constraint = treasury.key() != market.escrow_vault @ SpotcheckError::TreasuryIsVault,
        constraint = treasury.key() != market.stake_vault @ SpotcheckError::TreasuryIsVault,
    )]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The stake treasury from now on (pass the current one to keep it).
    #[account(
        constraint = stake_treasury.mint == market.stake_mint @ SpotcheckError::WrongTreasuryMint,
        constraint = stake_treasury.key() != market.stake_vault @ SpotcheckError::TreasuryIsVault,
        constraint = stake_treasury.key() != market.escrow_vault @ SpotcheckError::TreasuryIsVault,
    )]
    pub stake_treasury: Box<InterfaceAccount<'info, TokenAccount>>,
}

impl MarketUpdate<'_> {
    pub fn validate(&self, args: &MarketUpdateArgs) -> Result<()> {
        args.params.validate()
    }
}

/// Replaces the market's parameters and treasuries. Jobs already submitted keep
/// the terms they were submitted under.
#[access_control(ctx.accounts.validate(&args))]
pub fn market_update(ctx: Context<MarketUpdate>, args: MarketUpdateArgs) -> Result<()> {
    let treasury = ctx.accounts.treasury.key();
    let stake_treasury = ctx.accounts.stake_treasury.key();
    let market = &mut ctx.accounts.market;
    market.params = args.params;
    market.treasury = treasury;
    market.stake_treasury = stake_treasury;
    emit!(MarketUpdated { market: market.key(), treasury, stake_treasury, params: args.params });
    Ok(())
}
