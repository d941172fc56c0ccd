//! A daemon's database: SQLite (`rusqlite`, bundled) in WAL mode with
//! `synchronous=FULL`, so a row is on disk before the transaction that
//! depends on it is sent and a kill -9 between two writes leaves the last
//! committed one; optionally capped in pages, so a daemon's disk use is
//! bounded and a full disk can be tested. Every database has a `meta` table
//! holding the event cursor.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use spotcheck_client::chain::EventCursor;

const META: &str = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/// Opens (creating it and its directory if needed) the database at `path`
/// with `schema` (idempotent `CREATE ... IF NOT EXISTS` statements) and the
/// `meta` table; `max_pages` caps it (writes past it fail with SQLite's
/// "database or disk is full"). The error says what failed, for the
/// caller's own error type.
pub fn open(path: &Path, schema: &str, max_pages: Option<u32>) -> Result<Connection, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    }
    let conn = Connection::open(path).map_err(|err| err.to_string())?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(|err| err.to_string())?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(|err| err.to_string())?;
    conn.execute_batch(schema).map_err(|err| err.to_string())?;
    conn.execute_batch(META).map_err(|err| err.to_string())?;
    if let Some(pages) = max_pages {
        conn.pragma_update(None, "max_page_count", pages).map_err(|err| err.to_string())?;
    }
    Ok(conn)
}

/// Takes the data directory `dir` for this process (an exclusive lock on
/// `dir/LOCK`, released when the returned file is dropped or the process
/// dies, kill -9 included): two daemons on one directory would each send
/// what the other already sent. `Err(None)`: another process holds it;
/// `Err(Some(reason))`: the directory or the file could not be made.
pub fn lock_dir(dir: &Path) -> Result<std::fs::File, Option<String>> {
    std::fs::create_dir_all(dir).map_err(|err| Some(format!("cannot create {}: {err}", dir.display())))?;
    let path = dir.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|err| Some(format!("cannot open {}: {err}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(None),
        Err(std::fs::TryLockError::Error(err)) => Err(Some(format!("cannot lock {}: {err}", path.display()))),
    }
}

/// The connection behind a daemon's mutex. Each hold is one statement; a
/// panic mid-statement leaves SQLite's own transaction to roll back, so a
/// poisoned lock still guards a consistent connection.
pub fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The event cursor saved with [`set_cursor`] (`None` on a first start).
pub fn cursor(conn: &Connection) -> rusqlite::Result<Option<EventCursor>> {
    let text: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'cursor'", [], |row| row.get(0)).optional()?;
    Ok(text.and_then(|text| text.parse().ok()))
}

pub fn set_cursor(conn: &Connection, cursor: &EventCursor) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('cursor', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![cursor.to_string()],
    )?;
    Ok(())
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A 64-character hex hash, as the HTTP paths and the databases carry them.
pub fn parse_hash(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_survives_reopening_and_the_cap_fills_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/d.sqlite3");
        let cursor = EventCursor { slot: 12, signature: Default::default() };
        {
            let conn = open(&path, "CREATE TABLE IF NOT EXISTS t (x BLOB);", None).unwrap();
            assert_eq!(super::cursor(&conn).unwrap(), None);
            set_cursor(&conn, &cursor).unwrap();
        }
        let conn = open(&path, "CREATE TABLE IF NOT EXISTS t (x BLOB);", Some(8)).unwrap();
        assert_eq!(super::cursor(&conn).unwrap(), Some(cursor));
        let err = conn.execute("INSERT INTO t (x) VALUES (?1)", params![vec![0u8; 64 << 10]]).unwrap_err();
        assert!(err.to_string().contains("full"), "{err}");
    }

    #[test]
    fn a_data_directory_is_held_by_one_process_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_dir(&dir.path().join("data")).unwrap();
        assert!(matches!(lock_dir(&dir.path().join("data")), Err(None)), "a second holder is refused");
        drop(held);
        assert!(lock_dir(&dir.path().join("data")).is_ok(), "released with the file");
    }

    #[test]
    fn hashes_parse_only_as_64_hex_digits() {
        assert_eq!(parse_hash(&"ab".repeat(32)), Some([0xab; 32]));
        assert_eq!(parse_hash("abc"), None);
        assert_eq!(parse_hash(&"zz".repeat(32)), None);
        assert_eq!(parse_hash(&"é".repeat(32)), None, "a multi-byte character is not a digit pair");
    }
}
