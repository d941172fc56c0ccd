//! The `spotcheck-oracle` binary: its help, and configuration errors that
//! say what to fix (exit status 1, nothing started).

use std::process::Command;

fn oracle(args: &[&str]) -> (i32, String, String) {
    let output =
        Command::new(env!("CARGO_BIN_EXE_spotcheck-oracle")).args(args).env_remove("RUST_LOG").output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_setting() {
    let (code, out, _) = oracle(&["--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--url",
        "--keypair",
        "--market",
        "--model",
        "--device",
        "--listen",
        "--data-dir",
        "--fetch-timeout-ms",
        "--withhold-margin-slots",
        "SPOTCHECK_ORACLE_",
    ] {
        assert!(out.contains(flag), "--help lacks {flag}:\n{out}");
    }
}

#[test]
fn configuration_errors_say_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = oracle(&["--market", "11111111111111111111111111111111"]);
    assert_eq!(code, 1);
    assert!(err.contains("--keypair is required"), "{err}");

    let key = dir.path().join("oracle.json");
    std::fs::write(&key, format!("{:?}", solana_keypair::Keypair::new().to_bytes().to_vec())).unwrap();
    let key = key.to_str().unwrap();
    let (code, _, err) = oracle(&["--keypair", key, "--market", "not-an-address"]);
    assert_eq!(code, 1);
    assert!(err.contains("--market `not-an-address` is not a base-58"), "{err}");
    let (code, _, err) =
        oracle(&["--keypair", key, "--market", "11111111111111111111111111111111", "--listen", "here"]);
    assert_eq!(code, 1);
    assert!(err.contains("--listen `here`"), "{err}");
    let (code, _, err) =
        oracle(&["--keypair", key, "--market", "11111111111111111111111111111111", "--fetch-timeout-ms", "0"]);
    assert_eq!(code, 1);
    assert!(err.contains("at least 1"), "{err}");
    let config = dir.path().join("oracle.toml");
    std::fs::write(&config, "quorum = 3\n").unwrap();
    let (code, _, err) = oracle(&["--config", config.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown field") && err.contains("quorum"), "{err}");
}
