//! Account types, one file each.

pub mod job;
pub mod market;
pub mod model;
pub mod provider;

pub use job::*;
pub use market::*;
pub use model::*;
pub use provider::*;
