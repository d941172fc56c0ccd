use anchor_lang::prelude::*;

use crate::error::SpotcheckError;
use crate::events::ModelUpdated;
use crate::state::{Market, Model, ModelTerms};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct ModelUpdateArgs {
    pub terms: ModelTerms,
    /// Whether new jobs may be submitted for the model.
    pub active: bool,
}

#[derive(Accounts)]
pub struct ModelUpdate<'info> {
    pub authority: Signer<'info>,

    #[account(has_one = authority @ SpotcheckError::NotMarketAuthority)]
    pub market: Box<Account<'info, Market>>,

    #[account(mut, has_one = market @ SpotcheckError::WrongMarket)]
    pub model: Box<Account<'info, Model>>,
}

impl ModelUpdate<'_> {
    pub fn validate(&self, args: &ModelUpdateArgs) -> Result<()> {
        args.terms.validate()
    }
}

/// Changes a model's price, limits or fetch location, or retires it. Jobs
/// already submitted keep the price they escrowed.
#[access_control(ctx.accounts.validate(&args))]
pub fn model_update(ctx: Context<ModelUpdate>, args: ModelUpdateArgs) -> Result<()> {
    let model = &mut ctx.accounts.model;
    model.price_per_token = args.terms.price_per_token;
    model.max_tokens = args.terms.max_tokens;
    model.uri = args.terms.uri;
    model.active = args.active;
    emit!(ModelUpdated {
        market: model.market,
        model: model.key(),
        price_per_token: model.price_per_token,
        max_tokens: model.max_tokens,
        uri: model.uri.clone(),
        active: model.active,
    });
    Ok(())
}
