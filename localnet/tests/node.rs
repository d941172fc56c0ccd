//! The local node as its users meet it: `scripts/localnet.sh` started on free
//! ports, READY read from its stdout, then real JSON-RPC and websocket traffic,
//! then SIGTERM to its process group. The script runs the launcher cargo built
//! with this test (`SPOTCHECK_LOCALNET_BIN`), so these sources are what is
//! tested, not whatever binary happens to be installed.
//!
//! The node test needs the SBF build (`./sbf-build/build.sh`); without it it
//! prints that it skipped, or fails when `SPOTCHECK_REQUIRE_LOCALNET=1` (CI).
//! The failure cases need no build.

use std::{
    collections::{BTreeSet, HashSet},
    io::{BufRead, BufReader, Read},
    net::TcpListener,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    str::FromStr,
    sync::{Arc, Mutex, mpsc},
    thread,
    time::{Duration, Instant},
};

use solana_client::{pubsub_client::PubsubClient, rpc_client::RpcClient};
use solana_commitment_config::CommitmentConfig;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;

const PROGRAM_ID: &str = "AqZAGvSDPyK8LCFL7eMm8uqjLBNN3gm7qRtaq3ra3kU3";
const UPGRADEABLE_LOADER: &str = "BPFLoaderUpgradeab1e11111111111111111111111";
const LAMPORTS_PER_SOL: u64 = 1_000_000_000;
/// Generous: the node is ready in well under a second, but CI shares two
/// cores with builds.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);

/// The checkout the tests run in. Read when the test runs (cargo sets
/// CARGO_MANIFEST_DIR for it), not baked in when it was compiled: the
/// launcher's target dir is shared by every checkout on the machine, and
/// cargo reuses a test binary built from another clone's identical sources.
fn repo_root() -> PathBuf {
    let manifest =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest.parent().map_or_else(|| Path::new(".").to_path_buf(), Path::to_path_buf)
}

fn program_so() -> PathBuf {
    repo_root().join("target/deploy/spotcheck.so")
}

/// A fresh directory for one test's files.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spotcheck-localnet-test-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `scripts/localnet.sh` in its own process group, as the chain conformance
/// tests start it; killed with its group if a test fails half-way.
struct Node {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stdout_lines: Vec<String>,
}

enum Start {
    Ready { rpc: String, ws: String },
    Exited(ExitStatus),
}

impl Node {
    fn spawn(args: &[&str]) -> Node {
        let mut child = Command::new(repo_root().join("scripts/localnet.sh"))
            .args(args)
            .env("SPOTCHECK_LOCALNET_BIN", env!("CARGO_BIN_EXE_spotcheck-localnet"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("scripts/localnet.sh should start");

        let (line_tx, stdout) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Drained all along (a full stderr pipe would stall the node), kept
        // for the assertions, and echoed for whoever reads the test's output.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]);
                eprint!("{text}");
                sink.lock().unwrap().push_str(&text);
            }
        });
        Node { child, stdout, stderr, stdout_lines: Vec::new() }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Reads stdout until the READY line (the contract: parse `rpc=` and
    /// `ws=` from it) or until the process exits.
    fn wait_for_ready(&mut self) -> Start {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.stdout.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    self.stdout_lines.push(line.clone());
                    if line.starts_with("READY") {
                        let field = |name: &str| {
                            line.split_whitespace()
                                .find_map(|word| word.strip_prefix(name))
                                .unwrap_or_else(|| panic!("READY line without {name}: {line}"))
                                .to_string()
                        };
                        return Start::Ready { rpc: field("rpc="), ws: field("ws=") };
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Start::Exited(self.wait_for_exit());
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                return Start::Exited(status);
            }
            assert!(Instant::now() < deadline, "no READY within {READY_TIMEOUT:?}; stderr:\n{}", self.stderr());
        }
    }

    fn wait_for_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + EXIT_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the stderr reader catch up with the last lines.
                thread::sleep(Duration::from_millis(100));
                return status;
            }
            assert!(Instant::now() < deadline, "still running {EXIT_TIMEOUT:?} later; stderr:\n{}", self.stderr());
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// What a failing start printed, after checking that it exited 1 without READY.
    fn expect_failure(mut self) -> String {
        match self.wait_for_ready() {
            Start::Ready { rpc, .. } => panic!("the node started ({rpc}) but should have refused"),
            Start::Exited(status) => {
                assert_eq!(status.code(), Some(1), "stderr:\n{}", self.stderr());
                assert!(!self.stdout_lines.iter().any(|l| l.starts_with("READY")), "{:?}", self.stdout_lines);
                self.stderr()
            }
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // SAFETY: kill(2) on our own child's process group.
            unsafe { libc::kill(-self.pid(), libc::SIGKILL) };
            let _ = self.child.wait();
        }
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no port in {url}"))
}

/// The addresses a process listens on over TCP, as (ip, port), from /proc.
/// A set: the HTTP server listens with one socket per thread on one port.
fn listening_sockets(pid: i32) -> BTreeSet<(String, u16)> {
    let inodes: HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(target.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let mut sockets = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for row in text.lines().skip(1) {
            let cols: Vec<&str> = row.split_whitespace().collect();
            // local_address is cols[1] (hex IP:port), st cols[3] (0A = LISTEN), inode cols[9].
            if cols.len() > 9 && cols[3] == "0A" && inodes.contains(cols[9]) {
                let (ip, port) = cols[1].split_once(':').unwrap();
                let ip = match ip {
                    "0100007F" => "127.0.0.1".to_string(),
                    "00000000" => "0.0.0.0".to_string(),
                    other => other.to_string(),
                };
                sockets.insert((ip, u16::from_str_radix(port, 16).unwrap()));
            }
        }
    }
    sockets
}

/// An ELF header that passes the launcher's early SBF check; the ports are
/// checked before any program is loaded, so the port tests need no build.
fn fake_sbf_header(dir: &Path) -> PathBuf {
    let mut elf = vec![0u8; 64];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2; // 64-bit
    elf[5] = 1; // little-endian
    elf[18..20].copy_from_slice(&247u16.to_le_bytes()); // EM_BPF
    let path = dir.join("header-only.so");
    std::fs::write(&path, elf).unwrap();
    path
}

#[test]
fn node_serves_the_program_and_stops_cleanly_on_sigterm() {
    let so = program_so();
    if !so.exists() {
        let why = format!("{} is missing: build it with ./sbf-build/build.sh", so.display());
        if std::env::var_os("SPOTCHECK_REQUIRE_LOCALNET").is_some() {
            panic!("SPOTCHECK_REQUIRE_LOCALNET is set but {why}");
        }
        eprintln!("skipped node_serves_the_program_and_stops_cleanly_on_sigterm: {why}");
        return;
    }
    let elf = std::fs::read(&so).unwrap();

    let started = Instant::now();
    let mut node = Node::spawn(&["--rpc-port", "0", "--ws-port", "0"]);
    let (rpc, ws) = match node.wait_for_ready() {
        Start::Ready { rpc, ws } => (rpc, ws),
        Start::Exited(status) => panic!("the node exited ({status}) before READY; stderr:\n{}", node.stderr()),
    };
    eprintln!("READY after {} ms", started.elapsed().as_millis());
    assert_eq!(
        node.stdout_lines,
        vec![format!("JSON RPC URL: {rpc}"), format!("WebSocket PubSub URL: {ws}"), format!("READY rpc={rpc} ws={ws}")]
    );
    assert!(rpc.starts_with("http://127.0.0.1:") && ws.starts_with("ws://127.0.0.1:"), "{rpc} {ws}");
    let (rpc_port, ws_port) = (port_of(&rpc), port_of(&ws));
    assert!(rpc_port != 0 && ws_port != 0 && rpc_port != ws_port, "{rpc} {ws}");

    // Loopback only, and nothing listening beyond the two ports READY names.
    assert_eq!(
        listening_sockets(node.pid()),
        BTreeSet::from([("127.0.0.1".to_string(), rpc_port), ("127.0.0.1".to_string(), ws_port)]),
        "the launcher (pid {}) should listen on exactly the READY ports, on 127.0.0.1",
        node.pid()
    );

    let client = RpcClient::new_with_commitment(rpc.clone(), CommitmentConfig::confirmed());
    client.get_health().expect("getHealth");

    // The program account, and behind it the exact bytes of the SBF build.
    let program_id = Pubkey::from_str(PROGRAM_ID).unwrap();
    let loader = Pubkey::from_str(UPGRADEABLE_LOADER).unwrap();
    let program = client.get_account(&program_id).expect("the program account exists");
    assert!(program.executable, "the program account should be executable");
    assert_eq!(program.owner, loader);
    // UpgradeableLoaderState::Program { programdata_address }: a u32 tag (2), then the address.
    assert_eq!(program.data[..4], 2u32.to_le_bytes());
    let programdata_address = Pubkey::try_from(&program.data[4..36]).unwrap();
    let programdata = client.get_account(&programdata_address).expect("the programdata account exists");
    // ProgramData { slot, upgrade_authority }: tag (4) + slot (8) + Option<Pubkey> (1 + 32), then the ELF.
    assert_eq!(programdata.data[..4], 3u32.to_le_bytes());
    assert!(
        programdata.data.len() >= 45 + elf.len() && programdata.data[45..45 + elf.len()] == elf[..],
        "the programdata should hold target/deploy/spotcheck.so byte for byte"
    );

    // Airdrop, then a transfer confirmed at `confirmed`.
    let payer = Keypair::new();
    let airdrop = client.request_airdrop(&payer.pubkey(), 2 * LAMPORTS_PER_SOL).expect("requestAirdrop");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client.confirm_transaction(&airdrop).expect("confirm the airdrop") {
        assert!(Instant::now() < deadline, "the airdrop was not confirmed within 30 s");
        thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(client.get_balance(&payer.pubkey()).unwrap(), 2 * LAMPORTS_PER_SOL);

    let recipient = Keypair::new().pubkey();
    let amount = LAMPORTS_PER_SOL / 4;
    let blockhash = client.get_latest_blockhash().unwrap();
    let transfer = solana_system_transaction::transfer(&payer, &recipient, amount, blockhash);
    let fee = client.get_fee_for_message(&transfer.message).unwrap();
    let signature = client.send_and_confirm_transaction(&transfer).expect("the transfer is confirmed");
    assert_eq!(client.get_signature_status(&signature).unwrap(), Some(Ok(())));
    assert_eq!(client.get_balance(&recipient).unwrap(), amount);
    assert_eq!(client.get_balance(&payer.pubkey()).unwrap(), 2 * LAMPORTS_PER_SOL - amount - fee);

    // The program really runs (not a placeholder): an unknown instruction
    // reaches Anchor's dispatcher, which refuses it with
    // InstructionFallbackNotFound (custom error 101 = 0x65).
    let unknown = Instruction::new_with_bytes(program_id, &[0u8; 8], vec![]);
    let blockhash = client.get_latest_blockhash().unwrap();
    let call = Transaction::new_signed_with_payer(&[unknown], Some(&payer.pubkey()), &[&payer], blockhash);
    let simulated = client.simulate_transaction(&call).expect("simulateTransaction").value;
    let logs = simulated.logs.unwrap_or_default();
    assert!(simulated.err.is_some(), "an unknown instruction should fail: {logs:?}");
    assert!(logs.iter().any(|l| l == &format!("Program {PROGRAM_ID} invoke [1]")), "{logs:?}");
    assert!(logs.iter().any(|l| l.contains("custom program error: 0x65")), "{logs:?}");

    // The websocket: a slot notification arrives. On its own thread, because
    // the blocking pubsub client has been seen to hang when closed.
    let (slot_tx, slot_rx) = mpsc::channel();
    let ws_url = ws.clone();
    thread::spawn(move || {
        let outcome = PubsubClient::slot_subscribe(&ws_url)
            .map_err(|e| e.to_string())
            .and_then(|(_subscription, slots)| slots.recv_timeout(Duration::from_secs(30)).map_err(|e| e.to_string()));
        let _ = slot_tx.send(outcome.map(|info| info.slot));
    });
    match slot_rx.recv_timeout(Duration::from_secs(40)) {
        Ok(Ok(slot)) => assert!(slot > 0),
        Ok(Err(e)) => panic!("slotSubscribe on {ws}: {e}"),
        Err(_) => panic!("slotSubscribe on {ws}: no answer within 40 s"),
    }

    // SIGTERM to the process group, as the conformance tests stop it.
    let pgid = node.pid();
    // SAFETY: kill(2) on the process group of our own child.
    assert_eq!(unsafe { libc::kill(-pgid, libc::SIGTERM) }, 0);
    let status = node.wait_for_exit();
    assert_eq!(status.code(), Some(0), "SIGTERM should stop the node cleanly; stderr:\n{}", node.stderr());
    assert!(node.stderr().contains("stopped"), "stderr:\n{}", node.stderr());
    // No process left in its group (kill with signal 0 only checks).
    // SAFETY: as above; signal 0 sends nothing.
    let left = unsafe { libc::kill(-pgid, 0) };
    assert_eq!(
        (left, std::io::Error::last_os_error().raw_os_error()),
        (-1, Some(libc::ESRCH)),
        "a process of the node's group is still running"
    );
    for port in [rpc_port, ws_port] {
        TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| panic!("port {port} still taken after exit: {e}"));
    }
}

#[test]
fn a_missing_program_file_says_to_build_it() {
    let missing = scratch_dir("missing").join("spotcheck.so");
    let stderr = Node::spawn(&[
        "--rpc-port",
        "0",
        "--ws-port",
        "0",
        "--program",
        &format!("{PROGRAM_ID}={}", missing.display()),
    ])
    .expect_failure();
    assert!(stderr.contains(&format!("program file {} does not exist", missing.display())), "{stderr}");
    assert!(stderr.contains("./sbf-build/build.sh"), "{stderr}");
}

#[test]
fn a_host_binary_is_refused_as_not_sbf() {
    // The launcher itself: an x86-64 ELF, like a `cargo build` of the program.
    let host_elf = env!("CARGO_BIN_EXE_spotcheck-localnet");
    let stderr = Node::spawn(&["--rpc-port", "0", "--ws-port", "0", "--program", &format!("{PROGRAM_ID}={host_elf}")])
        .expect_failure();
    assert!(stderr.contains("x86-64 ELF"), "{stderr}");
    assert!(stderr.contains("SBF programs only"), "{stderr}");
}

#[test]
fn a_corrupt_sbf_file_is_refused_when_loaded() {
    // Passes the early header check, so LiteSVM's own verification has to
    // refuse it; Surfpool's write path alone would only log that.
    let dir = scratch_dir("corrupt");
    let program = format!("{PROGRAM_ID}={}", fake_sbf_header(&dir).display());
    let stderr = Node::spawn(&["--rpc-port", "0", "--ws-port", "0", "--program", &program]).expect_failure();
    assert!(stderr.contains(&format!("loading program {PROGRAM_ID} from")), "{stderr}");
    assert!(stderr.contains("LiteSVM refused the program"), "{stderr}");
}

#[test]
fn a_port_in_use_is_named() {
    let dir = scratch_dir("port");
    let program = format!("{PROGRAM_ID}={}", fake_sbf_header(&dir).display());
    let taken = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = taken.local_addr().unwrap().port().to_string();

    let stderr = Node::spawn(&["--rpc-port", &port, "--ws-port", "0", "--program", &program]).expect_failure();
    assert!(stderr.contains(&format!("RPC port {port} on 127.0.0.1 is already in use")), "{stderr}");
    assert!(stderr.contains("--rpc-port"), "{stderr}");

    let stderr = Node::spawn(&["--rpc-port", "0", "--ws-port", &port, "--program", &program]).expect_failure();
    assert!(stderr.contains(&format!("WebSocket port {port} on 127.0.0.1 is already in use")), "{stderr}");
    assert!(stderr.contains("--ws-port"), "{stderr}");
}

#[test]
fn a_bad_command_line_exits_2_with_usage() {
    let mut node = Node::spawn(&["--rpc-port", "not-a-port"]);
    let Start::Exited(status) = node.wait_for_ready() else { panic!("a bad port should not start a node") };
    assert_eq!(status.code(), Some(2));
    assert!(node.stderr().contains("not a port number"), "{}", node.stderr());
}
