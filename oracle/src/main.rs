//! `spotcheck-oracle`: parses flags (over a TOML file and the environment),
//! sets up logging, connects to the cluster and runs the oracle until
//! SIGINT/SIGTERM (a second signal exits at once).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use spotcheck_client::chain::{Chain, Cluster, RpcChain, RpcChainConfig};
use spotcheck_oracle::config::{FileConfig, parse_pubkey, read_keypair};
use spotcheck_oracle::{Config, OracleError};

#[derive(Parser, Debug)]
#[command(
    name = "spotcheck-oracle",
    version,
    about = "An oracle of a Spotcheck market: attests that results are served, re-executes sampled and challenged jobs, votes verdicts and cranks jobs to their end",
    after_help = "Every flag can also be set in the TOML file given with --config (same names, with _ for -) or in the environment (SPOTCHECK_ORACLE_<NAME>). Flags win over the environment, which wins over the file."
)]
struct Args {
    /// A TOML file with any of the settings below.
    #[arg(long, env = "SPOTCHECK_ORACLE_CONFIG")]
    config: Option<PathBuf>,
    /// The cluster: localhost, devnet, testnet, mainnet-beta (or l/d/t/m), or an RPC URL.
    #[arg(short = 'u', long, env = "SPOTCHECK_ORACLE_URL")]
    url: Option<String>,
    /// The cluster's PubSub (websocket) URL, when it is not the RPC URL's with ws(s):// and the next port (solana-test-validator's layout).
    #[arg(long, env = "SPOTCHECK_ORACLE_WS_URL")]
    ws_url: Option<String>,
    /// The oracle key (a JSON keypair file): a member of the market's oracle set. It signs votes and cranks and pays their fees.
    #[arg(long, env = "SPOTCHECK_ORACLE_KEYPAIR")]
    keypair: Option<PathBuf>,
    /// The market's address.
    #[arg(long, env = "SPOTCHECK_ORACLE_MARKET")]
    market: Option<String>,
    /// A GGUF model file it can re-execute (repeat for several). Jobs for other models get no vote from it.
    #[arg(long = "model", env = "SPOTCHECK_ORACLE_MODELS", value_delimiter = ',')]
    models: Vec<PathBuf>,
    /// auto (CUDA when a GPU is present, else the CPU), cpu or cuda.
    #[arg(long, env = "SPOTCHECK_ORACLE_DEVICE")]
    device: Option<String>,
    /// CPU re-execution threads (0: all cores).
    #[arg(long, env = "SPOTCHECK_ORACLE_THREADS")]
    threads: Option<usize>,
    /// Where the evidence and mirror server listens.
    #[arg(long, env = "SPOTCHECK_ORACLE_LISTEN")]
    listen: Option<String>,
    /// Where the database lives.
    #[arg(long, env = "SPOTCHECK_ORACLE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// One output fetch's time limit, in milliseconds.
    #[arg(long, env = "SPOTCHECK_ORACLE_FETCH_TIMEOUT_MS")]
    fetch_timeout_ms: Option<u64>,
    /// The largest output response read, in bytes.
    #[arg(long, env = "SPOTCHECK_ORACLE_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Votes withheld this many slots before the attestation deadline when the output still cannot be had.
    #[arg(long, env = "SPOTCHECK_ORACLE_WITHHOLD_MARGIN_SLOTS")]
    withhold_margin_slots: Option<u64>,
    /// Another oracle's server (repeat for several): where a verdict fetches an output its provider no longer serves.
    #[arg(long = "peer", env = "SPOTCHECK_ORACLE_PEERS", value_delimiter = ',')]
    peers: Vec<String>,
    /// Caps the database at this many 4 KiB pages (past it, writes fail as on a full disk).
    #[arg(long, env = "SPOTCHECK_ORACLE_MAX_DATABASE_PAGES")]
    max_database_pages: Option<u32>,
}

fn required<T>(value: Option<T>, flag: &str) -> Result<T, OracleError> {
    value.ok_or_else(|| {
        OracleError::Config(format!("{flag} is required (as a flag, in the environment, or in --config)"))
    })
}

fn build(args: Args) -> Result<(Config, Cluster), OracleError> {
    let file = match &args.config {
        Some(path) => FileConfig::read(path)?,
        None => FileConfig::default(),
    };
    let url = args.url.or(file.url).unwrap_or_else(|| "localhost".to_string());
    let cluster = Cluster::from_flags(&url, args.ws_url.or(file.ws_url).as_deref())?;
    let oracle = Arc::new(read_keypair(&required(args.keypair.or(file.keypair), "--keypair")?)?);
    let market = parse_pubkey("--market", &required(args.market.or(file.market), "--market")?)?;
    let models = if args.models.is_empty() { file.models.unwrap_or_default() } else { args.models };
    let data_dir = args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("spotcheck-oracle-data"));
    let mut config = Config::new(market, oracle, models, data_dir);
    if let Some(device) = args.device.or(file.device) {
        config.device = device.parse().map_err(OracleError::Config)?;
    }
    if let Some(threads) = args.threads.or(file.threads) {
        config.threads = threads;
    }
    if let Some(listen) = args.listen.or(file.listen) {
        config.listen = listen
            .parse::<SocketAddr>()
            .map_err(|_| OracleError::Config(format!("--listen `{listen}` is not an address like 0.0.0.0:8910")))?;
    }
    if let Some(ms) = args.fetch_timeout_ms.or(file.fetch_timeout_ms) {
        if ms == 0 {
            return Err(OracleError::Config("--fetch-timeout-ms must be at least 1".into()));
        }
        config.fetch.timeout = Duration::from_millis(ms);
    }
    if let Some(bytes) = args.max_body_bytes.or(file.max_body_bytes) {
        config.fetch.max_body_bytes = bytes;
    }
    if let Some(margin) = args.withhold_margin_slots.or(file.withhold_margin_slots) {
        config.withhold_margin_slots = margin;
    }
    config.max_database_pages = args.max_database_pages.or(file.max_database_pages);
    config.peers = if args.peers.is_empty() { file.peers.unwrap_or_default() } else { args.peers };
    Ok((config, cluster))
}

fn main() -> ExitCode {
    let args = Args::parse();
    spotcheck_service::binary::main("spotcheck-oracle", "stopping", |shutdown| async move {
        let (config, cluster) = build(args)?;
        let chain: Arc<dyn Chain> = Arc::new(RpcChain::connect(RpcChainConfig::new(cluster)).await?);
        spotcheck_oracle::run(config, chain, shutdown).await
    })
}
