use anchor_lang::prelude::*;

use crate::constants::MODEL_SEED;
use crate::error::SpotcheckError;
use crate::events::ModelRegistered;
use crate::state::{Market, Model, ModelTerms, validate_architecture};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct ModelRegisterArgs {
    /// SHA-256 of the weights file: the model's id.
    pub weights_hash: [u8; 32],
    /// Architecture tag, e.g. "llama".
    pub architecture: String,
    pub terms: ModelTerms,
}

#[derive(Accounts)]
#[instruction(args: ModelRegisterArgs)]
pub struct ModelRegister<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(has_one = authority @ SpotcheckError::NotMarketAuthority)]
    pub market: Box<Account<'info, Market>>,

    #[account(
        init,
        payer = authority,
        space = 8 + Model::INIT_SPACE,
        seeds = [MODEL_SEED, market.key().as_ref(), &args.weights_hash],
        bump,
    )]
    pub model: Box<Account<'info, Model>>,

    pub system_program: Program<'info, System>,
}

impl ModelRegister<'_> {
    pub fn validate(&self, args: &ModelRegisterArgs) -> Result<()> {
        validate_architecture(&args.architecture)?;
        args.terms.validate()
    }
}

/// Registers a model the market serves, priced per token.
#[access_control(ctx.accounts.validate(&args))]
pub fn model_register(ctx: Context<ModelRegister>, args: ModelRegisterArgs) -> Result<()> {
    let market = ctx.accounts.market.key();
    let model = &mut ctx.accounts.model;
    model.set_inner(Model {
        market,
        weights_hash: args.weights_hash,
        architecture: args.architecture,
        price_per_token: args.terms.price_per_token,
        max_tokens: args.terms.max_tokens,
        uri: args.terms.uri,
        active: true,
        bump: ctx.bumps.model,
    });
    emit!(ModelRegistered {
        market,
        model: model.key(),
        weights_hash: model.weights_hash,
        architecture: model.architecture.clone(),
        price_per_token: model.price_per_token,
        max_tokens: model.max_tokens,
        uri: model.uri.clone(),
    });
    Ok(())
}
