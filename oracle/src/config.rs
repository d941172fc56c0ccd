//! The oracle's configuration: what the binary assembles from a TOML file,
//! flags and environment (in that order of precedence, lowest first), and
//! what tests build directly.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use serde::Deserialize;
use solana_keypair::Keypair;
use spotcheck_client::chain::{Backoff, FeedConfig};
use spotcheck_engine::DeviceChoice;

use crate::error::{OracleError, Result};

/// How outputs are fetched from a provider's endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchConfig {
    /// One request's limit, connection and body included.
    pub timeout: Duration,
    /// The largest response body read; a larger one is refused unread.
    pub max_body_bytes: usize,
    /// Between failed fetches of one job's output (jittered, growing).
    pub backoff: Backoff,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            timeout: Duration::from_secs(10),
            // A 4,096-token answer as JSON with its text is well under 100 KiB.
            max_body_bytes: 4 << 20,
            backoff: Backoff { first: Duration::from_millis(250), max: Duration::from_secs(10), attempts: u32::MAX },
        }
    }
}

#[derive(Clone)]
pub struct Config {
    /// The market it is an oracle of.
    pub market: Pubkey,
    /// The oracle key: a member of the market's oracle set; signs votes and
    /// cranks and pays their fees (and the rent of payout accounts it creates).
    pub oracle: Arc<Keypair>,
    /// GGUF files it can re-execute (and check served outputs against); a
    /// job for any other model gets no vote from it (the others decide).
    pub models: Vec<PathBuf>,
    pub device: DeviceChoice,
    /// CPU threads for re-execution (0 = all cores).
    pub threads: usize,
    /// Where the evidence and mirror server listens (port 0: any free port).
    pub listen: SocketAddr,
    /// Holds the database (`oracle.sqlite3`).
    pub data_dir: PathBuf,
    /// How often it reads the market's jobs without an event.
    pub tick: Duration,
    pub feed: FeedConfig,
    pub fetch: FetchConfig,
    /// Votes "withheld" when the output still cannot be had (or does not
    /// match) this many slots before the attestation deadline (at most half
    /// the market's attestation window), leaving time for the vote to land.
    pub withhold_margin_slots: u64,
    /// Caps the database at this many 4 KiB pages (SQLite's
    /// `max_page_count`); past it, writes fail as on a full disk.
    pub max_database_pages: Option<u32>,
    /// Other oracles' servers (`http://host:port`): where a verdict fetches
    /// an output its provider no longer serves (their mirrors), checked
    /// against the commitment like the provider's.
    pub peers: Vec<String>,
}

impl Config {
    /// A configuration with the defaults for everything but the identities.
    pub fn new(market: Pubkey, oracle: Arc<Keypair>, models: Vec<PathBuf>, data_dir: PathBuf) -> Self {
        Config {
            market,
            oracle,
            models,
            device: DeviceChoice::Auto,
            threads: 0,
            listen: SocketAddr::from(([127, 0, 0, 1], 8910)),
            data_dir,
            tick: Duration::from_millis(500),
            feed: FeedConfig { poll_interval: Duration::from_secs(2), ..FeedConfig::default() },
            fetch: FetchConfig::default(),
            withhold_margin_slots: 30,
            max_database_pages: None,
            peers: Vec::new(),
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("oracle.sqlite3")
    }
}

/// The TOML file's contents: every field optional, flags override them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub url: Option<String>,
    pub ws_url: Option<String>,
    pub keypair: Option<PathBuf>,
    pub market: Option<String>,
    pub models: Option<Vec<PathBuf>>,
    pub device: Option<String>,
    pub threads: Option<usize>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub fetch_timeout_ms: Option<u64>,
    pub max_body_bytes: Option<usize>,
    pub withhold_margin_slots: Option<u64>,
    pub max_database_pages: Option<u32>,
    pub peers: Option<Vec<String>>,
}

impl FileConfig {
    pub fn read(path: &Path) -> Result<Self> {
        spotcheck_service::config::read_toml(path).map_err(OracleError::Config)
    }
}

/// A base-58 address from a flag or the file, with the field's name in the error.
pub fn parse_pubkey(field: &str, text: &str) -> Result<Pubkey> {
    spotcheck_service::config::parse_pubkey(field, text).map_err(OracleError::Config)
}

pub fn read_keypair(path: &Path) -> Result<Keypair> {
    spotcheck_service::config::read_keypair(path)
        .map_err(|reason| OracleError::Keypair { path: path.to_owned(), reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_takes_every_setting_and_refuses_unknown_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oracle.toml");
        std::fs::write(
            &path,
            "url = \"devnet\"\nmodels = [\"a.gguf\"]\nfetch_timeout_ms = 900\nwithhold_margin_slots = 12\n",
        )
        .unwrap();
        let file = FileConfig::read(&path).unwrap();
        assert_eq!(file.url.as_deref(), Some("devnet"));
        assert_eq!(file.models.unwrap().len(), 1);
        assert_eq!((file.fetch_timeout_ms, file.withhold_margin_slots), (Some(900), Some(12)));
        std::fs::write(&path, "quorum = 2\n").unwrap();
        let err = FileConfig::read(&path).unwrap_err().to_string();
        assert!(err.contains("unknown field") && err.contains("quorum"), "{err}");
        assert!(FileConfig::read(&dir.path().join("missing.toml")).unwrap_err().to_string().contains("cannot read"));
    }
}
