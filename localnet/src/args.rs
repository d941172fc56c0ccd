//! Command line of `spotcheck-localnet`, kept apart from the node so it can be
//! tested without starting one.

use std::{fmt, path::PathBuf, str::FromStr};

use solana_pubkey::Pubkey;

/// The Spotcheck program's localnet address (`declare_id!`, keys/spotcheck-program-keypair.json).
pub const SPOTCHECK_PROGRAM_ID: Pubkey = Pubkey::from_str_const("AqZAGvSDPyK8LCFL7eMm8uqjLBNN3gm7qRtaq3ra3kU3");
/// Where ./sbf-build/build.sh leaves the program, relative to the repository root.
pub const SPOTCHECK_PROGRAM_SO: &str = "target/deploy/spotcheck.so";
/// The ports solana-test-validator uses by default, so `--url localhost` finds the node.
pub const DEFAULT_RPC_PORT: u16 = 8899;
pub const DEFAULT_WS_PORT: u16 = 8900;

pub const USAGE: &str = "\
usage: spotcheck-localnet [--rpc-port N] [--ws-port N] [--program ID=PATH]... [--slot-time-ms N] [-v]

A local Solana node (Surfpool 1.6.1, offline, in memory) on 127.0.0.1 with SBF programs
preloaded. Prints `READY rpc=http://127.0.0.1:P ws=ws://127.0.0.1:Q` on stdout once every
program is loaded; stops on SIGINT/SIGTERM (exit 0).

  --rpc-port N        JSON-RPC port (default 8899; 0 = a free port, reported in READY)
  --ws-port N         PubSub websocket port (default 8900; 0 = a free port)
  --program ID=PATH   load the SBF program PATH at address ID (repeatable; default:
                      AqZAGvSDPyK8LCFL7eMm8uqjLBNN3gm7qRtaq3ra3kU3=target/deploy/spotcheck.so)
  --slot-time-ms N    slot duration (default 250, Surfpool's)
  -v, --verbose       also print the node's info logs on stderr";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    pub rpc_port: u16,
    pub ws_port: u16,
    pub programs: Vec<ProgramSpec>,
    pub slot_time_ms: u64,
    pub verbose: bool,
}

/// One `--program ID=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramSpec {
    pub id: Pubkey,
    pub path: PathBuf,
}

/// A command line that cannot be run; printed above the usage text.
#[derive(Debug, PartialEq, Eq)]
pub enum ArgsError {
    /// `--help`: not an error, but it ends parsing the same way.
    Help,
    Invalid(String),
}

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgsError::Help => f.write_str("help requested"),
            ArgsError::Invalid(message) => f.write_str(message),
        }
    }
}

impl FromStr for ProgramSpec {
    type Err = ArgsError;

    fn from_str(spec: &str) -> Result<Self, ArgsError> {
        let (id, path) = spec.split_once('=').ok_or_else(|| {
            ArgsError::Invalid(format!(
                "--program '{spec}' should be ID=PATH (e.g. {SPOTCHECK_PROGRAM_ID}={SPOTCHECK_PROGRAM_SO})"
            ))
        })?;
        let id = Pubkey::from_str(id)
            .map_err(|e| ArgsError::Invalid(format!("--program '{spec}': '{id}' is not a base58 address ({e})")))?;
        if path.is_empty() {
            return Err(ArgsError::Invalid(format!("--program '{spec}': the path after '=' is empty")));
        }
        Ok(ProgramSpec { id, path: PathBuf::from(path) })
    }
}

impl Args {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, ArgsError> {
        let mut rpc_port = DEFAULT_RPC_PORT;
        let mut ws_port = DEFAULT_WS_PORT;
        let mut programs: Vec<ProgramSpec> = Vec::new();
        let mut slot_time_ms = surfpool_types::DEFAULT_SLOT_TIME_MS;
        let mut verbose = false;

        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            // Both `--flag value` and `--flag=value`, as clap-based Solana tools accept.
            let (flag, inline_value) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value.to_string())),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline_value
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| ArgsError::Invalid(format!("{name} needs a value")))
            };
            match flag.as_str() {
                "--rpc-port" => rpc_port = parse_number(&flag, &value(&flag)?)?,
                "--ws-port" => ws_port = parse_number(&flag, &value(&flag)?)?,
                "--slot-time-ms" => {
                    slot_time_ms = parse_number(&flag, &value(&flag)?)?;
                    if slot_time_ms == 0 {
                        return Err(ArgsError::Invalid("--slot-time-ms must be at least 1".into()));
                    }
                }
                "--program" => {
                    let spec: ProgramSpec = value(&flag)?.parse()?;
                    if programs.iter().any(|p| p.id == spec.id) {
                        return Err(ArgsError::Invalid(format!("--program: {} is given twice", spec.id)));
                    }
                    programs.push(spec);
                }
                "-v" | "--verbose" | "-h" | "--help" if inline_value.is_some() => {
                    return Err(ArgsError::Invalid(format!("{flag} takes no value")));
                }
                "-v" | "--verbose" => verbose = true,
                "-h" | "--help" => return Err(ArgsError::Help),
                _ => return Err(ArgsError::Invalid(format!("unknown argument '{arg}'"))),
            }
        }
        if rpc_port != 0 && rpc_port == ws_port {
            return Err(ArgsError::Invalid(format!(
                "--rpc-port and --ws-port are both {rpc_port}: they need two different ports"
            )));
        }
        if programs.is_empty() {
            programs.push(ProgramSpec { id: SPOTCHECK_PROGRAM_ID, path: PathBuf::from(SPOTCHECK_PROGRAM_SO) });
        }
        Ok(Args { rpc_port, ws_port, programs, slot_time_ms, verbose })
    }
}

fn parse_number<T: FromStr>(flag: &str, value: &str) -> Result<T, ArgsError> {
    value.parse().map_err(|_| ArgsError::Invalid(format!("{flag} '{value}' is not a valid number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[&str]) -> Result<Args, ArgsError> {
        Args::parse(line.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_load_the_spotcheck_program_on_the_validator_ports() {
        let args = parse(&[]).unwrap();
        assert_eq!((args.rpc_port, args.ws_port), (8899, 8900));
        assert_eq!(
            args.programs,
            vec![ProgramSpec { id: SPOTCHECK_PROGRAM_ID, path: PathBuf::from("target/deploy/spotcheck.so") }]
        );
        assert_eq!(args.slot_time_ms, surfpool_types::DEFAULT_SLOT_TIME_MS);
        assert!(!args.verbose);
    }

    #[test]
    fn ports_and_programs_in_both_spellings() {
        let other = "11111111111111111111111111111111";
        let args = parse(&[
            "--rpc-port",
            "0",
            "--ws-port=0",
            "--program",
            &format!("{other}=/tmp/a.so"),
            &format!("--program={SPOTCHECK_PROGRAM_ID}=b/c.so"),
            "-v",
        ])
        .unwrap();
        assert_eq!((args.rpc_port, args.ws_port), (0, 0));
        assert_eq!(args.programs.len(), 2, "an explicit --program replaces the default");
        assert_eq!(args.programs[0].id.to_string(), other);
        assert_eq!(args.programs[0].path, PathBuf::from("/tmp/a.so"));
        assert_eq!(args.programs[1].id, SPOTCHECK_PROGRAM_ID);
        assert_eq!(args.programs[1].path, PathBuf::from("b/c.so"));
        assert!(args.verbose);
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        let message = |line: &[&str]| match parse(line) {
            Err(ArgsError::Invalid(message)) => message,
            other => panic!("{line:?} should be refused, got {other:?}"),
        };
        assert!(message(&["--rpc-port", "99999"]).contains("not a valid number"));
        assert!(message(&["--rpc-port"]).contains("needs a value"));
        assert!(message(&["--rpc-port", "7000", "--ws-port", "7000"]).contains("two different ports"));
        assert!(message(&["--program", "x.so"]).contains("ID=PATH"));
        assert!(message(&["--program", "notbase58!=x.so"]).contains("not a base58 address"));
        assert!(message(&["--program", &format!("{SPOTCHECK_PROGRAM_ID}=")]).contains("empty"));
        let twice = format!("{SPOTCHECK_PROGRAM_ID}=a.so");
        assert!(message(&["--program", &twice, "--program", &twice]).contains("given twice"));
        assert!(message(&["--slot-time-ms", "0"]).contains("at least 1"));
        assert!(message(&["--bind", "0.0.0.0"]).contains("unknown argument"));
        assert!(message(&["--verbose=yes"]).contains("takes no value"));
        assert_eq!(parse(&["--help"]), Err(ArgsError::Help));
    }
}
