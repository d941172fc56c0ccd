use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::ProviderWorkerRotated;
use crate::state::Provider;

#[derive(Accounts)]
pub struct ProviderRotateWorker<'info> {
    pub stake_wallet: Signer<'info>,

    #[account(mut, has_one = stake_wallet @ SpotcheckError::NotStakeWallet)]
    pub provider: Box<Account<'info, Provider>>,
}

impl ProviderRotateWorker<'_> {
    pub fn validate(&self, new_worker: &Pubkey) -> Result<()> {
        require!(
            *new_worker != self.provider.worker
                && *new_worker != self.stake_wallet.key()
                && *new_worker != Pubkey::default(),
            SpotcheckError::BadWorkerKey
        );
        Ok(())
    }
}

/// Replaces the worker key (e.g. after the worker host is compromised). Only
/// the cold stake wallet can; the old key can claim and submit nothing after.
#[access_control(ctx.accounts.validate(&new_worker))]
pub fn provider_rotate_worker(ctx: Context<ProviderRotateWorker>, new_worker: Pubkey) -> Result<()> {
    let provider = &mut ctx.accounts.provider;
    let old_worker = provider.worker;
    provider.worker = new_worker;
    emit!(ProviderWorkerRotated { market: provider.market, provider: provider.key(), old_worker, new_worker });
    Ok(())
}
