use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::ProviderUnstakeRequested;
use crate::state::{Market, Provider};

#[derive(Accounts)]
pub struct ProviderRequestUnstake<'info> {
    pub stake_wallet: Signer<'info>,

    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = market @ SpotcheckError::WrongMarket,
        has_one = stake_wallet @ SpotcheckError::NotStakeWallet,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl ProviderRequestUnstake<'_> {
    pub fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, SpotcheckError::ZeroAmount);
        require!(amount <= self.provider.free_stake()?, SpotcheckError::UnstakeExceedsFreeStake);
        Ok(())
    }
}

/// Starts unbonding `amount` of free stake (never locked collateral). It can
/// be withdrawn after the market's unbonding period, which outlasts any job
/// the stake could still be answerable for. Allowed while paused.
#[access_control(ctx.accounts.validate(amount))]
pub fn provider_request_unstake(ctx: Context<ProviderRequestUnstake>, amount: u64) -> Result<()> {
    let now = Clock::get()?.slot;
    let unbonding_slots = ctx.accounts.market.params.unbonding_slots;
    let provider = &mut ctx.accounts.provider;
    provider.request_unstake(amount, now, unbonding_slots)?;
    provider.invariant()?;
    emit!(ProviderUnstakeRequested {
        market: provider.market,
        provider: provider.key(),
        amount,
        pending_unstake: provider.pending_unstake,
        release_slot: provider.unstake_release_slot,
    });
    Ok(())
}
