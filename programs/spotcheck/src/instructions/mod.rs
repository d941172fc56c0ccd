//! One instruction per file, named `<noun>_<verb>`.

pub mod market_create;
pub mod market_set_oracles;
pub mod market_set_paused;
pub mod market_update;
pub mod model_register;
pub mod model_update;
pub mod provider_register;
pub mod provider_request_unstake;
pub mod provider_rotate_worker;
pub mod provider_set_endpoint;
pub mod provider_stake;
pub mod provider_withdraw;

pub use market_create::*;
pub use market_set_oracles::*;
pub use market_set_paused::*;
pub use market_update::*;
pub use model_register::*;
pub use model_update::*;
pub use provider_register::*;
pub use provider_request_unstake::*;
pub use provider_rotate_worker::*;
pub use provider_set_endpoint::*;
pub use provider_stake::*;
pub use provider_withdraw::*;
