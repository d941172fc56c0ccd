//! Finding the program's accounts by content: what `getProgramAccounts`
//! filters do on a node, and `LocalChain` does by scanning.
//!
//! Anchor accounts start with an 8-byte discriminator, then the Borsh fields
//! in order; a field can be matched at a fixed offset only while every field
//! before it has a fixed size. The program keeps `Job::status` and
//! `Job::provider` ahead of the inline prompt for that reason, so the node
//! itself filters jobs by market, status and provider.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use spotcheck::state::{Job, JobStatus, Provider};

use super::{Chain, ChainError};

/// Where a Borsh field of an Anchor account starts: after the discriminator.
const DISCRIMINATOR_LEN: usize = 8;
/// `Job::market`, `Provider::market`: the first field.
const MARKET_OFFSET: usize = DISCRIMINATOR_LEN;
/// `Provider::stake_wallet`, right after `market`.
const PROVIDER_STAKE_WALLET_OFFSET: usize = MARKET_OFFSET + 32;
/// `Job::status`, after `market`, `client` and `nonce`: a one-byte Borsh enum tag.
const JOB_STATUS_OFFSET: usize = MARKET_OFFSET + 32 + 32 + 8;
/// `Job::provider`, right after `status`.
const JOB_PROVIDER_OFFSET: usize = JOB_STATUS_OFFSET + 1;

/// One condition on a program account's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountFilter {
    /// `bytes` appear at `offset`.
    Memcmp { offset: usize, bytes: Vec<u8> },
    /// The data is exactly this long.
    DataSize(u64),
}

impl AccountFilter {
    /// Whether `data` passes.
    pub fn matches(&self, data: &[u8]) -> bool {
        match self {
            AccountFilter::Memcmp { offset, bytes } => data.get(*offset..).is_some_and(|rest| rest.starts_with(bytes)),
            AccountFilter::DataSize(len) => data.len() as u64 == *len,
        }
    }
}

/// Accounts of type `T` (by discriminator).
pub fn of_type<T: Discriminator>() -> AccountFilter {
    AccountFilter::Memcmp { offset: 0, bytes: T::DISCRIMINATOR.to_vec() }
}

/// Every job of `market`.
pub fn jobs_of_market(market: &Pubkey) -> Vec<AccountFilter> {
    vec![of_type::<Job>(), AccountFilter::Memcmp { offset: MARKET_OFFSET, bytes: market.to_bytes().to_vec() }]
}

/// The jobs of `market` in `status` (e.g. `Open`: what a worker can claim).
pub fn jobs_of_market_in_status(market: &Pubkey, status: JobStatus) -> Vec<AccountFilter> {
    let mut filters = jobs_of_market(market);
    filters.push(AccountFilter::Memcmp { offset: JOB_STATUS_OFFSET, bytes: vec![status as u8] });
    filters
}

/// The jobs `provider` claimed (every status but `Open`).
pub fn jobs_of_provider(provider: &Pubkey) -> Vec<AccountFilter> {
    vec![of_type::<Job>(), AccountFilter::Memcmp { offset: JOB_PROVIDER_OFFSET, bytes: provider.to_bytes().to_vec() }]
}

/// Every provider of `market`.
pub fn providers_of_market(market: &Pubkey) -> Vec<AccountFilter> {
    vec![of_type::<Provider>(), AccountFilter::Memcmp { offset: MARKET_OFFSET, bytes: market.to_bytes().to_vec() }]
}

/// The providers a stake wallet registered, in every market.
pub fn providers_of_stake_wallet(stake_wallet: &Pubkey) -> Vec<AccountFilter> {
    vec![
        of_type::<Provider>(),
        AccountFilter::Memcmp { offset: PROVIDER_STAKE_WALLET_OFFSET, bytes: stake_wallet.to_bytes().to_vec() },
    ]
}

/// The program accounts passing `filters`, decoded as `T`.
pub async fn program_accounts_of<T: AccountDeserialize>(
    chain: &(impl Chain + ?Sized),
    filters: &[AccountFilter],
) -> Result<Vec<(Pubkey, T)>, ChainError> {
    chain
        .program_accounts(filters)
        .await?
        .into_iter()
        .map(|(address, account)| decode::<T>(&address, &account.data).map(|value| (address, value)))
        .collect()
}

/// A program account decoded as `T`; `None` if it does not exist (or was
/// closed); an error if it exists but is not a `T` of this program.
pub async fn program_account<T: AccountDeserialize>(
    chain: &(impl Chain + ?Sized),
    address: &Pubkey,
) -> Result<Option<T>, ChainError> {
    let Some(account) = chain.account(address).await? else { return Ok(None) };
    if account.lamports == 0 {
        return Ok(None);
    }
    if account.owner != chain.program_id() {
        return Err(ChainError::AccountLayout {
            address: *address,
            expected: std::any::type_name::<T>(),
            reason: format!("it is owned by {}, not the program", account.owner),
        });
    }
    decode(address, &account.data).map(Some)
}

/// The jobs of `market`, of one status or all.
pub async fn jobs(
    chain: &(impl Chain + ?Sized),
    market: &Pubkey,
    status: Option<JobStatus>,
) -> Result<Vec<(Pubkey, Job)>, ChainError> {
    let filters = match status {
        Some(status) => jobs_of_market_in_status(market, status),
        None => jobs_of_market(market),
    };
    let mut jobs = program_accounts_of::<Job>(chain, &filters).await?;
    // Oldest first; the address breaks ties, so the order is the same everywhere.
    jobs.sort_by_key(|(address, job)| (job.submitted_slot, *address));
    Ok(jobs)
}

fn decode<T: AccountDeserialize>(address: &Pubkey, data: &[u8]) -> Result<T, ChainError> {
    crate::decode_account::<T>(data).map_err(|err| ChainError::AccountLayout {
        address: *address,
        expected: std::any::type_name::<T>(),
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where `field` of account type `name` starts, from the committed IDL
    /// (which CI checks against the program); `None` if a field before it
    /// has no fixed size.
    fn idl_offset(name: &str, field: &str) -> Option<usize> {
        let idl: serde_json::Value = serde_json::from_str(include_str!("../../../idl/spotcheck.json")).unwrap();
        let fields = idl["types"].as_array()?.iter().find(|ty| ty["name"] == name)?["type"]["fields"].as_array()?;
        let mut offset = DISCRIMINATOR_LEN;
        for entry in fields {
            if entry["name"] == field {
                return Some(offset);
            }
            // A fieldless enum (JobStatus) is one tag byte in Borsh.
            if entry["type"]["defined"]["name"] == "JobStatus" {
                offset += 1;
                continue;
            }
            offset += match entry["type"].as_str()? {
                "pubkey" => 32,
                "u64" | "i64" => 8,
                "u32" | "i32" => 4,
                "u16" | "i16" => 2,
                "u8" | "i8" | "bool" => 1,
                _ => return None,
            };
        }
        None
    }

    /// The offsets above are the program's layout: a field moved in the
    /// program breaks this test, not a service's filter in production.
    #[test]
    fn filter_offsets_are_the_programs_layout() {
        assert_eq!(idl_offset("Job", "market"), Some(MARKET_OFFSET));
        assert_eq!(idl_offset("Provider", "market"), Some(MARKET_OFFSET));
        assert_eq!(idl_offset("Provider", "stake_wallet"), Some(PROVIDER_STAKE_WALLET_OFFSET));
        assert_eq!(idl_offset("Job", "status"), Some(JOB_STATUS_OFFSET));
        assert_eq!(idl_offset("Job", "provider"), Some(JOB_PROVIDER_OFFSET));
        // The tag bytes are the variants' order.
        assert_eq!((JobStatus::Open as u8, JobStatus::Attested as u8, JobStatus::Rejected as u8), (0, 3, 6));
    }

    #[test]
    fn filters_pick_by_type_and_field() {
        let market = Pubkey::new_from_array([1; 32]);
        let wallet = Pubkey::new_from_array([2; 32]);
        let mut provider = Provider::DISCRIMINATOR.to_vec();
        provider.extend_from_slice(market.as_ref());
        provider.extend_from_slice(wallet.as_ref());
        assert!(providers_of_market(&market).iter().all(|filter| filter.matches(&provider)));
        assert!(providers_of_stake_wallet(&wallet).iter().all(|filter| filter.matches(&provider)));
        assert!(!providers_of_stake_wallet(&market).iter().all(|filter| filter.matches(&provider)));
        assert!(!jobs_of_market(&market).iter().all(|filter| filter.matches(&provider)), "a provider is not a job");
    }

    #[test]
    fn memcmp_past_the_end_and_data_size() {
        let filter = AccountFilter::Memcmp { offset: 4, bytes: vec![1, 2] };
        assert!(filter.matches(&[0, 0, 0, 0, 1, 2, 3]));
        assert!(!filter.matches(&[0, 0, 0, 0, 1]));
        assert!(!filter.matches(&[]));
        assert!(AccountFilter::DataSize(3).matches(&[1, 2, 3]));
        assert!(!AccountFilter::DataSize(3).matches(&[1, 2]));
    }
}
