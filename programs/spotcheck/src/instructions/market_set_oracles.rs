use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::OraclesSet;
use crate::state::Market;

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct MarketSetOraclesArgs {
    /// 1 to 8 distinct oracle keys.
    pub oracles: Vec<Pubkey>,
    /// Votes that decide; a strict majority of `oracles`.
    pub quorum: u8,
}

#[derive(Accounts)]
pub struct MarketSetOracles<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ SpotcheckError::NotMarketAuthority)]
    pub market: Box<Account<'info, Market>>,
}

impl MarketSetOracles<'_> {
    pub fn validate(&self, args: &MarketSetOraclesArgs) -> Result<()> {
        Market::check_oracle_set(&args.oracles, args.quorum)
    }
}

/// Replaces the market's oracle set and quorum.
#[access_control(ctx.accounts.validate(&args))]
pub fn market_set_oracles(ctx: Context<MarketSetOracles>, args: MarketSetOraclesArgs) -> Result<()> {
    let market = &mut ctx.accounts.market;
    market.set_oracles(args.oracles, args.quorum)?;
    market.invariant()?;
    emit!(OraclesSet {
        market: market.key(),
        oracles: market.oracles.clone(),
        quorum: market.quorum,
        version: market.oracle_set_version,
    });
    Ok(())
}
