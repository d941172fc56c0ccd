//! The `spotcheck` binary's read commands refuse bad input before any
//! request, saying what to change (exit status 1).

use std::process::Command;

fn spotcheck(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_spotcheck")).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_addresses_statuses_and_clusters_are_refused_with_what_to_change() {
    let (code, _, err) = spotcheck(&["job", "show", "not-an-address"]);
    assert_eq!(code, 1);
    assert!(err.contains("job `not-an-address` is not a base-58 Solana address"), "{err}");
    let market = "11111111111111111111111111111111";
    let (code, _, err) = spotcheck(&["job", "list", "--market", market, "--status", "done"]);
    assert_eq!(code, 1);
    assert!(err.contains("--status `done` is not a job status (open, claimed"), "{err}");
    let (code, _, err) = spotcheck(&["market", "show", market, "--url", "ftp://node"]);
    assert_eq!(code, 1);
    assert!(err.contains("should start with http"), "{err}");
    let (code, _, err) = spotcheck(&["market", "show", market, "--output", "yaml"]);
    assert_eq!(code, 2, "clap refuses an unknown format");
    assert!(err.contains("json-compact"), "{err}");
    let (code, out, _) = spotcheck(&["job", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("show") && out.contains("list"), "{out}");
}
