use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::SpotcheckError;
use crate::events::{JobExpired, ProviderJailed};
use crate::math::share;
use crate::state::{Job, JobStatus, Market, Provider};
use crate::token::Vault;

#[derive(Accounts)]
pub struct JobExpire<'info> {
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

    /// The client's stake-token account (the same as `client_token` when the
    /// market's mints are the same): its share of the slashed collateral.
    #[account(
        mut,
        dup,
        constraint = client_stake_token.mint == market.stake_mint @ SpotcheckError::WrongMint,
        constraint = client_stake_token.owner == job.client @ SpotcheckError::WrongRecipient,
    )]
    pub client_stake_token: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, dup, address = market.stake_treasury @ SpotcheckError::WrongRecipient)]
    pub stake_treasury: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, address = market.escrow_vault @ SpotcheckError::WrongVault)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, address = market.stake_vault @ SpotcheckError::WrongVault)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.payment_mint @ SpotcheckError::WrongMint)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(address = market.stake_mint @ SpotcheckError::WrongMint)]
    pub stake_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(address = market.payment_token_program @ SpotcheckError::WrongTokenProgram)]
    pub payment_token_program: Interface<'info, TokenInterface>,

    #[account(address = market.stake_token_program @ SpotcheckError::WrongTokenProgram)]
    pub stake_token_program: Interface<'info, TokenInterface>,
}

impl JobExpire<'_> {
    /// A liveness fault: no result by the deadline, or a quorum found the output withheld.
    pub fn validate(&self) -> Result<()> {
        let job = &self.job;
        match job.status {
            JobStatus::Withheld => Ok(()),
            JobStatus::Claimed => {
                let now = Clock::get()?.slot;
                require!(now > job.result_deadline()?, SpotcheckError::ResultDeadlineNotPassed);
                Ok(())
            }
            _ => err!(SpotcheckError::WrongJobStatus),
        }
    }
}

/// Permissionless, on a liveness fault: the client is refunded, the
/// market's liveness share of the collateral is slashed (the client's share to
/// the client, the rest to the treasury), the remainder unlocks; the provider's
/// fault counter goes up. The job closes.
#[access_control(ctx.accounts.validate())]
pub fn job_expire(ctx: Context<JobExpire>) -> Result<()> {
    let job = &ctx.accounts.job;
    let withheld = job.status == JobStatus::Withheld;
    let (price, collateral) = (job.price, job.collateral);
    let slashed = share(collateral, job.terms.liveness_slash_bps);
    let to_client = share(slashed, job.terms.slash_split.client_bps);
    let to_treasury = slashed - to_client;
    let max_faults = job.terms.max_faults;

    let provider = &mut ctx.accounts.provider;
    provider.forfeit_collateral(collateral, slashed)?;
    provider.jobs_failed = provider.jobs_failed.saturating_add(1);
    let jailed = provider.record_fault(max_faults);
    provider.invariant()?;
    let market = &mut ctx.accounts.market;
    market.sub_staked(slashed)?;
    market.sub_escrowed(price)?;

    let accounts = &ctx.accounts;
    Vault::new(&accounts.market, &accounts.escrow_vault, &accounts.payment_mint, &accounts.payment_token_program)
        .pay(&accounts.client_token.to_account_info(), price)?;
    let stake =
        Vault::new(&accounts.market, &accounts.stake_vault, &accounts.stake_mint, &accounts.stake_token_program);
    stake.pay(&accounts.client_stake_token.to_account_info(), to_client)?;
    stake.pay(&accounts.stake_treasury.to_account_info(), to_treasury)?;

    emit!(JobExpired {
        market: accounts.market.key(),
        job: accounts.job.key(),
        provider: accounts.provider.key(),
        withheld,
        refund: price,
        to_client,
        to_treasury,
    });
    if jailed {
        emit!(ProviderJailed {
            market: accounts.market.key(),
            provider: accounts.provider.key(),
            faults: accounts.provider.faults,
        });
    }
    Ok(())
}
