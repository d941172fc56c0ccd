use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::ProviderEndpointSet;
use crate::state::{Provider, validate_endpoint};

#[derive(Accounts)]
pub struct ProviderSetEndpoint<'info> {
    pub stake_wallet: Signer<'info>,

    #[account(mut, has_one = stake_wallet @ SpotcheckError::NotStakeWallet)]
    pub provider: Box<Account<'info, Provider>>,
}

impl ProviderSetEndpoint<'_> {
    pub fn validate(&self, endpoint: &str) -> Result<()> {
        validate_endpoint(endpoint)
    }
}

/// Moves the provider's output endpoint.
#[access_control(ctx.accounts.validate(&endpoint))]
pub fn provider_set_endpoint(ctx: Context<ProviderSetEndpoint>, endpoint: String) -> Result<()> {
    let provider = &mut ctx.accounts.provider;
    provider.endpoint = endpoint;
    emit!(ProviderEndpointSet {
        market: provider.market,
        provider: provider.key(),
        endpoint: provider.endpoint.clone(),
    });
    Ok(())
}
