//! The worker's configuration: what the binary assembles from a TOML file,
//! flags and environment (in that order of precedence, lowest first), and
//! what tests and the demo build directly.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use serde::Deserialize;
use solana_keypair::Keypair;
use spotcheck_client::chain::FeedConfig;
use spotcheck_engine::DeviceChoice;

use crate::error::{Result, WorkerError};

/// A dishonest behaviour, for tests and the demo only: each one commits to
/// what it claims to and is caught by the oracles (the binary labels it
/// loudly in `--help` and in its log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cheat {
    /// Commits to fabricated tokens without running the model.
    SkipWork,
    /// Runs this other (smaller) model file and claims the registered one.
    SmallerModel(PathBuf),
    /// Stops at half the budget without EOS.
    Truncate,
    /// Commits the honest result but never serves it.
    Withhold,
}

impl Cheat {
    /// `skip-work`, `truncate`, `withhold`, or `smaller-model` with the other model's path.
    pub fn parse(mode: &str, smaller_model: Option<PathBuf>) -> Result<Self> {
        match (mode, smaller_model) {
            ("skip-work", _) => Ok(Cheat::SkipWork),
            ("truncate", _) => Ok(Cheat::Truncate),
            ("withhold", _) => Ok(Cheat::Withhold),
            ("smaller-model", Some(path)) => Ok(Cheat::SmallerModel(path)),
            ("smaller-model", None) => Err(WorkerError::Config(
                "--cheat smaller-model needs --cheat-model <GGUF> (the model it runs instead)".into(),
            )),
            (other, _) => Err(WorkerError::Config(format!(
                "unknown cheat mode `{other}` (expected skip-work, smaller-model, truncate or withhold)"
            ))),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Cheat::SkipWork => "skip-work",
            Cheat::SmallerModel(_) => "smaller-model",
            Cheat::Truncate => "truncate",
            Cheat::Withhold => "withhold",
        }
    }
}

#[derive(Clone)]
pub struct Config {
    /// The market it works in and the provider account it works for.
    pub market: Pubkey,
    pub provider: Pubkey,
    /// The provider's hot worker key (signs claims and results, pays their fees).
    pub worker: Arc<Keypair>,
    /// GGUF files it serves; each one's id is its SHA-256 and must be a
    /// registered, active model of the market.
    pub models: Vec<PathBuf>,
    pub device: DeviceChoice,
    /// CPU threads for inference (0 = all cores).
    pub threads: usize,
    /// Where the output server listens (port 0: any free port).
    pub listen: SocketAddr,
    /// The most jobs claimed and not yet submitted at once.
    pub max_in_flight: usize,
    /// The lowest price per token (payment-token base units) it accepts.
    pub min_price_per_token: u64,
    /// Holds the database (`worker.sqlite3`).
    pub data_dir: PathBuf,
    /// The payment-token account settlements pay to (owned by the stake
    /// wallet); by default the stake wallet's associated token account.
    pub payout: Option<Pubkey>,
    /// How often it looks at deadlines without an event (slots pass silently).
    pub tick: Duration,
    pub feed: FeedConfig,
    pub cheat: Option<Cheat>,
    /// Caps the database at this many 4 KiB pages (SQLite's
    /// `max_page_count`), to bound the disk it uses; past it, writes fail as
    /// on a full disk. `None`: no cap.
    pub max_database_pages: Option<u32>,
}

impl Config {
    /// A configuration with the defaults for everything but the identities.
    pub fn new(
        market: Pubkey,
        provider: Pubkey,
        worker: Arc<Keypair>,
        models: Vec<PathBuf>,
        data_dir: PathBuf,
    ) -> Self {
        Config {
            market,
            provider,
            worker,
            models,
            device: DeviceChoice::Auto,
            threads: 0,
            listen: SocketAddr::from(([127, 0, 0, 1], 8900)),
            max_in_flight: 2,
            min_price_per_token: 0,
            data_dir,
            payout: None,
            tick: Duration::from_millis(500),
            feed: FeedConfig { poll_interval: Duration::from_secs(2), ..FeedConfig::default() },
            cheat: None,
            max_database_pages: None,
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("worker.sqlite3")
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
    pub provider: Option<String>,
    pub models: Option<Vec<PathBuf>>,
    pub device: Option<String>,
    pub threads: Option<usize>,
    pub listen: Option<String>,
    pub max_in_flight: Option<usize>,
    pub min_price_per_token: Option<u64>,
    pub data_dir: Option<PathBuf>,
    pub payout: Option<String>,
    pub max_database_pages: Option<u32>,
}

impl FileConfig {
    pub fn read(path: &Path) -> Result<Self> {
        spotcheck_service::config::read_toml(path).map_err(WorkerError::Config)
    }
}

/// A base-58 address from a flag or the file, with the field's name in the error.
pub fn parse_pubkey(field: &str, text: &str) -> Result<Pubkey> {
    spotcheck_service::config::parse_pubkey(field, text).map_err(WorkerError::Config)
}

pub fn read_keypair(path: &Path) -> Result<Keypair> {
    spotcheck_service::config::read_keypair(path)
        .map_err(|reason| WorkerError::Keypair { path: path.to_owned(), reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_takes_every_setting_and_refuses_unknown_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.toml");
        std::fs::write(
            &path,
            "url = \"devnet\"\nmodels = [\"a.gguf\", \"b.gguf\"]\nmax_in_flight = 3\nmin_price_per_token = 7\n",
        )
        .unwrap();
        let file = FileConfig::read(&path).unwrap();
        assert_eq!(file.url.as_deref(), Some("devnet"));
        assert_eq!(file.models.unwrap().len(), 2);
        assert_eq!((file.max_in_flight, file.min_price_per_token), (Some(3), Some(7)));
        std::fs::write(&path, "max_inflight = 3\n").unwrap();
        let err = FileConfig::read(&path).unwrap_err().to_string();
        assert!(err.contains("unknown field") && err.contains("max_inflight"), "{err}");
        assert!(FileConfig::read(&dir.path().join("missing.toml")).unwrap_err().to_string().contains("cannot read"));
    }

    #[test]
    fn addresses_and_keypairs_fail_with_what_to_fix() {
        assert!(parse_pubkey("--market", "nope").unwrap_err().to_string().contains("--market `nope` is not a base-58"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        std::fs::write(&path, "[1, 2, 3]").unwrap();
        let err = read_keypair(&path).unwrap_err().to_string();
        assert!(err.contains("key.json") && err.contains("--keypair"), "{err}");
    }
}
