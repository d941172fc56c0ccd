use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{ESCROW_VAULT_SEED, MARKET_SEED, MAX_ORACLES, STAKE_VAULT_SEED};
use crate::events::MarketCreated;
use crate::state::{Market, MarketParams};
use crate::token::require_plain_mint;

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct MarketCreateArgs {
    /// Any number the authority picks; lets one authority run several markets.
    pub market_id: u64,
    pub params: MarketParams,
}

#[derive(Accounts)]
#[instruction(args: MarketCreateArgs)]
pub struct MarketCreate<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        init,
        payer = authority,
        space = 8 + Market::INIT_SPACE,
        seeds = [MARKET_SEED, authority.key().as_ref(), &args.market_id.to_le_bytes()],
        bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(mint::token_program = stake_token_program)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(mint::token_program = payment_token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(
        init,
        payer = authority,
        seeds = [STAKE_VAULT_SEED, market.key().as_ref()],
        bump,
        token::mint = stake_mint,
        token::authority = market,
        token::token_program = stake_token_program,
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        init,
        payer = authority,
        seeds = [ESCROW_VAULT_SEED, market.key().as_ref()],
        bump,
        token::mint = payment_mint,
        token::authority = market,
        token::token_program = payment_token_program,
    )]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    pub stake_token_program: Interface<'info, TokenInterface>,
    pub payment_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl MarketCreate<'_> {
    pub fn validate(&self, args: &MarketCreateArgs) -> Result<()> {
        args.params.validate()?;
        require_plain_mint(&self.stake_mint.to_account_info())?;
        require_plain_mint(&self.payment_mint.to_account_info())?;
        Ok(())
    }
}

/// Creates a market with its two vaults, which also hold what the market earns
/// (`market_withdraw_treasury`); the authority then adds oracles and models.
#[access_control(ctx.accounts.validate(&args))]
pub fn market_create(ctx: Context<MarketCreate>, args: MarketCreateArgs) -> Result<()> {
    let accounts = &ctx.accounts;
    let market = Market {
        authority: accounts.authority.key(),
        market_id: args.market_id,
        stake_mint: accounts.stake_mint.key(),
        payment_mint: accounts.payment_mint.key(),
        stake_token_program: accounts.stake_token_program.key(),
        payment_token_program: accounts.payment_token_program.key(),
        stake_vault: accounts.stake_vault.key(),
        escrow_vault: accounts.escrow_vault.key(),
        params: args.params,
        oracles: Vec::with_capacity(MAX_ORACLES),
        quorum: 0,
        oracle_set_version: 0,
        paused: false,
        job_count: 0,
        total_staked: 0,
        total_escrowed: 0,
        treasury_payment: 0,
        treasury_stake: 0,
        bump: ctx.bumps.market,
        stake_vault_bump: ctx.bumps.stake_vault,
        escrow_vault_bump: ctx.bumps.escrow_vault,
    };
    emit!(MarketCreated {
        market: accounts.market.key(),
        authority: market.authority,
        market_id: args.market_id,
        stake_mint: market.stake_mint,
        payment_mint: market.payment_mint,
        params: args.params,
    });
    market.invariant()?;
    ctx.accounts.market.set_inner(market);
    Ok(())
}
