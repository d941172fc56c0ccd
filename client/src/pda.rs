//! Program-derived addresses, from the seed constants the program uses.

use anchor_lang::prelude::Pubkey;
use spotcheck::constants::{ESCROW_VAULT_SEED, JOB_SEED, MARKET_SEED, MODEL_SEED, PROVIDER_SEED, STAKE_VAULT_SEED};

pub fn market(authority: &Pubkey, market_id: u64) -> Pubkey {
    Pubkey::find_program_address(&[MARKET_SEED, authority.as_ref(), &market_id.to_le_bytes()], &spotcheck::ID).0
}

pub fn stake_vault(market: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[STAKE_VAULT_SEED, market.as_ref()], &spotcheck::ID).0
}

pub fn escrow_vault(market: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[ESCROW_VAULT_SEED, market.as_ref()], &spotcheck::ID).0
}

pub fn model(market: &Pubkey, weights_hash: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(&[MODEL_SEED, market.as_ref(), weights_hash], &spotcheck::ID).0
}

pub fn provider(market: &Pubkey, stake_wallet: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[PROVIDER_SEED, market.as_ref(), stake_wallet.as_ref()], &spotcheck::ID).0
}

/// A job's address: the market, the submitting client and its nonce. No
/// chain state is read, so clients never race each other for an address.
pub fn job(market: &Pubkey, client: &Pubkey, nonce: u64) -> Pubkey {
    Pubkey::find_program_address(&[JOB_SEED, market.as_ref(), client.as_ref(), &nonce.to_le_bytes()], &spotcheck::ID).0
}
