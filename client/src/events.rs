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
