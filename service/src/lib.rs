//! What the Spotcheck daemons — the provider's worker and the oracle —
//! share, written once: how they open their SQLite database and keep their
//! event cursor in it ([`db`]), how they read their config file, keys and addresses
//! ([`config`]), their binaries' `main` with its signal handling ([`binary`]),
//! and the server and event-feed tasks every daemon runs ([`tasks`]).
//! Each daemon keeps its own schema, state machine and error type.

pub mod binary;
pub mod config;
pub mod db;
pub mod http;
pub mod tasks;
