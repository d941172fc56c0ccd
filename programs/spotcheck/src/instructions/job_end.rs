//! The accounts every instruction that ends a claimed job needs (`job_settle`,
//! `job_slash`, `job_expire`, `job_unwind`): the market, the job (closed, its
//! rent to the client), the provider, and the escrow side of the market. Each
//! instruction adds its recipients after these.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::SpotcheckError;
use crate::state::{Job, Market, Provider};
use crate::token::Vault;

#[derive(Accounts)]
pub struct JobEnd<'info> {
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

    #[account(mut, address = market.escrow_vault @ SpotcheckError::WrongVault)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.payment_mint @ SpotcheckError::WrongMint)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(address = market.payment_token_program @ SpotcheckError::WrongTokenProgram)]
    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl<'info> JobEnd<'info> {
    /// The escrow vault, ready to pay out.
    pub fn escrow(&self) -> Vault<'_, 'info> {
        Vault::new(&self.market, &self.escrow_vault, &self.payment_mint, &self.payment_token_program)
    }

    /// Takes the job's escrow and bond off the market's books.
    pub fn release_escrow(&mut self) -> Result<()> {
        let held = self.job.price.checked_add(self.job.bond).ok_or(SpotcheckError::MathOverflow)?;
        self.market.sub_escrowed(held)
    }
}

/// `JobEnd` plus what slashing collateral needs (`job_slash`, `job_expire`):
/// the client's accounts for its refund and compensation, the stake
/// treasury, and the stake side of the market.
#[derive(Accounts)]
pub struct JobPenalty<'info> {
    pub end: JobEnd<'info>,

    /// The client's payment-token account: the escrow is refunded here.
    #[account(
        mut,
        constraint = client_token.mint == end.market.payment_mint @ SpotcheckError::WrongMint,
        constraint = client_token.owner == end.job.client @ SpotcheckError::WrongRecipient,
    )]
    pub client_token: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The client's stake-token account (the same as `client_token` when the
    /// market's mints are the same): its share of the slashed collateral.
    #[account(
        mut,
        dup,
        constraint = client_stake_token.mint == end.market.stake_mint @ SpotcheckError::WrongMint,
        constraint = client_stake_token.owner == end.job.client @ SpotcheckError::WrongRecipient,
    )]
    pub client_stake_token: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, dup, address = end.market.stake_treasury @ SpotcheckError::WrongRecipient)]
    pub stake_treasury: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, address = end.market.stake_vault @ SpotcheckError::WrongVault)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = end.market.stake_mint @ SpotcheckError::WrongMint)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(address = end.market.stake_token_program @ SpotcheckError::WrongTokenProgram)]
    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl<'info> JobPenalty<'info> {
    /// The stake vault, ready to pay out.
    pub fn stake(&self) -> Vault<'_, 'info> {
        Vault::new(&self.end.market, &self.stake_vault, &self.stake_mint, &self.stake_token_program)
    }

    /// Books a slash of `slashed` out of the job's collateral: the provider
    /// loses it from its stake (the rest of the collateral unlocks), the market
    /// from its stake total, the escrow and bond leave the books, and the fault
    /// is counted. Returns whether the provider was jailed by it.
    pub fn book_slash(&mut self, slashed: u64) -> Result<bool> {
        let end = &mut self.end;
        let (collateral, max_faults) = (end.job.collateral, end.job.terms.max_faults);
        end.provider.forfeit_collateral(collateral, slashed)?;
        let jailed = end.provider.record_fault(max_faults);
        end.provider.invariant()?;
        end.market.sub_staked(slashed)?;
        end.release_escrow()?;
        Ok(jailed)
    }

    /// Refunds the client's escrow and pays it `to_client` of the slashed
    /// collateral and the stake treasury `to_treasury`.
    pub fn pay_client_and_treasury(&self, to_client: u64, to_treasury: u64) -> Result<()> {
        self.end.escrow().pay(&self.client_token.to_account_info(), self.end.job.price)?;
        let stake = self.stake();
        stake.pay(&self.client_stake_token.to_account_info(), to_client)?;
        stake.pay(&self.stake_treasury.to_account_info(), to_treasury)
    }
}
