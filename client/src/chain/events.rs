//! The program's events as a chain delivers them: each one with the
//! transaction it came from, in chain order, and a cursor a service persists
//! so that after a restart it continues where it stopped.
//!
//! Events only say where to look. A node may truncate a transaction's logs
//! (and with them its events), so a service acts on the accounts an event
//! names, read back from the chain, and rescans when `logs_truncated` is set.

use std::fmt;
use std::str::FromStr;

use anchor_lang::{Discriminator, Event};
use solana_signature::Signature;

use super::ChainError;

/// One `emit!` of the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramEvent {
    /// The transaction that emitted it.
    pub signature: Signature,
    pub slot: u64,
    /// Its position among the transaction's events.
    pub index: u32,
    /// The Anchor discriminator followed by the Borsh-encoded event.
    pub data: Vec<u8>,
}

impl ProgramEvent {
    /// Whether this is an event of type `T`.
    pub fn is<T: Discriminator>(&self) -> bool {
        self.data.starts_with(T::DISCRIMINATOR)
    }

    /// The event as `T`, if it is one (and decodes).
    pub fn decode<T: Event>(&self) -> Option<T> {
        let body = self.data.strip_prefix(T::DISCRIMINATOR)?;
        T::deserialize(&mut &body[..]).ok()
    }
}

/// The last transaction whose events were delivered. Persist it (its
/// `Display` form parses back) and pass it back after a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventCursor {
    pub slot: u64,
    pub signature: Signature,
}

impl fmt::Display for EventCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.slot, self.signature)
    }
}

impl FromStr for EventCursor {
    type Err = ChainError;

    fn from_str(text: &str) -> Result<Self, ChainError> {
        let bad = || ChainError::InvalidInput(format!("`{text}` is not an event cursor (SLOT:SIGNATURE)"));
        let (slot, signature) = text.trim().split_once(':').ok_or_else(bad)?;
        Ok(EventCursor { slot: slot.parse().map_err(|_| bad())?, signature: signature.parse().map_err(|_| bad())? })
    }
}

/// What a catch-up found after a cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventPage {
    /// Events of the transactions that succeeded, oldest first. Failed
    /// transactions changed nothing, so their logs' events are dropped.
    pub events: Vec<ProgramEvent>,
    /// Where the next catch-up starts: the newest transaction looked at
    /// (failed ones and ones without events included); the cursor passed in
    /// when nothing was new.
    pub cursor: Option<EventCursor>,
    /// Some transaction's logs were cut short: its events may be missing,
    /// read the accounts.
    pub logs_truncated: bool,
    /// More transactions wait after `cursor` (the page was full).
    pub more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_text_form() {
        let cursor = EventCursor { slot: 1234, signature: Signature::from([9u8; 64]) };
        let text = cursor.to_string();
        assert_eq!(text.parse::<EventCursor>().unwrap(), cursor);
        for bad in ["", "12", "x:y", "12:notasignature"] {
            assert!(matches!(bad.parse::<EventCursor>(), Err(ChainError::InvalidInput(_))), "{bad}");
        }
    }
}
