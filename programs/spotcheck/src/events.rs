//! One event per state change. Services and the app follow these instead of
//! polling accounts.

use anchor_lang::prelude::*;

use crate::state::MarketParams;

#[event]
pub struct MarketCreated {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub market_id: u64,
    pub stake_mint: Pubkey,
    pub payment_mint: Pubkey,
    pub treasury: Pubkey,
    pub params: MarketParams,
}

#[event]
pub struct MarketUpdated {
    pub market: Pubkey,
    pub treasury: Pubkey,
    pub params: MarketParams,
}

#[event]
pub struct MarketPausedSet {
    pub market: Pubkey,
    pub paused: bool,
}

#[event]
pub struct OraclesSet {
    pub market: Pubkey,
    pub oracles: Vec<Pubkey>,
    pub quorum: u8,
    /// `Market::oracle_set_version` after the change.
    pub version: u32,
}

#[event]
pub struct ModelRegistered {
    pub market: Pubkey,
    pub model: Pubkey,
    pub weights_hash: [u8; 32],
    pub architecture: String,
    pub price_per_token: u64,
    pub max_tokens: u32,
    pub uri: String,
}

#[event]
pub struct ModelUpdated {
    pub market: Pubkey,
    pub model: Pubkey,
    pub price_per_token: u64,
    pub max_tokens: u32,
    pub uri: String,
    pub active: bool,
}

#[event]
pub struct ProviderRegistered {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub stake_wallet: Pubkey,
    pub worker: Pubkey,
    pub endpoint: String,
}

#[event]
pub struct ProviderStaked {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub amount: u64,
    /// The provider's stake after this deposit.
    pub staked: u64,
}

#[event]
pub struct ProviderUnstakeRequested {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub amount: u64,
    /// Everything now pending, all released at `release_slot`.
    pub pending_unstake: u64,
    pub release_slot: u64,
}

#[event]
pub struct ProviderWithdrawn {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub amount: u64,
    /// The provider's stake after this withdrawal.
    pub staked: u64,
}

#[event]
pub struct ProviderWorkerRotated {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub old_worker: Pubkey,
    pub new_worker: Pubkey,
}

#[event]
pub struct ProviderEndpointSet {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub endpoint: String,
}
