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
    /// Run a market on an embedded local chain (LiteSVM with the SBF program) and print a report.
    Demo {
        /// The program to load (what `sbf-build/build.sh` builds).
        #[arg(long, value_name = "PATH")]
        program: Option<PathBuf>,
        /// Print the report as JSON.
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
        Command::Demo { program, output } => {
            let program = program.unwrap_or_else(spotcheck_localchain::default_program_path);
            let report = demo::run(&program)?;
            match output {
                OutputFormat::Display => print!("{}", report.render()),
                OutputFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&report.to_json())?)
                }
            }
        }
    }
    Ok(())
}
