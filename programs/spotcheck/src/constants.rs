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

/// Job PDA: `[JOB_SEED, market, client, nonce (u64 LE)]`. The client picks the
/// nonce, so a job's address depends on no shared counter: many clients can
/// build submissions from the same chain state and all of them land.
#[constant]
pub const JOB_SEED: &[u8] = b"job";

/// Longest inline prompt, in bytes: a job_submit transaction must fit Solana's
/// 1232-byte packet with its accounts and signature.
#[constant]
pub const MAX_PROMPT_LEN: u16 = 512;
/// Longest any one phase of a job may last (claim timeout, attestation
/// deadline, challenge window, verdict timeout): 7 days of 400 ms slots. A
/// bound, so an authority can't set terms that trap escrow or collateral for ages.
#[constant]
pub const MAX_PHASE_SLOTS: u64 = 1_512_000;
/// Longest unbonding period: 30 days of 400 ms slots, so an authority can't
/// trap providers' free stake (an unbonding period of 2^63 slots would).
#[constant]
pub const MAX_UNBONDING_SLOTS: u64 = 6_480_000;

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
