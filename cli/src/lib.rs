//! The `spotcheck` command line as a library: every command is a function
//! over the one [`Chain`](spotcheck_client::chain::Chain) interface that
//! returns a value which is both `Serialize` (for `--output json`) and
//! `Display` (for people), as spl-token-cli's `output.rs` does, so the tests
//! run each command against the embedded chain through the same code the
//! binary runs over RPC.

pub mod output;
pub mod views;
