//! Settings from flags and config files — the TOML file, addresses, keys —
//! with errors that say which setting is wrong and how to fix it.

use std::path::Path;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use serde::de::DeserializeOwned;
use solana_keypair::Keypair;

/// A daemon's TOML config file; the error names the file and the problem
/// (an unknown field, with `deny_unknown_fields`, names the field).
pub fn read_toml<T: DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read the config file {}: {err}", path.display()))?;
    toml::from_str(&text).map_err(|err| format!("config file {}: {err}", path.display()))
}

/// A base-58 address; the error names the field (`--market`, ...).
pub fn parse_pubkey(field: &str, text: &str) -> Result<Pubkey, String> {
    Pubkey::from_str(text.trim()).map_err(|_| format!("{field} `{text}` is not a base-58 Solana address"))
}

/// A JSON keypair file (as `solana-keygen new -o` writes it); the error is
/// the reason, for the caller's message naming which key it is.
pub fn read_keypair(path: &Path) -> Result<Keypair, String> {
    solana_keypair::read_keypair_file(path).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_keypairs_fail_with_what_to_fix() {
        assert!(parse_pubkey("--market", "nope").unwrap_err().contains("--market `nope` is not a base-58"));
        assert!(parse_pubkey("--market", " 11111111111111111111111111111111 ").is_ok(), "spaces are trimmed");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        std::fs::write(&path, "[1, 2, 3]").unwrap();
        assert!(read_keypair(&path).is_err());
        assert!(read_keypair(&dir.path().join("missing.json")).is_err());
    }
}
