//! Everything a Rust client needs to talk to the Spotcheck program: PDA
//! derivation from the program's own seed constants, one builder per
//! instruction, account readers, and chain access (`chain`: one interface,
//! over RPC or the embedded chain). The CLI, the services and the tests all
//! go through here, so an account list is written once.

pub mod chain;
pub mod events;
pub mod instructions;
pub mod pda;

pub use anchor_lang::prelude::Pubkey;
pub use spotcheck::ID as PROGRAM_ID;
pub use spotcheck::state;

use anchor_lang::AccountDeserialize;

/// Decodes an Anchor account (discriminator checked) from raw account data.
pub fn decode_account<T: AccountDeserialize>(data: &[u8]) -> anchor_lang::Result<T> {
    T::try_deserialize(&mut &data[..])
}
