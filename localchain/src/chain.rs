//! The embedded chain behind the same [`Chain`] interface as a cluster, so a
//! service runs unchanged in the demo and the fast tests. Everything happens
//! in-process: a transaction is executed (and so confirmed) when `send`
//! returns; slots move only when asked (`advance_slots`, or the chain's own
//! `warp_*`); events come from the transactions it executed.
//!
//! `LocalChain` keeps its synchronous `&mut self` API for setup and tests;
//! `SharedLocalChain` puts it behind a lock so that the async interface (and
//! several services at once) can share it. The lock is a std `Mutex`: it is
//! never held across an `.await`, and each hold is one LiteSVM call
//! (milliseconds), short enough to run on the async threads.

use std::sync::{Arc, Mutex, MutexGuard};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use async_trait::async_trait;
use solana_account::Account;
use solana_keypair::Keypair;
use solana_message::Message;
use solana_signer::Signer;
use solana_transaction::Transaction;
use spotcheck_client::chain::{
    AccountFilter, Chain, ChainError, Confirmed, EventCursor, EventPage, ProgramEvent, Refusal, Wakeups,
};

use crate::LocalChain;

/// What `Chain::cluster` says for the embedded chain.
pub const CLUSTER_NAME: &str = "embedded";

/// A `LocalChain` shared between tasks; clones are the same chain.
#[derive(Clone)]
pub struct SharedLocalChain {
    inner: Arc<Mutex<LocalChain>>,
}

impl From<LocalChain> for SharedLocalChain {
    fn from(chain: LocalChain) -> Self {
        SharedLocalChain { inner: Arc::new(Mutex::new(chain)) }
    }
}

impl SharedLocalChain {
    pub fn new(chain: LocalChain) -> Self {
        chain.into()
    }

    /// The synchronous API, for setup (mints, airdrops) and inspection.
    pub fn lock(&self) -> MutexGuard<'_, LocalChain> {
        // A test that panicked while holding the lock leaves LiteSVM between
        // two calls, never inside one: its state is still consistent.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Produces `slots` empty slots, as time passing would.
    pub fn advance_slots(&self, slots: u64) {
        self.lock().warp_slots(slots);
    }
}

#[async_trait]
impl Chain for SharedLocalChain {
    fn cluster(&self) -> String {
        CLUSTER_NAME.to_string()
    }

    fn program_id(&self) -> Pubkey {
        spotcheck::ID
    }

    async fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<Confirmed, ChainError> {
        let payer = signers
            .first()
            .ok_or_else(|| ChainError::InvalidInput("a transaction needs a signer: the first one pays the fee".into()))?
            .pubkey();
        let mut chain = self.lock();
        let mut tx = Transaction::new_unsigned(Message::new(instructions, Some(&payer)));
        tx.try_sign(signers, chain.svm.latest_blockhash()).map_err(|err| {
            ChainError::InvalidInput(format!("cannot sign the transaction: {err} (are all its signers given?)"))
        })?;
        // Simulate first, as over RPC: a refusal leaves no trace at all.
        if let Err(failed) = chain.svm.simulate_transaction(tx.clone()) {
            return Err(ChainError::Refused(Box::new(Refusal::new(failed.err, failed.meta.logs, 0))));
        }
        let signature = spotcheck_client::chain::signature_of(&tx);
        match chain.execute(tx) {
            Ok(_) => Ok(Confirmed { signature, slot: chain.slot(), sends: 1, signings: 1 }),
            Err(failed) => Err(ChainError::Refused(Box::new(Refusal::new(failed.err, failed.meta.logs, 0)))),
        }
    }

    async fn account(&self, address: &Pubkey) -> Result<Option<Account>, ChainError> {
        Ok(self.lock().svm.get_account(address))
    }

    async fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ChainError> {
        let chain = self.lock();
        Ok(addresses.iter().map(|address| chain.svm.get_account(address)).collect())
    }

    async fn program_accounts(&self, filters: &[AccountFilter]) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        let mut found: Vec<(Pubkey, Account)> = self
            .lock()
            .svm
            .get_program_accounts(&spotcheck::ID)
            .into_iter()
            .filter(|(_, account)| filters.iter().all(|filter| filter.matches(&account.data)))
            .collect();
        // A node's order is unspecified; a stable one keeps runs repeatable.
        found.sort_by_key(|(address, _)| *address);
        Ok(found)
    }

    async fn slot(&self) -> Result<u64, ChainError> {
        Ok(self.lock().slot())
    }

    async fn latest_cursor(&self) -> Result<Option<EventCursor>, ChainError> {
        Ok(self.lock().history().last().map(|tx| EventCursor { slot: tx.slot, signature: tx.signature }))
    }

    async fn events_after(
        &self,
        cursor: Option<&EventCursor>,
        max_transactions: usize,
    ) -> Result<EventPage, ChainError> {
        let chain = self.lock();
        let history = chain.history();
        let start = match cursor {
            None => 0,
            Some(cursor) => match history.iter().position(|tx| tx.signature == cursor.signature) {
                Some(index) => index + 1,
                None => {
                    return Err(ChainError::CursorNotFound {
                        cluster: CLUSTER_NAME.to_string(),
                        cursor: cursor.to_string(),
                    });
                }
            },
        };
        let rest = &history[start..];
        let batch = &rest[..rest.len().min(max_transactions.max(1))];
        let mut page = EventPage { cursor: cursor.copied(), more: batch.len() < rest.len(), ..EventPage::default() };
        for tx in batch {
            let found = spotcheck_client::events::program_data(&tx.logs, &spotcheck::ID);
            page.logs_truncated |= found.truncated;
            page.events.extend(found.payloads.into_iter().zip(0u32..).map(|(data, index)| ProgramEvent {
                signature: tx.signature,
                slot: tx.slot,
                index,
                data,
            }));
            page.cursor = Some(EventCursor { slot: tx.slot, signature: tx.signature });
        }
        Ok(page)
    }

    async fn wakeups(&self) -> Result<Wakeups, ChainError> {
        let (sender, wakeups) = Wakeups::channel();
        self.lock().add_wakeup(sender);
        Ok(wakeups)
    }
}
