use anchor_lang::prelude::*;

use crate::constants::{MAX_ARCHITECTURE_LEN, MAX_MODEL_URI_LEN};
use crate::error::SpotcheckError;

/// A model a market serves. Its id is the SHA-256 of the weights file, so a
/// result can only be verified against exactly these weights.
#[account]
#[derive(InitSpace)]
pub struct Model {
    /// The market this model belongs to.
    pub market: Pubkey,
    /// SHA-256 of the weights file: the model's id, part of the PDA seeds.
    pub weights_hash: [u8; 32],
    /// Architecture tag the engine dispatches on, e.g. "llama".
    #[max_len(MAX_ARCHITECTURE_LEN)]
    pub architecture: String,
    /// Payment tokens per generated token; a job's price is this times its token budget.
    pub price_per_token: u64,
    /// Largest token budget a job on this model may ask for.
    pub max_tokens: u32,
    /// Where providers and oracles fetch the weights (URL or package reference).
    #[max_len(MAX_MODEL_URI_LEN)]
    pub uri: String,
    /// Jobs can be submitted only while set.
    pub active: bool,
    /// PDA bump.
    pub bump: u8,
}

/// The fields of a model the authority chooses, at registration and on update.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ModelTerms {
    pub price_per_token: u64,
    pub max_tokens: u32,
    pub uri: String,
}

impl ModelTerms {
    pub fn validate(&self) -> Result<()> {
        require!(self.price_per_token > 0, SpotcheckError::ZeroModelPrice);
        require!(self.max_tokens > 0, SpotcheckError::ZeroMaxTokens);
        require!(
            !self.uri.is_empty() && self.uri.len() <= usize::from(MAX_MODEL_URI_LEN),
            SpotcheckError::ModelUriLength
        );
        Ok(())
    }
}

/// A tag is 1..=16 bytes of lowercase ASCII letters, digits, '-' or '_'.
pub fn validate_architecture(tag: &str) -> Result<()> {
    require!(
        !tag.is_empty()
            && tag.len() <= usize::from(MAX_ARCHITECTURE_LEN)
            && tag.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'),
        SpotcheckError::BadArchitectureTag
    );
    Ok(())
}
