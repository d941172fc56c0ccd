//! A local node for the RPC tier, started with the project's own script
//! (`scripts/localnet.sh`) on free ports and stopped when the guard drops,
//! even when the test panics.
//!
//! No node (the script or its build missing) means the tier skips and says
//! why, unless `SPOTCHECK_REQUIRE_LOCALNET=1` (CI), where it fails.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the node may take to print READY (the reference measured
/// 0.1-0.55 s; a loaded 2-core machine is slower).
const READY_WAIT: Duration = Duration::from_secs(120);

pub struct Localnet {
    pub rpc_url: String,
    pub ws_url: String,
    child: Child,
}

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Whether a missing node must fail the test (CI) rather than skip it.
pub fn required() -> bool {
    std::env::var("SPOTCHECK_REQUIRE_LOCALNET").is_ok_and(|value| value == "1")
}

/// Skips (returns `None` after printing why) or, when required, fails.
fn unavailable(why: String) -> Option<Localnet> {
    if required() {
        panic!("SPOTCHECK_REQUIRE_LOCALNET=1 but no local node: {why}");
    }
    println!("skipped: {why}");
    None
}

impl Localnet {
    /// Starts a node, or says why it cannot.
    pub fn start() -> Option<Localnet> {
        let script = workspace_root().join("scripts/localnet.sh");
        if !script.exists() {
            return unavailable(format!(
                "{} does not exist (the localnet-node branch is not merged)",
                script.display()
            ));
        }
        let spawned = {
            use std::os::unix::process::CommandExt;
            Command::new(&script)
                // Port 0: the node binds free ports and READY names them (no
                // race between picking a port and binding it).
                .args(["--rpc-port", "0", "--ws-port", "0"])
                .current_dir(workspace_root())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                // Its own process group, so the whole tree can be stopped.
                .process_group(0)
                .spawn()
        };
        let mut child = match spawned {
            Ok(child) => child,
            Err(err) => return unavailable(format!("cannot run {}: {err}", script.display())),
        };
        let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return unavailable("no pipes to the node".into());
        };
        let (lines_tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr_tail = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut guard = Localnet { rpc_url: String::new(), ws_url: String::new(), child };
        loop {
            match lines.recv_timeout(READY_WAIT) {
                Ok(line) => {
                    if let Some((rpc, ws)) = parse_ready(&line) {
                        guard.rpc_url = rpc;
                        guard.ws_url = ws;
                        // Keep draining stdout so the node never blocks on a full pipe.
                        std::thread::spawn(move || for _ in lines {});
                        return Some(guard);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    drop(guard);
                    return unavailable(format!("{} printed no READY line within {READY_WAIT:?}", script.display()));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = guard.child.wait().map(|status| status.to_string()).unwrap_or_default();
                    let errors = stderr_tail.join().unwrap_or_default();
                    let tail: Vec<&str> = errors.lines().rev().take(5).collect();
                    let tail: Vec<&str> = tail.into_iter().rev().collect();
                    return unavailable(format!(
                        "{} exited ({status}) before READY: {}",
                        script.display(),
                        tail.join(" | ")
                    ));
                }
            }
        }
    }
}

/// `READY rpc=http://127.0.0.1:P ws=ws://127.0.0.1:Q` (anything may follow).
pub fn parse_ready(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix("READY ")?;
    let mut rpc = None;
    let mut ws = None;
    for word in rest.split_whitespace() {
        if let Some(url) = word.strip_prefix("rpc=") {
            rpc = Some(url.to_string());
        } else if let Some(url) = word.strip_prefix("ws=") {
            ws = Some(url.to_string());
        }
    }
    Some((rpc?, ws?))
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
