use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::MarketUpdated;
use crate::state::{Market, MarketParams};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct MarketUpdateArgs {
    pub params: MarketParams,
}

#[derive(Accounts)]
pub struct MarketUpdate<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ SpotcheckError::NotMarketAuthority)]
    pub market: Box<Account<'info, Market>>,
}

impl MarketUpdate<'_> {
    pub fn validate(&self, args: &MarketUpdateArgs) -> Result<()> {
        args.params.validate()
    }
}

/// Replaces the market's parameters. Jobs already submitted keep the terms
/// they were submitted under.
#[access_control(ctx.accounts.validate(&args))]
pub fn market_update(ctx: Context<MarketUpdate>, args: MarketUpdateArgs) -> Result<()> {
    let market = &mut ctx.accounts.market;
    market.params = args.params;
    market.invariant()?;
    emit!(MarketUpdated { market: market.key(), params: args.params });
    Ok(())
}
