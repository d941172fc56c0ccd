//! Spotcheck: an inference market where jobs are paid from escrow, providers
//! put stake behind every job, and any result can be spot-checked.
//! `lib.rs` only dispatches; each instruction lives in `instructions/`.

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod state;
pub mod token;

#[cfg(spotcheck_upstream_sbf)]
mod svm_mem;

use instructions::*;

declare_id!("AqZAGvSDPyK8LCFL7eMm8uqjLBNN3gm7qRtaq3ra3kU3");

#[program]
pub mod spotcheck {
    use super::*;

    /// Creates a market, its stake and escrow vaults, and checks its parameters.
    pub fn market_create(ctx: Context<MarketCreate>, args: MarketCreateArgs) -> Result<()> {
        instructions::market_create(ctx, args)
    }
}
