//! What can stop the oracle, split the way an operator must act on it:
//! `is_retryable()` errors are the node's or the network's ("start again
//! later"); the others need a change of configuration or of the chain state.

use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use spotcheck_client::chain::ChainError;

#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    #[error("configuration: {0}")]
    Config(String),

    #[error(
        "cannot read the keypair file {path}: {reason}. Give the oracle key's JSON keypair file (as `solana-keygen new -o` writes it) with --keypair"
    )]
    Keypair { path: PathBuf, reason: String },

    #[error("cannot load the model file {path}: {source}")]
    Model { path: PathBuf, source: spotcheck_engine::Error },

    #[error("cannot open the inference device: {0}")]
    Device(spotcheck_engine::Error),

    #[error(
        "market {market} does not exist on {cluster}: check --market and --url (is the program deployed there, and the market created?)"
    )]
    MarketNotFound { market: Pubkey, cluster: String },

    #[error(
        "this oracle key {key} is not in market {market}'s oracle set ({set}): run with a member's --keypair, or ask the market authority to add it (`market_set_oracles`)"
    )]
    NotAnOracle { key: Pubkey, market: Pubkey, set: String },

    #[error("the data directory's database {path}: {reason}. Is the disk full or the directory read-only?")]
    Store { path: PathBuf, reason: String },

    #[error(
        "another spotcheck-oracle is running with the data directory {path}: stop it, or give this one a --data-dir of its own"
    )]
    DataDirInUse { path: PathBuf },

    #[error("cannot listen on {addr}: {reason}. Is another process using the port?")]
    Listen { addr: String, reason: String },

    #[error(transparent)]
    Chain(#[from] ChainError),
}

impl OracleError {
    /// Whether starting again later can succeed without changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            OracleError::Chain(err) => err.is_retryable(),
            OracleError::Listen { .. } => true,
            _ => false,
        }
    }
}

impl spotcheck_service::binary::Failure for OracleError {
    fn is_retryable(&self) -> bool {
        OracleError::is_retryable(self)
    }
}

pub type Result<T, E = OracleError> = std::result::Result<T, E>;
