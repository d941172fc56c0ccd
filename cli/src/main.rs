//! `spotcheck`: the command line of the Spotcheck market.

mod demo;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "spotcheck", version, about = "Verifiable AI inference market on Solana")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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

#[derive(Clone, Copy, clap::ValueEnum)]
enum OutputFormat {
    Display,
    Json,
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
            }
        }
    }
    Ok(())
}
