//! `spotcheck-localnet`: a local Solana node for Spotcheck, Surfpool's
//! `surfpool-core` behind a `solana-test-validator`-like command line.
//!
//! The node is offline (no remote datasource: nothing is forked from a real
//! cluster, so it runs where only package registries are reachable), keeps its
//! state in memory, and listens on 127.0.0.1 only. Its stdout carries exactly
//! three lines, the last being
//! `READY rpc=http://127.0.0.1:P ws=ws://127.0.0.1:Q`, printed once every
//! program is loaded: Surfpool answers `getHealth` before that, so callers must
//! wait for READY, not for health. Everything else goes to stderr. SIGINT or
//! SIGTERM stops the node and its servers and exits 0.

mod args;

use std::{
    io::{self, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender, bounded, never, select, unbounded};
use solana_pubkey::Pubkey;
use surfpool_core::surfnet::{
    locker::SurfnetSvmLocker,
    svm::{SurfnetSvm, SurfnetSvmConfig},
};
use surfpool_types::{BlockProductionMode, RpcConfig, SimnetCommand, SimnetConfig, SimnetEvent, SurfpoolConfig};
use tokio::{
    runtime::Runtime,
    signal::unix::{SignalKind, signal},
};

use crate::args::{Args, ArgsError, ProgramSpec, USAGE};

const NAME: &str = "spotcheck-localnet";
/// Programs are loaded as upgradeable BPF programs (what `solana program deploy` makes).
const BPF_LOADER_UPGRADEABLE: Pubkey = Pubkey::from_str_const("BPFLoaderUpgradeab1e11111111111111111111111");
/// ELF `e_machine` values of SBF programs: EM_BPF (SBPF v0-v2) and EM_SBPF (v3).
const EM_BPF: u16 = 247;
const EM_SBPF: u16 = 263;
const EM_X86_64: u16 = 62;
/// How long SIGTERM may take before we admit the node did not stop cleanly.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
enum LocalnetError {
    #[error(
        "program file {} does not exist: build the Spotcheck program with ./sbf-build/build.sh \
         (or pass --program ID=PATH for another one)",
        .0.display()
    )]
    ProgramMissing(PathBuf),
    #[error("cannot read program file {path}: {error}", path = .0.display(), error = .1)]
    ProgramUnreadable(PathBuf, io::Error),
    #[error(
        "{path} is {why}: the node runs SBF programs only, as ./sbf-build/build.sh (or cargo build-sbf) makes them",
        path = .0.display(),
        why = .1
    )]
    NotSbf(PathBuf, String),
    #[error(
        "{kind} port {port} on 127.0.0.1 is already in use (another node still running?): \
         stop it, or choose another port with {flag} (0 picks a free one)"
    )]
    PortInUse { kind: &'static str, port: u16, flag: &'static str },
    #[error("cannot bind the {kind} port {port} on 127.0.0.1: {error}")]
    Bind { kind: &'static str, port: u16, error: io::Error },
    #[error("cannot set up the launcher ({0}): {1}")]
    Setup(&'static str, io::Error),
    #[error("the node failed to start: {0}")]
    NodeStart(String),
    #[error("the node aborted: {0}")]
    NodeAborted(String),
    #[error("the node stopped unexpectedly ({0})")]
    NodeStopped(&'static str),
    #[error("loading program {id} from {}: {reason}", .path.display())]
    ProgramLoad { id: Pubkey, path: PathBuf, reason: String },
    #[error("cannot print the READY line on stdout: {0}")]
    Stdout(io::Error),
    #[error("the node did not stop within {}s of the signal", SHUTDOWN_GRACE.as_secs())]
    ShutdownTimeout,
}

fn main() -> ExitCode {
    let started = Instant::now();
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(ArgsError::Help) => {
            // `| head` closing the pipe early is no error worth a panic.
            let _ = writeln!(io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(ArgsError::Invalid(message)) => {
            eprintln!("{NAME}: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args, started) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{NAME}: error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// An SBF program read from disk, checked before the node starts so that a
/// wrong file is refused before any port is bound.
struct Program {
    id: Pubkey,
    path: PathBuf,
    elf: Vec<u8>,
}

fn run(args: Args, started: Instant) -> Result<(), LocalnetError> {
    let programs = args.programs.iter().map(read_program).collect::<Result<Vec<_>, _>>()?;

    // One small runtime on this thread: signal handlers, and the locker's
    // calls that need a multi-threaded runtime (`block_in_place`).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("localnet-signals")
        .enable_all()
        .build()
        .map_err(|e| LocalnetError::Setup("tokio runtime", e))?;
    // Installed before anything starts, so a SIGTERM at any point after this
    // takes the clean path instead of killing the process mid-start.
    let signals = listen_for_signals(&runtime)?;

    // The ports are held while both are chosen (so two zeros give two
    // different ports) and released just before the servers bind them.
    // Surfpool cannot report the port an OS-chosen bind got, hence choosing
    // here; the gap between release and bind is a few milliseconds.
    let rpc_listener = reserve_port("RPC", "--rpc-port", args.rpc_port)?;
    let ws_listener = reserve_port("WebSocket", "--ws-port", args.ws_port)?;
    let rpc_port = local_port(&rpc_listener)?;
    let ws_port = local_port(&ws_listener)?;

    let svm_config = SurfnetSvmConfig {
        slot_time: args.slot_time_ms,
        // Profiling re-executes every transaction instruction by instruction
        // for Surfpool's studio; the project never reads those profiles, and
        // on two shared cores it would double the cost of each transaction.
        instruction_profiling_enabled: false,
        ..SurfnetSvmConfig::default()
    };
    let (svm, events, geyser_events) =
        SurfnetSvm::new(svm_config).map_err(|e| LocalnetError::NodeStart(e.to_string()))?;
    let locker = SurfnetSvmLocker::new(svm);
    let config = SurfpoolConfig {
        simnets: vec![SimnetConfig {
            // No datasource: an account the node lacks is absent, never
            // fetched from mainnet.
            offline_mode: true,
            remote_rpc_url: None,
            slot_time: args.slot_time_ms,
            block_production_mode: BlockProductionMode::Clock,
            instruction_profiling_enabled: false,
            ..SimnetConfig::default()
        }],
        rpc: RpcConfig {
            bind_host: Ipv4Addr::LOCALHOST.to_string(),
            bind_port: rpc_port,
            ws_port,
            ..RpcConfig::default()
        },
        ..SurfpoolConfig::default()
    };

    drop((rpc_listener, ws_listener));
    let (commands_tx, commands_rx) = unbounded();
    let runloop_done = spawn_runloop(locker.clone(), config, commands_tx.clone(), commands_rx, geyser_events)?;

    let mut ready = false;
    loop {
        select! {
            recv(signals) -> name => {
                eprintln!("{NAME}: {}: stopping the node", name.unwrap_or("signal"));
                return shutdown(&commands_tx, &events, &runloop_done);
            }
            recv(runloop_done) -> result => {
                return Err(match result {
                    Ok(Err(message)) => LocalnetError::NodeStart(message),
                    Ok(Ok(())) => LocalnetError::NodeStopped("its run loop returned"),
                    Err(_) => LocalnetError::NodeStopped("its run loop panicked"),
                });
            }
            recv(events) -> event => match event {
                Ok(SimnetEvent::CoreStarted(_)) if !ready => {
                    load_programs(&runtime, &locker, &programs)?;
                    print_ready(rpc_port, ws_port).map_err(LocalnetError::Stdout)?;
                    eprintln!(
                        "{NAME}: ready after {} ms (Surfpool 1.6.1, offline, 127.0.0.1 only)",
                        started.elapsed().as_millis()
                    );
                    ready = true;
                }
                Ok(SimnetEvent::Aborted(reason)) => return Err(LocalnetError::NodeAborted(reason)),
                Ok(SimnetEvent::Shutdown) => {
                    return Err(LocalnetError::NodeStopped("one of its RPC servers exited"));
                }
                Ok(event) => log_event(event, args.verbose),
                Err(_) => return Err(LocalnetError::NodeStopped("its event channel closed")),
            }
        }
    }
}

fn read_program(spec: &ProgramSpec) -> Result<Program, LocalnetError> {
    let elf = std::fs::read(&spec.path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => LocalnetError::ProgramMissing(spec.path.clone()),
        _ => LocalnetError::ProgramUnreadable(spec.path.clone(), e),
    })?;
    check_sbf_elf(&elf).map_err(|why| LocalnetError::NotSbf(spec.path.clone(), why))?;
    Ok(Program { id: spec.id, path: spec.path.clone(), elf })
}

/// Refuses the common wrong files up front with a plain reason. LiteSVM
/// verifies the rest when the program is loaded.
fn check_sbf_elf(elf: &[u8]) -> Result<(), String> {
    if elf.len() < 20 || &elf[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    if elf[4] != 2 || elf[5] != 1 {
        return Err("not a 64-bit little-endian ELF".into());
    }
    match u16::from_le_bytes([elf[18], elf[19]]) {
        EM_BPF | EM_SBPF => Ok(()),
        EM_X86_64 => Err("an x86-64 ELF (a host build)".into()),
        machine => Err(format!("an ELF for machine {machine} (SBF is {EM_BPF} or {EM_SBPF})")),
    }
}

fn listen_for_signals(runtime: &Runtime) -> Result<Receiver<&'static str>, LocalnetError> {
    let _entered = runtime.enter();
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| LocalnetError::Setup("SIGTERM handler", e))?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| LocalnetError::Setup("SIGINT handler", e))?;
    let (tx, rx) = bounded(4);
    runtime.spawn(async move {
        loop {
            let name = tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            };
            if tx.send(name).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

fn reserve_port(kind: &'static str, flag: &'static str, port: u16) -> Result<TcpListener, LocalnetError> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).map_err(|error| {
        if error.kind() == io::ErrorKind::AddrInUse {
            LocalnetError::PortInUse { kind, port, flag }
        } else {
            LocalnetError::Bind { kind, port, error }
        }
    })
}

fn local_port(listener: &TcpListener) -> Result<u16, LocalnetError> {
    listener.local_addr().map(|addr| addr.port()).map_err(|e| LocalnetError::Setup("reading a reserved port", e))
}

/// Runs Surfpool's run loop on its own thread and runtime; the receiver gets
/// its outcome (an error as text: Surfpool's error type is not `Send`).
fn spawn_runloop(
    locker: SurfnetSvmLocker,
    config: SurfpoolConfig,
    commands_tx: Sender<SimnetCommand>,
    commands_rx: Receiver<SimnetCommand>,
    geyser_events: Receiver<surfpool_core::surfnet::GeyserEvent>,
) -> Result<Receiver<Result<(), String>>, LocalnetError> {
    let (done_tx, done_rx) = bounded(1);
    std::thread::Builder::new()
        .name("surfnet-runloop".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = done_tx.send(Err(format!("cannot build its tokio runtime: {e}")));
                    return;
                }
            };
            let outcome = runtime
                .block_on(surfpool_core::runloops::start_local_surfnet_runloop(
                    locker,
                    config,
                    commands_tx,
                    commands_rx,
                    geyser_events,
                ))
                .map_err(|e| e.to_string());
            // Report before dropping the runtime: dropping waits for its
            // blocking tasks, and the main thread must not wait on them.
            let _ = done_tx.send(outcome);
            drop(runtime);
        })
        .map_err(|e| LocalnetError::Setup("the run loop thread", e))?;
    Ok(done_rx)
}

fn load_programs(runtime: &Runtime, locker: &SurfnetSvmLocker, programs: &[Program]) -> Result<(), LocalnetError> {
    for program in programs {
        let loading = Instant::now();
        let failed = |reason: String| LocalnetError::ProgramLoad { id: program.id, path: program.path.clone(), reason };
        runtime.block_on(async {
            // Surfpool's own deploy path (its `surfnet_writeProgram` RPC):
            // program + programdata accounts under the upgradeable loader.
            locker.write_program(program.id, None, 0, &program.elf, &None).await.map_err(|e| failed(e.to_string()))?;
            let account = locker
                .with_svm_reader(|svm| svm.get_account(&program.id))
                .map_err(|e| failed(e.to_string()))?
                .ok_or_else(|| failed("the program account is missing after the write".into()))?;
            if !account.executable || account.owner != BPF_LOADER_UPGRADEABLE {
                return Err(failed(format!(
                    "the account is not an executable upgradeable program (owner {}, executable {})",
                    account.owner, account.executable
                )));
            }
            // write_program only logs it when LiteSVM refuses the ELF (it
            // expects partial multi-chunk writes); setting the finished
            // account again returns LiteSVM's verdict, so a bad program is an
            // error here rather than a failing transaction later.
            let id = program.id;
            locker
                .with_svm_writer(move |svm| svm.set_account(&id, account).map_err(|e| e.to_string()))
                .map_err(|reason| failed(format!("LiteSVM refused the program: {reason}")))
        })?;
        eprintln!(
            "{NAME}: loaded {} from {} ({} bytes) in {} ms",
            program.id,
            program.path.display(),
            program.elf.len(),
            loading.elapsed().as_millis()
        );
    }
    Ok(())
}

/// The only lines on stdout. The first two match solana-test-validator's
/// wording; the READY line is the contract scripts and tests wait for.
fn print_ready(rpc_port: u16, ws_port: u16) -> io::Result<()> {
    let rpc = format!("http://127.0.0.1:{rpc_port}");
    let ws = format!("ws://127.0.0.1:{ws_port}");
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "JSON RPC URL: {rpc}")?;
    writeln!(stdout, "WebSocket PubSub URL: {ws}")?;
    writeln!(stdout, "READY rpc={rpc} ws={ws}")?;
    stdout.flush()
}

fn log_event(event: SimnetEvent, verbose: bool) {
    match event {
        SimnetEvent::ErrorLog(_, message) => eprintln!("{NAME}: node error: {message}"),
        SimnetEvent::WarnLog(_, message) => eprintln!("{NAME}: node warning: {message}"),
        SimnetEvent::InfoLog(_, message) | SimnetEvent::DebugLog(_, message) if verbose => {
            eprintln!("{NAME}: {message}")
        }
        _ => {}
    }
}

/// Asks the run loop to terminate (it closes both RPC servers), then waits
/// for the loop to return and for both servers to report that they closed,
/// so the ports are free when the process exits.
fn shutdown(
    commands: &Sender<SimnetCommand>,
    events: &Receiver<SimnetEvent>,
    runloop_done: &Receiver<Result<(), String>>,
) -> Result<(), LocalnetError> {
    let deadline = Instant::now() + SHUTDOWN_GRACE;
    if commands.send(SimnetCommand::Terminate(None)).is_err() {
        return Err(LocalnetError::NodeStopped("its command channel closed before the signal"));
    }
    let mut runloop_done = runloop_done.clone();
    let mut events = events.clone();
    let (mut loop_returned, mut servers_closed) = (false, 0);
    while !(loop_returned && servers_closed == 2) {
        let left = deadline.saturating_duration_since(Instant::now());
        select! {
            recv(runloop_done) -> outcome => {
                if let Ok(Err(message)) = outcome {
                    eprintln!("{NAME}: the run loop ended with an error: {message}");
                }
                loop_returned = true;
                runloop_done = never();
            }
            recv(events) -> event => match event {
                Ok(SimnetEvent::Shutdown) => servers_closed += 1,
                Ok(event) => log_event(event, false),
                // Every sender is gone: nothing is left running to wait for.
                Err(_) => {
                    servers_closed = 2;
                    events = never();
                }
            },
            default(left) => return Err(LocalnetError::ShutdownTimeout),
        }
    }
    eprintln!("{NAME}: stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf_header(class: u8, machine: u16) -> Vec<u8> {
        let mut elf = vec![0u8; 64];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = class;
        elf[5] = 1;
        elf[18..20].copy_from_slice(&machine.to_le_bytes());
        elf
    }

    #[test]
    fn only_sbf_elves_pass_the_early_check() {
        assert_eq!(check_sbf_elf(&elf_header(2, EM_BPF)), Ok(()));
        assert_eq!(check_sbf_elf(&elf_header(2, EM_SBPF)), Ok(()));
        assert!(check_sbf_elf(&elf_header(2, EM_X86_64)).unwrap_err().contains("x86-64"));
        assert!(check_sbf_elf(&elf_header(1, EM_BPF)).unwrap_err().contains("64-bit"));
        assert!(check_sbf_elf(&elf_header(2, 40)).unwrap_err().contains("machine 40"));
        assert!(check_sbf_elf(b"#!/bin/sh\n").unwrap_err().contains("not an ELF"));
        assert!(check_sbf_elf(b"").unwrap_err().contains("not an ELF"));
    }

    #[test]
    fn a_taken_port_is_reported_as_in_use() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let error = reserve_port("RPC", "--rpc-port", port).unwrap_err();
        assert!(matches!(error, LocalnetError::PortInUse { port: p, .. } if p == port), "{error}");
        assert!(error.to_string().contains("already in use"), "{error}");
    }
}
