//! What can stop the worker, split the way an operator must act on it:
//! `is_retryable()` errors are the node's or the network's ("start again
//! later"); the others need a change of configuration or of the chain state.

use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use spotcheck_client::chain::ChainError;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("configuration: {0}")]
    Config(String),

    #[error(
        "cannot read the keypair file {path}: {reason}. Give the worker key's JSON keypair file (as `solana-keygen new -o` writes it) with --keypair"
    )]
    Keypair { path: PathBuf, reason: String },

    #[error("cannot load the model file {path}: {source}")]
    Model { path: PathBuf, source: spotcheck_engine::Error },

    #[error(
        "none of the served models is registered and active in market {market} ({detail}): register them with `spotcheck model register`, or serve a registered model"
    )]
    NoServableModel { market: Pubkey, detail: String },

    #[error("cannot open the inference device: {0}")]
    Device(spotcheck_engine::Error),

    #[error(
        "market {market} does not exist on {cluster}: check --market and --url (is the program deployed there, and the market created?)"
    )]
    MarketNotFound { market: Pubkey, cluster: String },

    #[error(
        "provider {provider} does not exist in market {market} on {cluster}: register it first (`spotcheck provider register`) and pass its address with --provider"
    )]
    ProviderNotFound { provider: Pubkey, market: Pubkey, cluster: String },

    #[error(
        "this worker key {key} is not provider {provider}'s worker key ({registered}): run with the registered key's --keypair, or rotate it with `spotcheck provider rotate-worker`"
    )]
    NotTheWorker { key: Pubkey, provider: Pubkey, registered: Pubkey },

    #[error("the data directory's database {path}: {reason}. Is the disk full or the directory read-only?")]
    Store { path: PathBuf, reason: String },

    #[error(
        "another spotcheck-worker is running with the data directory {path}: stop it, or give this one a --data-dir of its own"
    )]
    DataDirInUse { path: PathBuf },

    #[error("cannot listen on {addr}: {reason}. Is another process using the port?")]
    Listen { addr: String, reason: String },

    #[error(transparent)]
    Chain(#[from] ChainError),
}

impl WorkerError {
    /// Whether starting again later can succeed without changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            WorkerError::Chain(err) => err.is_retryable(),
            WorkerError::Listen { .. } => true,
            _ => false,
        }
    }
}

impl spotcheck_service::binary::Failure for WorkerError {
    fn is_retryable(&self) -> bool {
        WorkerError::is_retryable(self)
    }
}

pub type Result<T, E = WorkerError> = std::result::Result<T, E>;
