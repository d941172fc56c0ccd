use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::MarketPausedSet;
use crate::state::Market;

#[derive(Accounts)]
pub struct MarketSetPaused<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ SpotcheckError::NotMarketAuthority)]
    pub market: Box<Account<'info, Market>>,
}

/// Pauses or unpauses the market. A pause stops new jobs, claims, provider
/// registrations and stakes; jobs in flight settle and stake can still leave,
/// so a pause can never trap anyone's tokens.
pub fn market_set_paused(ctx: Context<MarketSetPaused>, paused: bool) -> Result<()> {
    let market = &mut ctx.accounts.market;
    market.paused = paused;
    market.invariant()?;
    emit!(MarketPausedSet { market: market.key(), paused });
    Ok(())
}
