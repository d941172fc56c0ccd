//! Event assertions over transaction logs.

use anchor_lang::Event;

/// The one event of type `T` in `logs`; panics if there are none or several.
#[track_caller]
pub fn single<T: Event>(logs: &[String]) -> T {
    let mut events = spotcheck_client::events::decode_all::<T>(logs);
    assert_eq!(
        events.len(),
        1,
        "expected exactly one {} event; logs:\n{}",
        std::any::type_name::<T>(),
        logs.join("\n")
    );
    events.remove(0)
}
