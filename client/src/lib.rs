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

/// The custom error code the program fails with for `error` (Anchor numbers
/// them from 6000), as [`chain::ChainError::program_error`] reports it.
pub fn program_error_code(error: spotcheck::error::SpotcheckError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + error as u32
}

/// Decodes an Anchor account (discriminator checked) from raw account data.
pub fn decode_account<T: AccountDeserialize>(data: &[u8]) -> anchor_lang::Result<T> {
    T::try_deserialize(&mut &data[..])
}
