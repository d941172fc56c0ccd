//! `spotcheck-worker`: parses flags (over a TOML file and the environment),
//! sets up logging, connects to the cluster and runs the daemon until
//! SIGINT/SIGTERM (a second signal exits at once).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use spotcheck_client::chain::{Chain, Cluster, RpcChain, RpcChainConfig};
use spotcheck_worker::config::{FileConfig, parse_pubkey, read_keypair};
use spotcheck_worker::{Cheat, Config, WorkerError};

#[derive(Parser, Debug)]
#[command(
    name = "spotcheck-worker",
    version,
    about = "A Spotcheck provider's worker: claims jobs, runs them on CUDA or the CPU, serves the outputs and submits the results",
    after_help = "Every flag can also be set in the TOML file given with --config (same names, with _ for -) or in the environment (SPOTCHECK_WORKER_<NAME>). Flags win over the environment, which wins over the file."
)]
struct Args {
    /// A TOML file with any of the settings below.
    #[arg(long, env = "SPOTCHECK_WORKER_CONFIG")]
    config: Option<PathBuf>,
    /// The cluster: localhost, devnet, testnet, mainnet-beta (or l/d/t/m), or an RPC URL.
    #[arg(short = 'u', long, env = "SPOTCHECK_WORKER_URL")]
    url: Option<String>,
    /// The cluster's PubSub (websocket) URL, when it is not the RPC URL's with ws(s):// and the next port (solana-test-validator's layout).
    #[arg(long, env = "SPOTCHECK_WORKER_WS_URL")]
    ws_url: Option<String>,
    /// The provider's worker key (a JSON keypair file). It signs claims and results and pays their fees.
    #[arg(long, env = "SPOTCHECK_WORKER_KEYPAIR")]
    keypair: Option<PathBuf>,
    /// The market's address.
    #[arg(long, env = "SPOTCHECK_WORKER_MARKET")]
    market: Option<String>,
    /// The provider account's address (`spotcheck provider show` prints it).
    #[arg(long, env = "SPOTCHECK_WORKER_PROVIDER")]
    provider: Option<String>,
    /// A GGUF model file to serve (repeat for several); its SHA-256 must be a registered model of the market.
    #[arg(long = "model", env = "SPOTCHECK_WORKER_MODELS", value_delimiter = ',')]
    models: Vec<PathBuf>,
    /// auto (CUDA when a GPU is present, else the CPU), cpu or cuda.
    #[arg(long, env = "SPOTCHECK_WORKER_DEVICE")]
    device: Option<String>,
    /// CPU inference threads (0: all cores).
    #[arg(long, env = "SPOTCHECK_WORKER_THREADS")]
    threads: Option<usize>,
    /// Where the output server listens (the provider's on-chain endpoint should reach it).
    #[arg(long, env = "SPOTCHECK_WORKER_LISTEN")]
    listen: Option<String>,
    /// The most jobs claimed and not yet submitted at once.
    #[arg(long, env = "SPOTCHECK_WORKER_MAX_IN_FLIGHT")]
    max_in_flight: Option<usize>,
    /// The lowest price per token accepted, in payment-token base units.
    #[arg(long, env = "SPOTCHECK_WORKER_MIN_PRICE_PER_TOKEN")]
    min_price_per_token: Option<u64>,
    /// Where the database lives.
    #[arg(long, env = "SPOTCHECK_WORKER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The payment-token account settlements pay to (default: the stake wallet's associated token account).
    #[arg(long, env = "SPOTCHECK_WORKER_PAYOUT")]
    payout: Option<String>,
    /// Caps the database at this many 4 KiB pages (past it, writes fail as on a full disk).
    #[arg(long, env = "SPOTCHECK_WORKER_MAX_DATABASE_PAGES")]
    max_database_pages: Option<u32>,
    /// DISHONEST, FOR TESTS AND DEMOS ONLY: skip-work | smaller-model | truncate | withhold.
    /// The results are cheats and the provider's stake WILL be slashed.
    #[arg(long, env = "SPOTCHECK_WORKER_CHEAT")]
    cheat: Option<String>,
    /// The model `--cheat smaller-model` runs instead of the registered one.
    #[arg(long, env = "SPOTCHECK_WORKER_CHEAT_MODEL")]
    cheat_model: Option<PathBuf>,
}

fn required<T>(value: Option<T>, flag: &str) -> Result<T, WorkerError> {
    value.ok_or_else(|| {
        WorkerError::Config(format!("{flag} is required (as a flag, in the environment, or in --config)"))
    })
}

fn build(args: Args) -> Result<(Config, Cluster), WorkerError> {
    let file = match &args.config {
        Some(path) => FileConfig::read(path)?,
        None => FileConfig::default(),
    };
    let url = args.url.or(file.url).unwrap_or_else(|| "localhost".to_string());
    let cluster = Cluster::from_flags(&url, args.ws_url.or(file.ws_url).as_deref())?;
    let keypair_path = required(args.keypair.or(file.keypair), "--keypair")?;
    let worker = Arc::new(read_keypair(&keypair_path)?);
    let market = parse_pubkey("--market", &required(args.market.or(file.market), "--market")?)?;
    let provider = parse_pubkey("--provider", &required(args.provider.or(file.provider), "--provider")?)?;
    let models = if args.models.is_empty() { file.models.unwrap_or_default() } else { args.models };
    let data_dir = args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("spotcheck-worker-data"));
    let mut config = Config::new(market, provider, worker, models, data_dir);
    if let Some(device) = args.device.or(file.device) {
        config.device = device.parse().map_err(WorkerError::Config)?;
    }
    if let Some(threads) = args.threads.or(file.threads) {
        config.threads = threads;
    }
    if let Some(listen) = args.listen.or(file.listen) {
        config.listen = listen
            .parse::<SocketAddr>()
            .map_err(|_| WorkerError::Config(format!("--listen `{listen}` is not an address like 0.0.0.0:8900")))?;
    }
    if let Some(max) = args.max_in_flight.or(file.max_in_flight) {
        config.max_in_flight = max;
    }
    if let Some(min) = args.min_price_per_token.or(file.min_price_per_token) {
        config.min_price_per_token = min;
    }
    if let Some(payout) = args.payout.or(file.payout) {
        config.payout = Some(parse_pubkey("--payout", &payout)?);
    }
    config.max_database_pages = args.max_database_pages.or(file.max_database_pages);
    if let Some(mode) = args.cheat {
        config.cheat = Some(Cheat::parse(&mode, args.cheat_model)?);
    }
    Ok((config, cluster))
}

fn main() -> ExitCode {
    let args = Args::parse();
    spotcheck_service::binary::main(
        "spotcheck-worker",
        "stopping: no new claims; finishing the job in hand",
        |shutdown| async move {
            let (config, cluster) = build(args)?;
            let chain: Arc<dyn Chain> = Arc::new(RpcChain::connect(RpcChainConfig::new(cluster)).await?);
            spotcheck_worker::run(config, chain, shutdown).await
        },
    )
}
