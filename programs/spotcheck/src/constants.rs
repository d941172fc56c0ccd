//! Seeds and bounds, in one place: clients derive the same PDAs from these.

use anchor_lang::prelude::*;

/// Market PDA: `[MARKET_SEED, authority, market_id (u64 LE)]`.
#[constant]
pub const MARKET_SEED: &[u8] = b"market";
/// Stake vault (token account of the stake mint, owned by the market PDA): `[STAKE_VAULT_SEED, market]`.
#[constant]
pub const STAKE_VAULT_SEED: &[u8] = b"stake_vault";
/// Escrow vault (token account of the payment mint, owned by the market PDA):
/// holds job escrows and challenge bonds. `[ESCROW_VAULT_SEED, market]`.
#[constant]
pub const ESCROW_VAULT_SEED: &[u8] = b"escrow_vault";

/// Model PDA: `[MODEL_SEED, market, weights_hash]`.
#[constant]
pub const MODEL_SEED: &[u8] = b"model";
/// Provider PDA: `[PROVIDER_SEED, market, stake_wallet]`.
#[constant]
pub const PROVIDER_SEED: &[u8] = b"provider";

/// Longest provider endpoint URL, in bytes.
#[constant]
pub const MAX_ENDPOINT_LEN: u16 = 128;
/// Longest model fetch location, in bytes.
#[constant]
pub const MAX_MODEL_URI_LEN: u16 = 200;
/// Longest model architecture tag (e.g. "llama"), in bytes.
#[constant]
pub const MAX_ARCHITECTURE_LEN: u16 = 16;

/// Basis points in one whole.
pub const BPS_DENOMINATOR: u64 = 10_000;
/// Most oracle keys a market can hold. (Not `#[constant]`: the IDL has no usize.)
pub const MAX_ORACLES: usize = 8;
