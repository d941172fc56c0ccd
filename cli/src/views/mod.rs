//! The read-only commands: `market show`, `provider show|list`,
//! `job show|list`. Each reads accounts through the [`Chain`] interface and
//! returns a view that is `Serialize` and `Display`; amounts are in the
//! tokens' base units, hashes in hex, optional parties `null` when unset.

mod job;
mod market;
mod provider;

use anchor_lang::prelude::Pubkey;
use spotcheck_client::chain::filters::program_account;
use spotcheck_client::chain::{Chain, ChainError};

pub use job::{JobList, JobView, job_list, job_show};
pub use market::{MarketView, market_show};
pub use provider::{ProviderList, ProviderView, provider_list, provider_show};

/// Why a view could not be shown; `is_retryable` as the chain layer says.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("{what} {address} does not exist on {cluster}: check the address and --url")]
    NotFound { what: &'static str, address: Pubkey, cluster: String },
    #[error(transparent)]
    Chain(#[from] ChainError),
}

impl ViewError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, ViewError::Chain(err) if err.is_retryable())
    }
}

/// The program account `T` at `address`, or `NotFound` naming `what` it should be.
async fn read<T: anchor_lang::AccountDeserialize>(
    chain: &dyn Chain,
    address: &Pubkey,
    what: &'static str,
) -> Result<T, ViewError> {
    program_account::<T>(chain, address).await?.ok_or_else(|| ViewError::NotFound {
        what,
        address: *address,
        cluster: chain.cluster(),
    })
}

/// A key that is the default (unset) pubkey as `None`.
fn set(key: &Pubkey) -> Option<String> {
    (*key != Pubkey::default()).then(|| key.to_string())
}

/// An enum's variant name in lower case (`Attested` -> `attested`).
fn name(value: &impl std::fmt::Debug) -> String {
    format!("{value:?}").to_lowercase()
}
