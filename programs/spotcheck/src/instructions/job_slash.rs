use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::SpotcheckError;
use crate::events::{JobSlashed, ProviderJailed};
use crate::math::share;
use crate::state::{Job, JobStatus, Market, Provider};
use crate::token::Vault;

#[derive(Accounts)]
pub struct JobSlash<'info> {
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
    /// market's mints are the same): compensation out of the collateral.
    #[account(
        mut,
        dup,
        constraint = client_stake_token.mint == market.stake_mint @ SpotcheckError::WrongMint,
        constraint = client_stake_token.owner == job.client @ SpotcheckError::WrongRecipient,
    )]
    pub client_stake_token: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Where the challenger's bond came from, if there is a challenger: refunded.
    #[account(mut, dup, address = job.challenger_token @ SpotcheckError::WrongRecipient)]
    pub challenger_token: Option<Box<InterfaceAccount<'info, TokenAccount>>>,

    /// The challenger's stake-token account, if there is a challenger: its reward.
    #[account(
        mut,
        dup,
        constraint = challenger_stake_token.mint == market.stake_mint @ SpotcheckError::WrongMint,
        constraint = challenger_stake_token.owner == job.challenger @ SpotcheckError::WrongRecipient,
    )]
    pub challenger_stake_token: Option<Box<InterfaceAccount<'info, TokenAccount>>>,

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

/// Permissionless, after a fail verdict: the client gets the escrow back plus
/// compensation, the challenger (if any) its bond back plus a reward, the
/// treasury the rest of the collateral; the provider's fault counter goes up
/// and it is jailed at the market's limit. The job closes.
pub fn job_slash(ctx: Context<JobSlash>) -> Result<()> {
    let job = &ctx.accounts.job;
    job.require_status(JobStatus::Rejected)?;
    let challenged = job.is_challenged();
    require!(
        !challenged || (ctx.accounts.challenger_token.is_some() && ctx.accounts.challenger_stake_token.is_some()),
        SpotcheckError::ChallengerAccountsMissing
    );
    let (price, bond, collateral) = (job.price, job.bond, job.collateral);
    let split = job.terms.slash_split;
    let max_faults = job.terms.max_faults;
    let to_client = share(collateral, split.client_bps);
    let to_challenger = if challenged { share(collateral, split.challenger_bps) } else { 0 };
    let to_treasury = collateral - to_client - to_challenger;

    let provider = &mut ctx.accounts.provider;
    provider.forfeit_collateral(collateral, collateral)?;
    provider.jobs_slashed = provider.jobs_slashed.saturating_add(1);
    let jailed = provider.record_fault(max_faults);
    provider.invariant()?;
    let market = &mut ctx.accounts.market;
    market.sub_staked(collateral)?;
    market.sub_escrowed(price.checked_add(bond).ok_or(SpotcheckError::MathOverflow)?)?;

    let accounts = &ctx.accounts;
    let escrow =
        Vault::new(&accounts.market, &accounts.escrow_vault, &accounts.payment_mint, &accounts.payment_token_program);
    let stake =
        Vault::new(&accounts.market, &accounts.stake_vault, &accounts.stake_mint, &accounts.stake_token_program);
    escrow.pay(&accounts.client_token.to_account_info(), price)?;
    stake.pay(&accounts.client_stake_token.to_account_info(), to_client)?;
    if challenged
        && let (Some(bond_back), Some(reward)) = (&accounts.challenger_token, &accounts.challenger_stake_token)
    {
        escrow.pay(&bond_back.to_account_info(), bond)?;
        stake.pay(&reward.to_account_info(), to_challenger)?;
    }
    stake.pay(&accounts.stake_treasury.to_account_info(), to_treasury)?;

    emit!(JobSlashed {
        market: accounts.market.key(),
        job: accounts.job.key(),
        provider: accounts.provider.key(),
        refund: price,
        to_client,
        to_challenger,
        to_treasury,
        bond_refund: bond,
        evidence_hash: accounts.job.evidence_hash,
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
