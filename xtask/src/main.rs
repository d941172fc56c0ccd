//! `cargo run -p xtask -- <task>`
//!
//! - `idl`: builds the program's IDL the way `anchor build` does (compiling
//!   the program natively with its `idl-build` feature; no SBF toolchain
//!   needed), writes `target/idl/spotcheck.json` and refreshes the committed
//!   copy `idl/spotcheck.json` that clients and the app read.
//! - `idl --check`: builds it the same way and fails if the committed copy
//!   differs, so CI catches a program change without a refreshed IDL.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["idl"] => idl(false),
        ["idl", "--check"] => idl(true),
        _ => Err(anyhow::anyhow!("usage: cargo run -p xtask -- idl [--check]")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The checkout it runs in: `cargo run` sets CARGO_MANIFEST_DIR when it runs
/// the binary (the compile-time value would name the checkout it was built
/// in, which a target dir moved or shared between clones gets wrong).
fn workspace_root() -> PathBuf {
    let manifest =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest.parent().expect("xtask lives in the workspace root").to_path_buf()
}

fn idl(check: bool) -> Result<()> {
    let root = workspace_root();
    // anchor-lang-idl re-invokes cargo as `cargo +$RUSTUP_TOOLCHAIN`, but
    // formats the toolchain name wrongly; rustup sets that variable for every
    // process it starts, so drop it and let the nested cargo pick the same
    // toolchain from the same environment.
    // SAFETY: single-threaded at this point; nothing else reads the environment.
    unsafe { std::env::remove_var("RUSTUP_TOOLCHAIN") };
    let idl = anchor_lang_idl::build::IdlBuilder::new().program_path(root.join("programs/spotcheck")).build().context(
        "building the IDL (cargo test __anchor_private_print_idl --features idl-build in programs/spotcheck)",
    )?;
    let json = serde_json::to_string_pretty(&idl)? + "\n";

    let built = root.join("target/idl/spotcheck.json");
    std::fs::create_dir_all(built.parent().unwrap_or(&root))?;
    std::fs::write(&built, &json).with_context(|| format!("writing {}", built.display()))?;

    let committed = root.join("idl/spotcheck.json");
    if check {
        let current = std::fs::read_to_string(&committed).unwrap_or_default();
        if current != json {
            bail!(
                "{} is out of date with the program: run `cargo run -p xtask -- idl` and commit it",
                committed.display()
            );
        }
        println!("idl/spotcheck.json is up to date ({} instructions)", idl.instructions.len());
    } else {
        std::fs::create_dir_all(root.join("idl"))?;
        std::fs::write(&committed, &json)?;
        println!("wrote target/idl/spotcheck.json and idl/spotcheck.json ({} instructions)", idl.instructions.len());
    }
    Ok(())
}
