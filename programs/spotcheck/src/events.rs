//! One event per state change. Services and the app follow these instead of
//! polling accounts.

use anchor_lang::prelude::*;

use crate::state::{MarketParams, TreasurySide};

#[event]
pub struct MarketCreated {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub market_id: u64,
    pub stake_mint: Pubkey,
    pub payment_mint: Pubkey,
    pub params: MarketParams,
}

#[event]
pub struct MarketUpdated {
    pub market: Pubkey,
    pub params: MarketParams,
}

#[event]
pub struct TreasuryWithdrawn {
    pub market: Pubkey,
    pub side: TreasurySide,
    pub amount: u64,
    pub destination: Pubkey,
    /// The treasury's balance on that side after the withdrawal.
    pub remaining: u64,
}

#[event]
pub struct MarketPausedSet {
    pub market: Pubkey,
    pub paused: bool,
}

#[event]
pub struct OraclesSet {
    pub market: Pubkey,
    pub oracles: Vec<Pubkey>,
    pub quorum: u8,
    /// `Market::oracle_set_version` after the change.
    pub version: u32,
}

#[event]
pub struct ModelRegistered {
    pub market: Pubkey,
    pub model: Pubkey,
    pub weights_hash: [u8; 32],
    pub architecture: String,
    pub price_per_token: u64,
    pub max_tokens: u32,
    pub uri: String,
}

#[event]
pub struct ModelUpdated {
    pub market: Pubkey,
    pub model: Pubkey,
    pub price_per_token: u64,
    pub max_tokens: u32,
    pub uri: String,
    pub active: bool,
}

#[event]
pub struct ProviderRegistered {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub stake_wallet: Pubkey,
    pub worker: Pubkey,
    pub endpoint: String,
}

#[event]
pub struct ProviderStaked {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub amount: u64,
    /// The provider's stake after this deposit.
    pub staked: u64,
}

#[event]
pub struct ProviderUnstakeRequested {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub amount: u64,
    /// Everything now pending, all released at `release_slot`.
    pub pending_unstake: u64,
    pub release_slot: u64,
}

#[event]
pub struct ProviderWithdrawn {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub amount: u64,
    /// The provider's stake after this withdrawal.
    pub staked: u64,
}

#[event]
pub struct ProviderWorkerRotated {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub old_worker: Pubkey,
    pub new_worker: Pubkey,
}

#[event]
pub struct ProviderEndpointSet {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub endpoint: String,
}

#[event]
pub struct JobSubmitted {
    pub market: Pubkey,
    pub job: Pubkey,
    pub client: Pubkey,
    pub nonce: u64,
    pub model: Pubkey,
    pub weights_hash: [u8; 32],
    pub prompt_hash: [u8; 32],
    pub token_budget: u32,
    pub price: u64,
}

#[event]
pub struct JobCancelled {
    pub market: Pubkey,
    pub job: Pubkey,
    pub refund: u64,
}

#[event]
pub struct JobClaimed {
    pub market: Pubkey,
    pub job: Pubkey,
    pub provider: Pubkey,
    pub worker: Pubkey,
    pub collateral: u64,
    /// Last slot the result may be submitted in.
    pub result_deadline: u64,
}

#[event]
pub struct JobResultSubmitted {
    pub market: Pubkey,
    pub job: Pubkey,
    pub provider: Pubkey,
    pub output_hash: [u8; 32],
    pub trace_root: [u8; 32],
    pub token_count: u32,
    /// Last slot the oracles may attest in.
    pub attestation_deadline: u64,
}

#[event]
pub struct JobAttestVoted {
    pub market: Pubkey,
    pub job: Pubkey,
    pub oracle: Pubkey,
    pub complete: bool,
}

#[event]
pub struct JobAttested {
    pub market: Pubkey,
    pub job: Pubkey,
    /// First slot after the challenge window.
    pub challenge_window_end: u64,
    /// Its hash decides the draw; `job_reveal_sample` can run once it has passed.
    pub sample_slot: u64,
}

#[event]
pub struct JobWithheld {
    pub market: Pubkey,
    pub job: Pubkey,
    pub provider: Pubkey,
}

#[event]
pub struct JobSampleRevealed {
    pub market: Pubkey,
    pub job: Pubkey,
    pub sampled: bool,
    /// The slot hash had aged out of SlotHashes, so the job counts as sampled.
    pub slot_hash_expired: bool,
    /// Last slot a verdict may land in, when one is needed (else 0).
    pub verdict_deadline: u64,
}

#[event]
pub struct JobChallenged {
    pub market: Pubkey,
    pub job: Pubkey,
    pub challenger: Pubkey,
    pub bond: u64,
    /// Last slot a verdict may land in.
    pub verdict_deadline: u64,
}

#[event]
pub struct JobVerdictVoted {
    pub market: Pubkey,
    pub job: Pubkey,
    pub oracle: Pubkey,
    pub pass: bool,
    pub evidence_hash: [u8; 32],
}

#[event]
pub struct JobVerdictReached {
    pub market: Pubkey,
    pub job: Pubkey,
    pub provider: Pubkey,
    pub pass: bool,
    pub evidence_hash: [u8; 32],
}

#[event]
pub struct JobSettled {
    pub market: Pubkey,
    pub job: Pubkey,
    pub provider: Pubkey,
    pub output_hash: [u8; 32],
    pub to_provider: u64,
    /// Kept in the escrow vault as the treasury's.
    pub fee: u64,
    /// A failed challenger's bond, shared between provider and treasury.
    pub bond_to_provider: u64,
    pub bond_to_treasury: u64,
    /// Settled after a pass verdict (rather than unsampled and unchallenged).
    pub verified: bool,
}

#[event]
pub struct JobSlashed {
    pub market: Pubkey,
    pub job: Pubkey,
    pub provider: Pubkey,
    /// Escrow refunded to the client.
    pub refund: u64,
    /// Collateral shares.
    pub to_client: u64,
    pub to_challenger: u64,
    /// Kept in the stake vault as the treasury's.
    pub to_treasury: u64,
    /// Bond returned to the challenger.
    pub bond_refund: u64,
    pub evidence_hash: [u8; 32],
}

#[event]
pub struct JobExpired {
    pub market: Pubkey,
    pub job: Pubkey,
    pub provider: Pubkey,
    /// A quorum found the output withheld (rather than no result by the deadline).
    pub withheld: bool,
    pub refund: u64,
    /// Collateral taken from the provider (the liveness share, rounded up).
    pub slashed: u64,
    pub to_client: u64,
    pub to_treasury: u64,
}

#[event]
pub struct JobUnwound {
    pub market: Pubkey,
    pub job: Pubkey,
    pub provider: Pubkey,
    pub refund: u64,
    pub bond_refund: u64,
}

#[event]
pub struct ProviderJailed {
    pub market: Pubkey,
    pub provider: Pubkey,
    pub faults: u16,
}
