//! An embedded chain: LiteSVM with the SBF build of the Spotcheck program
//! loaded at its declared id, SPL Token (p-token) and Token-2022 preloaded.
//! The demo runs a whole market on it; the tests run every instruction on it.
//! Because the program is the real `.so`, compute units are real.

pub mod chain;
pub mod tokens;

pub use chain::SharedLocalChain;

use std::path::{Path, PathBuf};

use anchor_lang::prelude::{Clock, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use litesvm::LiteSVM;
use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use solana_keypair::Keypair;
use solana_message::Message;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;
use spotcheck_client::chain::WakeupSender;

/// Lamports every new wallet starts with.
pub const WALLET_LAMPORTS: u64 = 100_000_000_000;
/// LiteSVM's clock starts at slot 0; the chain starts somewhere less special.
pub const START_SLOT: u64 = 1_000;
/// Entries a validator keeps in the SlotHashes sysvar.
pub const MAX_SLOT_HASHES: u64 = 512;

pub type TxResult = Result<TransactionMetadata, Box<FailedTransactionMetadata>>;

#[derive(Debug, thiserror::Error)]
pub enum LocalChainError {
    #[error("cannot read the program at {path}: {source}. Build it first: ./sbf-build/build.sh")]
    ProgramMissing { path: PathBuf, source: std::io::Error },
    #[error("the SVM refused the program at {path}: {reason}. Rebuild it: ./sbf-build/build.sh")]
    ProgramRejected { path: PathBuf, reason: String },
    #[error("funding {address} failed: {reason}")]
    Airdrop { address: Pubkey, reason: String },
    #[error("{what} failed: {reason}")]
    Setup { what: String, reason: String },
}

/// Where `sbf-build/build.sh` puts the program, from the workspace root.
pub fn default_program_path() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).join("target/deploy/spotcheck.so")
}

/// One compute-unit measurement: what ran, how many units, whether it succeeded.
#[derive(Clone, Debug)]
pub struct CuRecord {
    pub label: String,
    pub units: u64,
    pub ok: bool,
}

pub struct LocalChain {
    pub svm: LiteSVM,
    /// Pays every transaction fee, so the wallets in play only move what the program moves.
    pub payer: Keypair,
    cu_log: Vec<CuRecord>,
    /// Keys made so far; see `next_keypair`.
    keys_made: u64,
    /// The program's successful transactions, in order: what a node's
    /// signature history would list, for catch-up through `Chain`.
    history: Vec<ExecutedTx>,
    /// Whoever follows the program's events (`Chain::wakeups`).
    wakeups: Vec<WakeupSender>,
}

/// A transaction of the program that this chain executed.
#[derive(Clone, Debug)]
pub struct ExecutedTx {
    pub signature: Signature,
    pub slot: u64,
    pub logs: Vec<String>,
}

impl LocalChain {
    /// A chain with the program at `program_so` loaded at `spotcheck::ID`.
    pub fn new(program_so: &Path) -> Result<Self, LocalChainError> {
        let so = std::fs::read(program_so)
            .map_err(|source| LocalChainError::ProgramMissing { path: program_so.to_path_buf(), source })?;
        let mut svm = LiteSVM::new();
        svm.add_program(spotcheck::ID, &so).map_err(|err| LocalChainError::ProgramRejected {
            path: program_so.to_path_buf(),
            reason: format!("{err:?}"),
        })?;
        let mut chain = LocalChain {
            svm,
            payer: Keypair::new_from_array([0; 32]),
            cu_log: Vec::new(),
            keys_made: 0,
            history: Vec::new(),
            wakeups: Vec::new(),
        };
        chain.warp_to(START_SLOT);
        let payer = chain.payer.pubkey();
        chain.airdrop(&payer, WALLET_LAMPORTS)?;
        Ok(chain)
    }

    pub fn airdrop(&mut self, address: &Pubkey, lamports: u64) -> Result<(), LocalChainError> {
        self.svm
            .airdrop(address, lamports)
            .map(|_| ())
            .map_err(|failed| LocalChainError::Airdrop { address: *address, reason: format!("{:?}", failed.err) })
    }

    /// A fresh keypair, derived from how many this chain has made: the same
    /// sequence of calls gives the same keys on every run. Keys decide PDA bump
    /// searches and hash-set probes inside the program, so deterministic keys
    /// make compute units (and sampling draws) repeat exactly.
    pub fn next_keypair(&mut self) -> Keypair {
        self.keys_made += 1;
        let seed = solana_sha256_hasher::hashv(&[b"spotcheck-localchain-key", &self.keys_made.to_le_bytes()]);
        Keypair::new_from_array(seed.to_bytes())
    }

    /// A new wallet holding `WALLET_LAMPORTS`.
    pub fn wallet(&mut self) -> Result<Keypair, LocalChainError> {
        let wallet = self.next_keypair();
        self.fund(wallet)
    }

    /// A wallet whose key is derived from `seed`: the same on every run, so
    /// PDAs derived from it (and the compute units their bump searches cost)
    /// are the same on every run too.
    pub fn seeded_wallet(&mut self, seed: u8) -> Result<Keypair, LocalChainError> {
        self.fund(Keypair::new_from_array([seed; 32]))
    }

    fn fund(&mut self, wallet: Keypair) -> Result<Keypair, LocalChainError> {
        self.airdrop(&wallet.pubkey(), WALLET_LAMPORTS)?;
        Ok(wallet)
    }

    /// Sends `ixs` in one transaction, fee paid by `self.payer`, signed by it
    /// and `signers`, and records its compute units under `label`.
    pub fn send(&mut self, label: &str, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let result = self.send_unrecorded(ixs, signers);
        let (units, ok) = match &result {
            Ok(meta) => (meta.compute_units_consumed, true),
            Err(failed) => (failed.meta.compute_units_consumed, false),
        };
        self.cu_log.push(CuRecord { label: label.to_string(), units, ok });
        result
    }

    /// `send` without recording compute units: for setup steps.
    pub fn send_unrecorded(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let mut all_signers: Vec<&Keypair> = vec![&self.payer];
        all_signers.extend_from_slice(signers);
        let message = Message::new(ixs, Some(&self.payer.pubkey()));
        let tx = Transaction::new(&all_signers, message, self.svm.latest_blockhash());
        self.execute(tx)
    }

    /// Executes a signed transaction, records it if it is the program's,
    /// and wakes whoever follows the program's events.
    pub fn execute(&mut self, tx: Transaction) -> TxResult {
        let mentions_program = tx.message.account_keys.contains(&spotcheck::ID);
        let result = self.svm.send_transaction(tx).map_err(Box::new);
        // A fresh blockhash per transaction, so two identical sends are two transactions.
        self.svm.expire_blockhash();
        if let (Ok(meta), true) = (&result, mentions_program) {
            self.history.push(ExecutedTx { signature: meta.signature, slot: self.slot(), logs: meta.logs.clone() });
            self.wakeups.retain(|wakeup| wakeup.wake());
        }
        result
    }

    /// The program's transactions executed so far, oldest first.
    pub fn history(&self) -> &[ExecutedTx] {
        &self.history
    }

    /// Wakes `wakeup` after each transaction of the program.
    pub fn add_wakeup(&mut self, wakeup: WakeupSender) {
        self.wakeups.push(wakeup);
    }

    pub fn lamports(&self, address: &Pubkey) -> u64 {
        self.svm.get_account(address).map_or(0, |account| account.lamports)
    }

    pub fn account_exists(&self, address: &Pubkey) -> bool {
        self.svm.get_account(address).is_some_and(|account| account.lamports > 0)
    }

    /// Decodes an account of the program, checking owner and discriminator.
    pub fn program_account<T: anchor_lang::AccountDeserialize>(&self, address: &Pubkey) -> Option<T> {
        let account = self.svm.get_account(address)?;
        if account.owner != spotcheck::ID {
            return None;
        }
        spotcheck_client::decode_account(&account.data).ok()
    }

    pub fn slot(&self) -> u64 {
        self.svm.get_sysvar::<Clock>().slot
    }

    /// Moves the clock `slots` ahead, as if that many blocks had been produced.
    pub fn warp_slots(&mut self, slots: u64) {
        let slot = self.slot().saturating_add(slots);
        self.warp_to(slot);
    }

    /// Sets the clock to `slot` and fills the SlotHashes sysvar as a
    /// validator would: the hashes of the 512 slots before it, newest first.
    /// LiteSVM's own warp only moves the clock; the program's sampling reads
    /// SlotHashes. Each slot's hash is a pure function of the slot, so a
    /// test's draws repeat run to run.
    pub fn warp_to(&mut self, slot: u64) {
        self.svm.warp_to_slot(slot);
        let entries: Vec<solana_slot_hashes::SlotHash> = (slot.saturating_sub(MAX_SLOT_HASHES)..slot)
            .rev()
            .map(|past| (past, solana_sha256_hasher::hashv(&[b"spotcheck-localchain-slot", &past.to_le_bytes()])))
            .collect();
        self.svm.set_sysvar(&solana_slot_hashes::SlotHashes::new(&entries));
    }

    /// Compute units recorded so far, in order.
    pub fn cu_log(&self) -> &[CuRecord] {
        &self.cu_log
    }

    /// The CU log as a table, one line per transaction.
    pub fn cu_table(&self) -> String {
        self.cu_log
            .iter()
            .map(|record| {
                format!("  {:>8}  {}  {}\n", record.units, if record.ok { "ok " } else { "err" }, record.label)
            })
            .collect()
    }
}
