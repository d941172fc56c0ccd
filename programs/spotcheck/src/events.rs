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
