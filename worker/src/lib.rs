//! `spotcheck-worker`: the provider's worker daemon. It turns open jobs on
//! the chain into committed, served results with the provider's hot worker
//! key (the stake wallet stays offline):
//!
//! 1. follows the market's events ([`spotcheck_client::chain::EventFeed`]:
//!    wake-ups, catch-up from a persisted cursor, a slow poll) and reads the
//!    accounts they point at — chain state is the truth;
//! 2. claims open jobs for the models it serves when the price is at least
//!    its minimum, its free stake covers the collateral, and the prompt fits
//!    the model (checked before claiming: nothing is claimed that cannot be
//!    served);
//! 3. generates with the engine's job protocol on CUDA or the CPU, stores
//!    the output, then submits the result before the deadline;
//! 4. serves outputs over HTTP (the provider's on-chain endpoint), reveals
//!    its jobs' sampling draws and settles them when due, and records how
//!    each job ended.
//!
//! Every step is written to SQLite before the transaction that depends on
//! it is sent; a restart reconciles with the chain ([`daemon`]'s docs).
//!
//! [`run`] is the whole daemon (mini-redis style: a `CancellationToken`
//! stops it); [`Worker::start`] then [`Worker::run`] when the caller needs
//! the bound address first (port-0 tests).

pub mod config;
pub mod daemon;
pub mod error;
pub mod http;
pub mod inference;
pub mod metrics;
pub mod store;

pub use config::{Cheat, Config, FileConfig};
pub use daemon::{Worker, run};
pub use error::{Result, WorkerError};
pub use store::{JobState, Outcome, Store};
