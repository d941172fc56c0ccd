//! `spotcheck`: the command line of the Spotcheck market.

mod demo;

use std::path::PathBuf;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use spotcheck::state::JobStatus;
use spotcheck_cli::output::{OutputFormat, render};
use spotcheck_cli::views;
use spotcheck_client::chain::{Chain, Cluster, RpcChain, RpcChainConfig};

#[derive(Parser)]
#[command(name = "spotcheck", version, about = "Verifiable AI inference market on Solana")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where to read from and how to print (every read command takes these).
#[derive(Args)]
struct ChainArgs {
    /// The cluster: localhost, devnet, testnet, mainnet-beta (or l/d/t/m), or an RPC URL.
    #[arg(short = 'u', long, default_value = "localhost", env = "SPOTCHECK_URL")]
    url: String,
    /// The PubSub (websocket) URL, when it is not the RPC URL's with ws(s):// and the next port.
    #[arg(long, env = "SPOTCHECK_WS_URL")]
    ws_url: Option<String>,
    /// How to print the result.
    #[arg(long, value_name = "FORMAT", default_value = "display")]
    output: OutputFormat,
}

#[derive(Subcommand)]
enum MarketCommand {
    /// A market's terms, oracle set and ledger.
    Show {
        /// The market's address.
        market: String,
        #[command(flatten)]
        chain: ChainArgs,
    },
}

#[derive(Subcommand)]
enum ProviderCommand {
    /// A provider's stake, worker key, endpoint and record.
    Show {
        /// The provider account's address.
        provider: String,
        #[command(flatten)]
        chain: ChainArgs,
    },
    /// A market's providers.
    List {
        #[arg(long)]
        market: String,
        #[command(flatten)]
        chain: ChainArgs,
    },
}

#[derive(Subcommand)]
enum JobCommand {
    /// A job: its request, result, draw, challenge and what it waits for now.
    Show {
        /// The job's address.
        job: String,
        #[command(flatten)]
        chain: ChainArgs,
    },
    /// A market's jobs, oldest first.
    List {
        #[arg(long)]
        market: String,
        /// Only jobs in this status: open, claimed, submitted, attested, withheld, verified, rejected.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        chain: ChainArgs,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Markets.
    #[command(subcommand)]
    Market(MarketCommand),
    /// Providers.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Jobs.
    #[command(subcommand)]
    Job(JobCommand),
    /// Run a whole market on an embedded local chain (LiteSVM with the SBF program),
    /// with real SmolLM2 answers, a cheating provider caught and slashed, and a report.
    Demo {
        /// The SmolLM2 GGUF (`engine/scripts/install-model.sh` prints its path).
        #[arg(long, value_name = "PATH", env = "SPOTCHECK_SMOLLM2_GGUF")]
        model: PathBuf,
        /// The program to load (what `sbf-build/build.sh` builds).
        #[arg(long, value_name = "PATH")]
        program: Option<PathBuf>,
        /// Token budget of each job.
        #[arg(long, default_value_t = 32)]
        max_tokens: u32,
        /// Inference threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Where inference runs: auto (CUDA when a GPU and its libraries are
        /// present, else the CPU, said once on stderr), cpu, or cuda.
        #[arg(long, default_value = "auto")]
        device: spotcheck_engine::DeviceChoice,
        /// Seed of every key in the demo, and so of every sampling draw (the
        /// default one samples bob's cheated job and one honest job; alice's
        /// verifier challenges the two cheats on her jobs).
        #[arg(long, default_value_t = 9)]
        seed: u8,
        /// Report format.
        #[arg(long, value_name = "FORMAT", default_value = "display")]
        output: OutputFormat,
    },
}

/// A base-58 address from the command line, with the argument's name in the error.
fn address(what: &str, text: &str) -> anyhow::Result<Pubkey> {
    Pubkey::from_str(text.trim()).map_err(|_| anyhow::anyhow!("{what} `{text}` is not a base-58 Solana address"))
}

fn job_status(text: &str) -> anyhow::Result<JobStatus> {
    Ok(match text {
        "open" => JobStatus::Open,
        "claimed" => JobStatus::Claimed,
        "submitted" => JobStatus::Submitted,
        "attested" => JobStatus::Attested,
        "withheld" => JobStatus::Withheld,
        "verified" => JobStatus::Verified,
        "rejected" => JobStatus::Rejected,
        other => anyhow::bail!(
            "--status `{other}` is not a job status (open, claimed, submitted, attested, withheld, verified, rejected)"
        ),
    })
}

/// Runs a read command against `args`' cluster and prints its view.
fn read<T, F>(args: &ChainArgs, view: impl FnOnce(std::sync::Arc<dyn Chain>) -> F) -> anyhow::Result<()>
where
    T: serde::Serialize + std::fmt::Display,
    F: std::future::Future<Output = Result<T, views::ViewError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let value = runtime.block_on(async {
        let cluster = Cluster::from_flags(&args.url, args.ws_url.as_deref())?;
        let chain: std::sync::Arc<dyn Chain> =
            std::sync::Arc::new(RpcChain::connect(RpcChainConfig::new(cluster)).await?);
        view(chain).await.map_err(anyhow::Error::from)
    })?;
    print!("{}", render(&value, args.output).context("rendering the output")?);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { model, program, max_tokens, threads, device, seed, output } => {
            let program = program.unwrap_or_else(spotcheck_localchain::default_program_path);
            let config = demo::DemoConfig { program: &program, model: &model, max_tokens, threads, device, seed };
            let report = demo::run(&config)?;
            match output {
                OutputFormat::Display => print!("{}", report.render()),
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report.to_json())?),
                OutputFormat::JsonCompact => println!("{}", serde_json::to_string(&report.to_json())?),
            }
        }
        Command::Market(MarketCommand::Show { market, chain }) => {
            let market = address("market", &market)?;
            read(&chain, |c| async move { views::market_show(&*c, &market).await })?;
        }
        Command::Provider(ProviderCommand::Show { provider, chain }) => {
            let provider = address("provider", &provider)?;
            read(&chain, |c| async move { views::provider_show(&*c, &provider).await })?;
        }
        Command::Provider(ProviderCommand::List { market, chain }) => {
            let market = address("--market", &market)?;
            read(&chain, |c| async move { views::provider_list(&*c, &market).await })?;
        }
        Command::Job(JobCommand::Show { job, chain }) => {
            let job = address("job", &job)?;
            read(&chain, |c| async move { views::job_show(&*c, &job).await })?;
        }
        Command::Job(JobCommand::List { market, status, chain }) => {
            let market = address("--market", &market)?;
            let status = status.as_deref().map(job_status).transpose()?;
            read(&chain, |c| async move { views::job_list(&*c, &market, status).await })?;
        }
    }
    Ok(())
}
