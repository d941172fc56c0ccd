//! Test harness over the embedded chain (`spotcheck-localchain`): the real SBF
//! build of the program in LiteSVM, so compute units are real.
//!
//! - `TestEnv` is a `LocalChain` whose setup helpers panic instead of
//!   returning errors (a failed setup is a failed test), and which prints its
//!   compute-unit table when dropped (`--nocapture` shows it).
//! - `expect_error` asserts the exact program error of a failed transaction.
//! - `fixtures` makes markets; `assert_conservation` checks vaults against
//!   the accounts.

pub mod events;
pub mod fixtures;
pub mod jobs;

use std::ops::{Deref, DerefMut};

use anchor_lang::prelude::Pubkey;
use solana_instruction_error::InstructionError;
use solana_keypair::Keypair;
use solana_transaction_error::TransactionError;
pub use spotcheck::error::SpotcheckError;
use spotcheck_localchain::tokens::LocalMint;
pub use spotcheck_localchain::{LocalChain, TxResult};

pub struct TestEnv {
    chain: LocalChain,
}

impl TestEnv {
    pub fn new() -> Self {
        let chain =
            LocalChain::new(&spotcheck_localchain::default_program_path()).unwrap_or_else(|err| panic!("{err}"));
        TestEnv { chain }
    }

    pub fn wallet(&mut self) -> Keypair {
        self.chain.wallet().unwrap_or_else(|err| panic!("{err}"))
    }

    pub fn seeded_wallet(&mut self, seed: u8) -> Keypair {
        self.chain.seeded_wallet(seed).unwrap_or_else(|err| panic!("{err}"))
    }

    pub fn create_mint(&mut self, program: Pubkey) -> LocalMint {
        self.chain.create_mint(program).unwrap_or_else(|err| panic!("{err}"))
    }

    pub fn create_transfer_fee_mint(&mut self) -> LocalMint {
        self.chain.create_transfer_fee_mint().unwrap_or_else(|err| panic!("{err}"))
    }

    pub fn create_token_account(&mut self, mint: LocalMint, owner: &Pubkey) -> Pubkey {
        self.chain.create_token_account(mint, owner).unwrap_or_else(|err| panic!("{err}"))
    }

    pub fn funded_token_account(&mut self, mint: LocalMint, owner: &Pubkey, amount: u64) -> Pubkey {
        self.chain.funded_token_account(mint, owner, amount).unwrap_or_else(|err| panic!("{err}"))
    }

    pub fn mint_to(&mut self, mint: LocalMint, account: &Pubkey, amount: u64) {
        self.chain.mint_to(mint, account, amount).unwrap_or_else(|err| panic!("{err}"))
    }

    /// This chain behind the `Chain` interface the services and the CLI use
    /// (its compute-unit table is not printed).
    pub fn into_shared(mut self) -> spotcheck_localchain::SharedLocalChain {
        let fresh =
            LocalChain::new(&spotcheck_localchain::default_program_path()).unwrap_or_else(|err| panic!("{err}"));
        spotcheck_localchain::SharedLocalChain::new(std::mem::replace(&mut self.chain, fresh))
    }

    /// Decodes an account of the program; panics with the address if it is absent or not one.
    #[track_caller]
    pub fn account<T: anchor_lang::AccountDeserialize>(&self, address: &Pubkey) -> T {
        self.chain
            .program_account(address)
            .unwrap_or_else(|| panic!("{address} is not a {} of the program", std::any::type_name::<T>()))
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for TestEnv {
    type Target = LocalChain;
    fn deref(&self) -> &LocalChain {
        &self.chain
    }
}

impl DerefMut for TestEnv {
    fn deref_mut(&mut self) -> &mut LocalChain {
        &mut self.chain
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if self.chain.cu_log().is_empty() || std::thread::panicking() {
            return;
        }
        let name = std::thread::current().name().unwrap_or("test").to_string();
        println!("compute units, SBF build ({name}):\n{}", self.chain.cu_table());
    }
}

/// The custom error code Anchor returns for `error`.
pub fn error_code(error: SpotcheckError) -> u32 {
    spotcheck_client::program_error_code(error)
}

/// Asserts that `result` failed with the program's `expected` error.
#[track_caller]
pub fn expect_error(result: TxResult, expected: SpotcheckError) {
    expect_custom_error(result, error_code(expected), &format!("{expected:?}"));
}

/// Asserts that `result` failed with one of Anchor's own errors (constraint, signer, ...).
#[track_caller]
pub fn expect_anchor_error(result: TxResult, expected: anchor_lang::error::ErrorCode) {
    expect_custom_error(result, expected as u32, &format!("{expected:?}"));
}

#[track_caller]
fn expect_custom_error(result: TxResult, code: u32, name: &str) {
    match result {
        Ok(meta) => {
            panic!("expected error {name} ({code}), but the transaction succeeded; logs:\n{}", meta.logs.join("\n"))
        }
        Err(failed) => match &failed.err {
            TransactionError::InstructionError(_, InstructionError::Custom(got)) if *got == code => {}
            other => panic!("expected error {name} ({code}), got {other:?}; logs:\n{}", failed.meta.logs.join("\n")),
        },
    }
}

/// Asserts that `result` failed, whatever the reason (for failures the
/// runtime or the token program raise before the program's own checks).
#[track_caller]
pub fn expect_failure(result: TxResult) -> TransactionError {
    match result {
        Ok(meta) => panic!("expected a failure, but the transaction succeeded; logs:\n{}", meta.logs.join("\n")),
        Err(failed) => failed.err,
    }
}

/// Replaces every use of `old` in `ix`'s account list with `new`, for tests
/// that pass a wrong account on purpose; panics if `old` isn't there.
#[track_caller]
pub fn swap_account(ix: &mut anchor_lang::solana_program::instruction::Instruction, old: Pubkey, new: Pubkey) {
    let mut found = false;
    for meta in ix.accounts.iter_mut().filter(|meta| meta.pubkey == old) {
        meta.pubkey = new;
        found = true;
    }
    assert!(found, "{old} is not among the instruction's accounts");
}
