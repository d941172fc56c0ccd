//! Chain access behind one interface, after spl-token-client's
//! `ProgramClient` (RPC and in-process banks behind one trait): every service
//! and the CLI talk to the chain through [`Chain`], and do not care whether
//! it is a cluster over JSON-RPC ([`RpcChain`]) or the embedded LiteSVM
//! chain (`spotcheck_localchain::SharedLocalChain`).
//!
//! - `send` signs, simulates, sends and waits for confirmation; a refusal
//!   comes back as [`ChainError::Refused`] with the program's error and logs.
//! - `account(s)`, `program_accounts` (with [`filters`]) and `slot` read state.
//! - `events_after` catches up on the program's events from a cursor the
//!   caller persists; `wakeups` says when to look again. [`EventFeed`] joins
//!   the two (plus a slow poll and periodic rescans) into one stream.

pub mod backoff;
pub mod cluster;
pub mod error;
pub mod events;
pub mod feed;
pub mod filters;
mod history;
pub mod rpc;
mod send;
mod transport;
mod wakeups;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use async_trait::async_trait;
use solana_account::Account;
use solana_keypair::Keypair;
use solana_signature::Signature;

pub use backoff::Backoff;
pub use cluster::Cluster;
pub use error::{ChainError, Refusal};
pub use events::{EventCursor, EventPage, ProgramEvent};
pub use feed::{EventFeed, FeedConfig, FeedItem};
pub use filters::AccountFilter;
pub use rpc::{PriorityFee, RpcChain, RpcChainConfig, SendConfig};
pub use send::signature_of;
pub use wakeups::{WakeupSender, Wakeups};

/// Slots a signed transaction can still land after it was sent (a blockhash
/// is valid for 150 blocks, plus margin): a service that lost the answer to
/// a send waits this long before signing the same intent again.
pub const BLOCKHASH_SLOTS: u64 = 152;

/// A transaction that landed and reached the chain's commitment level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Confirmed {
    pub signature: Signature,
    /// The slot it landed in.
    pub slot: u64,
    /// How many times its final signed form was sent (re-sends of the same
    /// bytes included: a node drops duplicates, so only one can land).
    pub sends: u32,
    /// How many times it was signed: more than one only when a blockhash
    /// expired with nothing landed.
    pub signings: u32,
}

/// A Solana chain with the Spotcheck program on it.
#[async_trait]
pub trait Chain: Send + Sync {
    /// The cluster's name for messages: a moniker, a URL, or "embedded".
    fn cluster(&self) -> String;

    /// The program's address on this chain.
    fn program_id(&self) -> Pubkey;

    /// Signs `instructions` with `signers` (the first pays the fee), checks
    /// them by simulation, sends them and waits until they are confirmed.
    /// Nothing is sent when simulation refuses; no transaction lands twice.
    async fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<Confirmed, ChainError>;

    /// An account, or `None` if it does not exist.
    async fn account(&self, address: &Pubkey) -> Result<Option<Account>, ChainError>;

    /// Several accounts in one round trip, in the order asked.
    async fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ChainError>;

    /// The program's accounts that pass every filter (see [`filters`]).
    async fn program_accounts(&self, filters: &[AccountFilter]) -> Result<Vec<(Pubkey, Account)>, ChainError>;

    /// The current slot at the chain's commitment level.
    async fn slot(&self) -> Result<u64, ChainError>;

    /// The newest transaction of the program: start here to follow only
    /// what happens from now on. `None` if the program has none yet.
    async fn latest_cursor(&self) -> Result<Option<EventCursor>, ChainError>;

    /// The program's events after `cursor` (from the oldest the chain keeps
    /// when `None`), at most `max_transactions` transactions of them, oldest
    /// first, from the chain's record of transactions: what catch-up after
    /// a restart or a dropped connection reads.
    async fn events_after(
        &self,
        cursor: Option<&EventCursor>,
        max_transactions: usize,
    ) -> Result<EventPage, ChainError>;

    /// A signal each time a transaction of the program may have landed. It
    /// carries no events (read them with `events_after`) and ends when the
    /// connection behind it drops.
    async fn wakeups(&self) -> Result<Wakeups, ChainError>;
}
