//! The accounts every instruction that ends a claimed job needs (`job_settle`,
//! `job_slash`, `job_expire`, `job_unwind`): the market, the job (closed, its
//! rent to the client), the provider, and the escrow side of the market. Each
//! instruction adds its recipients after these.
//!
//! Nobody can block these instructions by what they do to their own accounts:
//! the client's wallet is checked by key and only credited (reassigning or
//! emptying it changes nothing); every token payout goes to *any* token
//! account of the right mint owned by the party it pays (a cranker can open a
//! fresh one if the party closed or froze its own); the treasury's shares stay
//! in the program's vaults (`Market::treasury_*`), so no outside treasury
//! account is touched at all.

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

    /// CHECK: the job's client, checked by key (`has_one = client` on `job`).
    /// Only credited with the job's rent, so it may be owned by any program
    /// by now (a client that reassigned its wallet can't block the ending).
    #[account(mut)]
    pub client: UncheckedAccount<'info>,

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

    /// The invariants of the accounts an ending mutated.
    pub fn invariants(&self) -> Result<()> {
        self.market.invariant()?;
        self.provider.invariant()
    }
}

/// `JobEnd` plus what slashing collateral needs (`job_slash`, `job_expire`):
/// the client's accounts for its refund and compensation, and the stake side
/// of the market.
#[derive(Accounts)]
pub struct JobPenalty<'info> {
    pub end: JobEnd<'info>,

    /// Any payment-token account of the client: the escrow is refunded here.
    #[account(
        mut,
        constraint = client_token.mint == end.market.payment_mint @ SpotcheckError::WrongMint,
        constraint = client_token.owner == end.job.client @ SpotcheckError::WrongRecipient,
    )]
    pub client_token: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Any stake-token account of the client (the same as `client_token` when
    /// the market's mints are the same): its share of the slashed collateral.
    #[account(
        mut,
        dup,
        constraint = client_stake_token.mint == end.market.stake_mint @ SpotcheckError::WrongMint,
        constraint = client_stake_token.owner == end.job.client @ SpotcheckError::WrongRecipient,
    )]
    pub client_stake_token: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, address = end.market.stake_vault @ SpotcheckError::WrongVault)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = end.market.stake_mint @ SpotcheckError::WrongMint)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(address = end.market.stake_token_program @ SpotcheckError::WrongTokenProgram)]
    pub stake_token_program: Interface<'info, TokenInterface>,
}

/// How a slash of a job's collateral is shared out.
#[derive(Clone, Copy, Debug)]
pub struct SlashShares {
    /// Taken out of the provider's stake (at most the collateral; the rest unlocks).
    pub slashed: u64,
    pub to_client: u64,
    pub to_challenger: u64,
    /// What is left: stays in the stake vault as the treasury's.
    pub to_treasury: u64,
}

impl SlashShares {
    /// `slashed` shared out: the client's and challenger's shares round down,
    /// the treasury takes the rest.
    pub fn new(slashed: u64, to_client: u64, to_challenger: u64) -> Result<Self> {
        let to_treasury = slashed
            .checked_sub(to_client)
            .and_then(|rest| rest.checked_sub(to_challenger))
            .ok_or(SpotcheckError::MathOverflow)?;
        Ok(SlashShares { slashed, to_client, to_challenger, to_treasury })
    }
}

impl<'info> JobPenalty<'info> {
    /// The stake vault, ready to pay out.
    pub fn stake(&self) -> Vault<'_, 'info> {
        Vault::new(&self.end.market, &self.stake_vault, &self.stake_mint, &self.stake_token_program)
    }

    /// Books a slash: the provider loses `shares.slashed` from its stake (the
    /// rest of the collateral unlocks), the market from its stake total, the
    /// treasury keeps its share in the stake vault, the escrow and bond leave
    /// the books, and the fault is counted. Returns whether the provider was jailed by it.
    pub fn book_slash(&mut self, shares: &SlashShares) -> Result<bool> {
        let end = &mut self.end;
        let (collateral, max_faults) = (end.job.collateral, end.job.terms.max_faults);
        end.provider.forfeit_collateral(collateral, shares.slashed)?;
        let jailed = end.provider.record_fault(max_faults);
        end.market.sub_staked(shares.slashed)?;
        end.market.credit_treasury(crate::state::TreasurySide::Stake, shares.to_treasury)?;
        end.release_escrow()?;
        end.invariants()?;
        Ok(jailed)
    }

    /// Refunds the client's escrow and pays it `to_client` of the slashed collateral.
    pub fn pay_client(&self, to_client: u64) -> Result<()> {
        self.end.escrow().pay(&self.client_token.to_account_info(), self.end.job.price)?;
        self.stake().pay(&self.client_stake_token.to_account_info(), to_client)
    }
}
