//! Account types, one file each.

pub mod market;

pub use market::*;
