//! `spotcheck-oracle`: one oracle of a Spotcheck market. Several
//! independent oracles run it; the market's quorum decides, so one that is
//! down or lying can neither stall nor corrupt an outcome. It
//!
//! 1. follows the market (events say when to look; every decision is taken
//!    on the job accounts read back from the chain);
//! 2. posts completion proofs: fetches each submitted result's output from
//!    its provider's endpoint, bounded in time and size, checks it against
//!    the commitment with the engine's job protocol, votes `job_attest`
//!    complete — or withheld when the deadline nears and it still cannot be
//!    had — and mirrors what it attested;
//! 3. re-executes sampled and challenged jobs (one teacher-forced pass) and
//!    votes `job_post_verdict` with the evidence hash; the evidence itself
//!    is served at `GET /v1/evidence/<job>`;
//! 4. cranks the permissionless instructions when due: reveal, settle,
//!    slash, expire, unwind.
//!
//! Votes are written to SQLite before they are sent, and the oracle reads
//! its own bit in the job's vote masks before deciding; a restart posts
//! nothing twice and misses nothing ([`daemon`]'s docs).
//!
//! [`run`] is the whole daemon (mini-redis style: a `CancellationToken`
//! stops it); [`Oracle::start`] then [`Oracle::run`] when the caller needs
//! the bound address first (port-0 tests). The library depends on the
//! client and the engine, never on the worker.

pub mod config;
pub mod daemon;
pub mod error;
pub mod fetch;
pub mod http;
pub mod locate;
pub mod metrics;
pub mod store;
pub mod verifier;

pub use config::{Config, FetchConfig, FileConfig};
pub use daemon::{Oracle, run};
pub use error::{OracleError, Result};
pub use store::{Round, Store, VoteRow, VoteState};
