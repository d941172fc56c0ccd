//! `provider show <address>` and `provider list --market <address>`.

use std::fmt;

use anchor_lang::prelude::Pubkey;
use serde::Serialize;
use spotcheck::state::{Market, Provider};
use spotcheck_client::chain::Chain;
use spotcheck_client::chain::filters::{self, program_accounts_of};

use super::{ViewError, name, read};
use crate::output::Fields;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderView {
    pub address: String,
    pub market: String,
    pub stake_wallet: String,
    pub worker: String,
    pub endpoint: String,
    /// `active` or `jailed`.
    pub status: String,
    pub staked: u64,
    pub locked: u64,
    pub pending_unstake: u64,
    /// Staked, less what is locked behind jobs and what is unbonding: what new claims can lock.
    pub free: u64,
    pub jobs_completed: u64,
    pub jobs_verified: u64,
    pub jobs_failed: u64,
    pub jobs_slashed: u64,
    pub faults: u16,
}

impl ProviderView {
    pub fn new(address: &Pubkey, provider: &Provider) -> Self {
        ProviderView {
            address: address.to_string(),
            market: provider.market.to_string(),
            stake_wallet: provider.stake_wallet.to_string(),
            worker: provider.worker.to_string(),
            endpoint: provider.endpoint.clone(),
            status: name(&provider.status),
            staked: provider.staked,
            locked: provider.locked,
            pending_unstake: provider.pending_unstake,
            free: provider.staked.saturating_sub(provider.locked).saturating_sub(provider.pending_unstake),
            jobs_completed: provider.jobs_completed,
            jobs_verified: provider.jobs_verified,
            jobs_failed: provider.jobs_failed,
            jobs_slashed: provider.jobs_slashed,
            faults: provider.faults,
        }
    }
}

impl fmt::Display for ProviderView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Fields { f };
        out.field("Provider", &self.address)?;
        out.field("Status", &self.status)?;
        out.field("Market", &self.market)?;
        out.field("Stake wallet", &self.stake_wallet)?;
        out.field("Worker key", &self.worker)?;
        out.field("Endpoint", &self.endpoint)?;
        out.field(
            "Stake",
            format!(
                "{} staked, {} locked, {} unbonding, {} free",
                self.staked, self.locked, self.pending_unstake, self.free
            ),
        )?;
        out.field(
            "Jobs",
            format!(
                "{} completed, {} verified, {} failed, {} slashed ({} faults)",
                self.jobs_completed, self.jobs_verified, self.jobs_failed, self.jobs_slashed, self.faults
            ),
        )
    }
}

pub async fn provider_show(chain: &dyn Chain, address: &Pubkey) -> Result<ProviderView, ViewError> {
    let provider: Provider = read(chain, address, "provider").await?;
    Ok(ProviderView::new(address, &provider))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderList {
    pub market: String,
    pub providers: Vec<ProviderView>,
}

impl fmt::Display for ProviderList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} provider(s) in market {}", self.providers.len(), self.market)?;
        for p in &self.providers {
            writeln!(f, "{}  {:<6}  {:>14} free of {:>14}  {}", p.address, p.status, p.free, p.staked, p.endpoint)?;
        }
        Ok(())
    }
}

/// The market's providers, by address.
pub async fn provider_list(chain: &dyn Chain, market: &Pubkey) -> Result<ProviderList, ViewError> {
    let _: Market = read(chain, market, "market").await?;
    let mut providers = program_accounts_of::<Provider>(chain, &filters::providers_of_market(market)).await?;
    providers.sort_by_key(|(address, _)| *address);
    Ok(ProviderList {
        market: market.to_string(),
        providers: providers.iter().map(|(address, p)| ProviderView::new(address, p)).collect(),
    })
}
