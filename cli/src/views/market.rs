//! `market show <address>`: the market's terms, oracle set and ledger.

use std::fmt;

use anchor_lang::prelude::Pubkey;
use serde::Serialize;
use spotcheck::state::Market;
use spotcheck_client::chain::Chain;

use super::{ViewError, read};
use crate::output::Fields;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MarketView {
    pub address: String,
    pub authority: String,
    pub market_id: u64,
    pub paused: bool,
    pub stake_mint: String,
    pub payment_mint: String,
    pub oracles: Vec<String>,
    pub quorum: u8,
    pub oracle_set_version: u32,
    pub params: Params,
    pub job_count: u64,
    pub total_staked: u64,
    pub total_escrowed: u64,
    pub treasury_payment: u64,
    pub treasury_stake: u64,
}

/// `MarketParams`, field for field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Params {
    pub fee_bps: u16,
    pub min_provider_stake: u64,
    pub collateral_ratio_bps: u32,
    pub sample_rate_bps: u16,
    pub claim_timeout_slots: u64,
    pub attestation_deadline_slots: u64,
    pub challenge_window_slots: u64,
    pub verdict_timeout_slots: u64,
    pub challenge_bond: u64,
    pub slash_client_bps: u16,
    pub slash_challenger_bps: u16,
    pub slash_treasury_bps: u16,
    pub liveness_slash_bps: u16,
    pub failed_bond_provider_bps: u16,
    pub max_faults: u16,
    pub unbonding_slots: u64,
}

impl MarketView {
    pub fn new(address: &Pubkey, market: &Market) -> Self {
        let p = &market.params;
        MarketView {
            address: address.to_string(),
            authority: market.authority.to_string(),
            market_id: market.market_id,
            paused: market.paused,
            stake_mint: market.stake_mint.to_string(),
            payment_mint: market.payment_mint.to_string(),
            oracles: market.oracles.iter().map(|o| o.to_string()).collect(),
            quorum: market.quorum,
            oracle_set_version: market.oracle_set_version,
            params: Params {
                fee_bps: p.fee_bps,
                min_provider_stake: p.min_provider_stake,
                collateral_ratio_bps: p.collateral_ratio_bps,
                sample_rate_bps: p.sample_rate_bps,
                claim_timeout_slots: p.claim_timeout_slots,
                attestation_deadline_slots: p.attestation_deadline_slots,
                challenge_window_slots: p.challenge_window_slots,
                verdict_timeout_slots: p.verdict_timeout_slots,
                challenge_bond: p.challenge_bond,
                slash_client_bps: p.slash_split.client_bps,
                slash_challenger_bps: p.slash_split.challenger_bps,
                slash_treasury_bps: p.slash_split.treasury_bps,
                liveness_slash_bps: p.liveness_slash_bps,
                failed_bond_provider_bps: p.failed_bond_provider_bps,
                max_faults: p.max_faults,
                unbonding_slots: p.unbonding_slots,
            },
            job_count: market.job_count,
            total_staked: market.total_staked,
            total_escrowed: market.total_escrowed,
            treasury_payment: market.treasury_payment,
            treasury_stake: market.treasury_stake,
        }
    }
}

/// Basis points as a percentage (`250` -> `2.50 %`).
fn percent(bps: impl Into<u64>) -> String {
    let bps = bps.into();
    format!("{}.{:02} %", bps / 100, bps % 100)
}

impl fmt::Display for MarketView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.params;
        let mut out = Fields { f };
        out.field("Market", format!("{} (id {})", self.address, self.market_id))?;
        out.field("Authority", &self.authority)?;
        out.field("Paused", self.paused)?;
        out.field("Stake / payment mint", format!("{} / {}", self.stake_mint, self.payment_mint))?;
        out.field(
            "Oracles",
            format!("{} of {} (set version {})", self.quorum, self.oracles.len(), self.oracle_set_version),
        )?;
        for oracle in &self.oracles {
            out.field("", oracle)?;
        }
        out.field("Fee", percent(p.fee_bps))?;
        out.field("Sampling", percent(p.sample_rate_bps))?;
        out.field("Collateral", format!("{} of the price", percent(p.collateral_ratio_bps)))?;
        out.field("Minimum stake", p.min_provider_stake)?;
        out.field(
            "Slots",
            format!(
                "claim {}, attestation {}, challenge window {}, verdict {}, unbonding {}",
                p.claim_timeout_slots,
                p.attestation_deadline_slots,
                p.challenge_window_slots,
                p.verdict_timeout_slots,
                p.unbonding_slots
            ),
        )?;
        out.field("Challenge bond", p.challenge_bond)?;
        out.field(
            "Slash split",
            format!(
                "client {}, challenger {}, treasury {}; liveness {}",
                percent(p.slash_client_bps),
                percent(p.slash_challenger_bps),
                percent(p.slash_treasury_bps),
                percent(p.liveness_slash_bps)
            ),
        )?;
        out.field("Jobs", self.job_count)?;
        out.field("Staked / escrowed", format!("{} / {}", self.total_staked, self.total_escrowed))?;
        out.field("Treasury", format!("{} payment, {} stake", self.treasury_payment, self.treasury_stake))
    }
}

pub async fn market_show(chain: &dyn Chain, address: &Pubkey) -> Result<MarketView, ViewError> {
    let market: Market = read(chain, address, "market").await?;
    Ok(MarketView::new(address, &market))
}
