use anchor_lang::prelude::*;

use crate::constants::PROVIDER_SEED;
use crate::error::SpotcheckError;
use crate::events::ProviderRegistered;
use crate::state::{Market, Provider, ProviderStatus, validate_endpoint};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct ProviderRegisterArgs {
    /// Hot key the worker daemon signs with; never the stake wallet.
    pub worker: Pubkey,
    /// Base URL where the worker serves outputs.
    pub endpoint: String,
}

#[derive(Accounts)]
pub struct ProviderRegister<'info> {
    /// The cold wallet that will own the stake.
    #[account(mut)]
    pub stake_wallet: Signer<'info>,

    pub market: Box<Account<'info, Market>>,

    #[account(
        init,
        payer = stake_wallet,
        space = 8 + Provider::INIT_SPACE,
        seeds = [PROVIDER_SEED, market.key().as_ref(), stake_wallet.key().as_ref()],
        bump,
    )]
    pub provider: Box<Account<'info, Provider>>,

    pub system_program: Program<'info, System>,
}

impl ProviderRegister<'_> {
    pub fn validate(&self, args: &ProviderRegisterArgs) -> Result<()> {
        require!(!self.market.paused, SpotcheckError::MarketPaused);
        require!(
            args.worker != self.stake_wallet.key() && args.worker != Pubkey::default(),
            SpotcheckError::BadWorkerKey
        );
        validate_endpoint(&args.endpoint)
    }
}

/// Registers a provider: its stake wallet (signer), worker key and endpoint.
/// It claims nothing until it has staked at least the market's minimum.
#[access_control(ctx.accounts.validate(&args))]
pub fn provider_register(ctx: Context<ProviderRegister>, args: ProviderRegisterArgs) -> Result<()> {
    let market = ctx.accounts.market.key();
    let now = Clock::get()?.slot;
    let stake_wallet = ctx.accounts.stake_wallet.key();
    let provider = &mut ctx.accounts.provider;
    provider.set_inner(Provider {
        market,
        stake_wallet,
        worker: args.worker,
        endpoint: args.endpoint,
        staked: 0,
        locked: 0,
        pending_unstake: 0,
        unstake_release_slot: 0,
        jobs_completed: 0,
        jobs_verified: 0,
        jobs_failed: 0,
        jobs_slashed: 0,
        faults: 0,
        status: ProviderStatus::Active,
        registered_slot: now,
        bump: ctx.bumps.provider,
    });
    provider.invariant()?;
    emit!(ProviderRegistered {
        market,
        provider: provider.key(),
        stake_wallet,
        worker: provider.worker,
        endpoint: provider.endpoint.clone(),
    });
    Ok(())
}
