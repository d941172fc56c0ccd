//! Reading the program's Anchor events back out of transaction logs.
//!
//! `emit!` writes `Program data: <base64(discriminator ++ borsh(event))>`;
//! services and tests decode those lines rather than poll accounts.

use anchor_lang::Event;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const DATA_PREFIX: &str = "Program data: ";

/// Every event of type `T` in `logs`, in order.
pub fn decode_all<T: Event>(logs: &[String]) -> Vec<T> {
    logs.iter()
        .filter_map(|line| line.strip_prefix(DATA_PREFIX))
        .filter_map(|data| STANDARD.decode(data).ok())
        .filter_map(|bytes| {
            let body = bytes.strip_prefix(T::DISCRIMINATOR)?;
            T::deserialize(&mut &body[..]).ok()
        })
        .collect()
}

/// The `emit!` payloads (discriminator ++ borsh) that `program_id` itself
/// logged, in order, and whether the node cut the logs short.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramData {
    pub payloads: Vec<Vec<u8>>,
    /// The runtime stops logging past its byte limit ("Log truncated"):
    /// events after that point are missing, so the caller must read the
    /// accounts instead.
    pub truncated: bool,
}

/// Follows the invoke stack in `logs` so that a `Program data:` line counts
/// only when `program_id` is the program running: a program it calls, or one
/// that calls it, may log data lines of its own.
pub fn program_data(logs: &[String], program_id: &anchor_lang::prelude::Pubkey) -> ProgramData {
    let id = program_id.to_string();
    let mut stack: Vec<&str> = Vec::new();
    let mut found = ProgramData::default();
    for line in logs {
        if let Some(data) = line.strip_prefix(DATA_PREFIX) {
            if stack.last() == Some(&id.as_str())
                && let Ok(bytes) = STANDARD.decode(data)
            {
                found.payloads.push(bytes);
            }
        } else if line == "Log truncated" {
            found.truncated = true;
        } else if let Some(rest) = line.strip_prefix("Program ") {
            let mut words = rest.split(' ');
            if let (Some(program), Some(what)) = (words.next(), words.next()) {
                match what {
                    "invoke" => stack.push(program),
                    "success" | "failed:" => {
                        stack.pop();
                    }
                    _ => {}
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_programs_own_data_lines_count() {
        let ours = spotcheck::ID;
        let other = anchor_lang::prelude::Pubkey::new_from_array([7; 32]);
        let logs: Vec<String> = [
            format!("Program {other} invoke [1]"),
            "Program data: AQID".to_string(),
            format!("Program {ours} invoke [2]"),
            "Program data: BAUG".to_string(),
            format!("Program {other} invoke [3]"),
            "Program data: BwgJ".to_string(),
            format!("Program {other} success"),
            "Program data: CgsM".to_string(),
            format!("Program {ours} consumed 100 of 200 compute units"),
            format!("Program {ours} success"),
            "Program data: DQ4P".to_string(),
            format!("Program {other} success"),
        ]
        .into();
        let found = program_data(&logs, &ours);
        assert_eq!(found.payloads, vec![vec![4, 5, 6], vec![10, 11, 12]]);
        assert!(!found.truncated);
    }

    #[test]
    fn a_truncated_log_is_reported() {
        let ours = spotcheck::ID;
        let logs =
            vec![format!("Program {ours} invoke [1]"), "Program data: AQID".to_string(), "Log truncated".to_string()];
        let found = program_data(&logs, &ours);
        assert_eq!(found.payloads, vec![vec![1, 2, 3]]);
        assert!(found.truncated);
    }
}
