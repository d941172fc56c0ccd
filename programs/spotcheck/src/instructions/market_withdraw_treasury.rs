use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::SpotcheckError;
use crate::events::TreasuryWithdrawn;
use crate::state::{Market, TreasurySide};
use crate::token::Vault;

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct MarketWithdrawTreasuryArgs {
    /// Payment tokens (fees, failed bonds' shares; from the escrow vault) or
    /// stake tokens (slashed collateral's treasury share; from the stake vault).
    pub side: TreasurySide,
    pub amount: u64,
}

#[derive(Accounts)]
#[instruction(args: MarketWithdrawTreasuryArgs)]
pub struct MarketWithdrawTreasury<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ SpotcheckError::NotMarketAuthority)]
    pub market: Box<Account<'info, Market>>,

    /// The escrow vault for `Payment`, the stake vault for `Stake`.
    #[account(
        mut,
        address = match args.side {
            TreasurySide::Payment => market.escrow_vault,
            TreasurySide::Stake => market.stake_vault,
        } @ SpotcheckError::WrongVault,
    )]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = vault.mint @ SpotcheckError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,

    /// Any token account of that mint: the authority chose it by signing.
    #[account(
        mut,
        constraint = destination.mint == vault.mint @ SpotcheckError::WrongMint,
        constraint = destination.key() != market.escrow_vault && destination.key() != market.stake_vault
            @ SpotcheckError::TreasuryIsVault,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        address = match args.side {
            TreasurySide::Payment => market.payment_token_program,
            TreasurySide::Stake => market.stake_token_program,
        } @ SpotcheckError::WrongTokenProgram,
    )]
    pub token_program: Interface<'info, TokenInterface>,
}

impl MarketWithdrawTreasury<'_> {
    pub fn validate(&self, args: &MarketWithdrawTreasuryArgs) -> Result<()> {
        require!(args.amount > 0, SpotcheckError::ZeroAmount);
        let balance = match args.side {
            TreasurySide::Payment => self.market.treasury_payment,
            TreasurySide::Stake => self.market.treasury_stake,
        };
        require!(args.amount <= balance, SpotcheckError::TreasuryTooSmall);
        Ok(())
    }
}

/// Pays out what the market has earned on one side. Only the treasury's
/// balance can leave this way: escrows, bonds and stakes in the same vaults
/// stay where they are. Allowed while paused.
#[access_control(ctx.accounts.validate(&args))]
pub fn market_withdraw_treasury(ctx: Context<MarketWithdrawTreasury>, args: MarketWithdrawTreasuryArgs) -> Result<()> {
    let market = &mut ctx.accounts.market;
    market.debit_treasury(args.side, args.amount)?;
    market.invariant()?;
    let accounts = &ctx.accounts;
    Vault::new(&accounts.market, &accounts.vault, &accounts.mint, &accounts.token_program)
        .pay(&accounts.destination.to_account_info(), args.amount)?;
    emit!(TreasuryWithdrawn {
        market: accounts.market.key(),
        side: args.side,
        amount: args.amount,
        destination: accounts.destination.key(),
        remaining: match args.side {
            TreasurySide::Payment => accounts.market.treasury_payment,
            TreasurySide::Stake => accounts.market.treasury_stake,
        },
    });
    Ok(())
}
