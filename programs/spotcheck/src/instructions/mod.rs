//! One instruction per file, named `<noun>_<verb>`.

pub mod market_create;

pub use market_create::*;
