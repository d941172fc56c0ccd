//! The worker's memory across restarts, in SQLite (WAL, `synchronous=FULL`:
//! a row is on disk before the transaction that depends on it is sent, and a
//! kill -9 between two writes leaves the last committed one).
//!
//! One row per job it ever tried to claim, moving through
//! `claiming → claimed → submitting → submitted → ended`, or to `lost`
//! (another provider has it) or `abandoned` (the result deadline passed);
//! one row per generated output (tokens, text, trace leaves), kept for
//! serving after the job ends; and the event cursor.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};

use anchor_lang::prelude::Pubkey;
use rusqlite::{Connection, OptionalExtension, params};
use spotcheck_client::chain::EventCursor;
use spotcheck_engine::Hash;
use spotcheck_engine::commit::hex;
pub(crate) use spotcheck_service::db::now_ms;
pub use spotcheck_service::db::parse_hash;

use crate::error::{Result, WorkerError};

/// Where a job stands for this worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// The claim is about to be sent (or was, and did not confirm).
    Claiming,
    /// The claim landed; the output is being generated or is stored.
    Claimed,
    /// The result is about to be sent (or was, and is in doubt).
    Submitting,
    /// The result landed; the job is followed until it ends.
    Submitted,
    /// The job account is closed; `outcome` says how, when an event said.
    Ended,
    /// Another provider claimed it first.
    Lost,
    /// The result deadline passed before a result landed.
    Abandoned,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Claiming => "claiming",
            JobState::Claimed => "claimed",
            JobState::Submitting => "submitting",
            JobState::Submitted => "submitted",
            JobState::Ended => "ended",
            JobState::Lost => "lost",
            JobState::Abandoned => "abandoned",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "claiming" => JobState::Claiming,
            "claimed" => JobState::Claimed,
            "submitting" => JobState::Submitting,
            "submitted" => JobState::Submitted,
            "ended" => JobState::Ended,
            "lost" => JobState::Lost,
            "abandoned" => JobState::Abandoned,
            _ => return None,
        })
    }
}

/// How a job ended, from its closing event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Settled,
    Slashed,
    Expired,
    Unwound,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Settled => "settled",
            Outcome::Slashed => "slashed",
            Outcome::Expired => "expired",
            Outcome::Unwound => "unwound",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRow {
    pub job: Pubkey,
    pub model_id: Hash,
    pub state: JobState,
    pub claim_signature: Option<String>,
    pub result_signature: Option<String>,
    /// The slot at which a send came back in doubt: it may still land until
    /// its blockhash expires, so nothing is sent again before then.
    pub doubt_slot: Option<u64>,
    pub claimed_at_ms: Option<i64>,
    pub outcome: Option<String>,
}

/// A generated output as stored and served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOutput {
    pub output_hash: Hash,
    pub job: Pubkey,
    pub model_id: Hash,
    pub tokens: Vec<u32>,
    pub text: String,
    pub trace_root: Hash,
    pub trace_layers: u32,
    /// The trace's leaves, position-major (for inclusion proofs).
    pub trace_leaves: Vec<Hash>,
}

pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    job TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    state TEXT NOT NULL,
    claim_signature TEXT,
    result_signature TEXT,
    doubt_slot INTEGER,
    claimed_at_ms INTEGER,
    outcome TEXT,
    updated_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outputs (
    output_hash TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    model_id TEXT NOT NULL,
    tokens BLOB NOT NULL,
    text TEXT NOT NULL,
    trace_root TEXT NOT NULL,
    trace_layers INTEGER NOT NULL,
    trace_leaves BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outputs_by_job ON outputs (job);
";

fn u32s_to_blob(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn blob_to_u32s(blob: &[u8]) -> Vec<u32> {
    blob.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_capped(path, None)
    }

    /// As [`Store::open`], the database capped at `max_pages` pages (writes
    /// past it fail with SQLite's "database or disk is full").
    pub fn open_capped(path: &Path, max_pages: Option<u32>) -> Result<Self> {
        let conn = spotcheck_service::db::open(path, SCHEMA, max_pages)
            .map_err(|reason| WorkerError::Store { path: path.to_owned(), reason })?;
        Ok(Store { path: path.to_owned(), conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        spotcheck_service::db::lock(&self.conn)
    }

    fn err(&self, err: rusqlite::Error) -> WorkerError {
        WorkerError::Store { path: self.path.clone(), reason: err.to_string() }
    }

    /// Records the intent to claim `job` (before the claim is sent). Returns
    /// false if the job is already known (never claim it twice).
    pub fn begin_claim(&self, job: &Pubkey, model_id: &Hash) -> Result<bool> {
        let inserted = self
            .conn()
            .execute(
                "INSERT OR IGNORE INTO jobs (job, model_id, state, claimed_at_ms, updated_at_ms) VALUES (?1, ?2, 'claiming', ?3, ?3)",
                params![job.to_string(), hex(model_id), now_ms()],
            )
            .map_err(|err| self.err(err))?;
        Ok(inserted == 1)
    }

    /// A job the chain says this provider holds that the database does not
    /// know (a wiped data directory): adopt it as claimed.
    pub fn adopt(&self, job: &Pubkey, model_id: &Hash, state: JobState) -> Result<bool> {
        let inserted = self
            .conn()
            .execute(
                "INSERT OR IGNORE INTO jobs (job, model_id, state, claimed_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![job.to_string(), hex(model_id), state.as_str(), now_ms()],
            )
            .map_err(|err| self.err(err))?;
        Ok(inserted == 1)
    }

    pub fn set_state(&self, job: &Pubkey, state: JobState) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE jobs SET state = ?2, updated_at_ms = ?3 WHERE job = ?1",
                params![job.to_string(), state.as_str(), now_ms()],
            )
            .map_err(|err| self.err(err))?;
        Ok(())
    }

    pub fn set_claim_signature(&self, job: &Pubkey, signature: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE jobs SET state = 'claimed', claim_signature = ?2, doubt_slot = NULL, updated_at_ms = ?3 WHERE job = ?1",
                params![job.to_string(), signature, now_ms()],
            )
            .map_err(|err| self.err(err))?;
        Ok(())
    }

    pub fn set_result_signature(&self, job: &Pubkey, signature: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE jobs SET state = 'submitted', result_signature = ?2, doubt_slot = NULL, updated_at_ms = ?3 WHERE job = ?1",
                params![job.to_string(), signature, now_ms()],
            )
            .map_err(|err| self.err(err))?;
        Ok(())
    }

    pub fn set_doubt(&self, job: &Pubkey, slot: Option<u64>) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE jobs SET doubt_slot = ?2, updated_at_ms = ?3 WHERE job = ?1",
                params![job.to_string(), slot.map(|s| s as i64), now_ms()],
            )
            .map_err(|err| self.err(err))?;
        Ok(())
    }

    /// Forgets a claim that never landed (the job is open again on-chain).
    pub fn forget(&self, job: &Pubkey) -> Result<()> {
        self.conn()
            .execute("DELETE FROM jobs WHERE job = ?1 AND state = 'claiming'", params![job.to_string()])
            .map_err(|err| self.err(err))?;
        Ok(())
    }

    /// Records how a job ended. Returns false if it was already recorded (an
    /// event seen again after a restart counts once).
    pub fn record_outcome(&self, job: &Pubkey, outcome: Outcome) -> Result<bool> {
        let changed = self
            .conn()
            .execute(
                "UPDATE jobs SET state = 'ended', outcome = ?2, updated_at_ms = ?3 WHERE job = ?1 AND outcome IS NULL",
                params![job.to_string(), outcome.as_str(), now_ms()],
            )
            .map_err(|err| self.err(err))?;
        Ok(changed == 1)
    }

    pub fn job(&self, job: &Pubkey) -> Result<Option<JobRow>> {
        self.conn()
            .query_row(
                "SELECT job, model_id, state, claim_signature, result_signature, doubt_slot, claimed_at_ms, outcome FROM jobs WHERE job = ?1",
                params![job.to_string()],
                row_to_job,
            )
            .optional()
            .map_err(|err| self.err(err))
            .map(Option::flatten)
    }

    /// Jobs still to act on or follow, oldest first.
    pub fn active_jobs(&self) -> Result<Vec<JobRow>> {
        self.jobs_where("state IN ('claiming', 'claimed', 'submitting', 'submitted')")
    }

    fn jobs_where(&self, condition: &str) -> Result<Vec<JobRow>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT job, model_id, state, claim_signature, result_signature, doubt_slot, claimed_at_ms, outcome FROM jobs WHERE {condition} ORDER BY claimed_at_ms, job"
        );
        let mut statement = conn.prepare(&sql).map_err(|err| self.err(err))?;
        let rows = statement.query_map([], row_to_job).map_err(|err| self.err(err))?;
        let mut jobs = Vec::new();
        for row in rows {
            if let Some(job) = row.map_err(|err| self.err(err))? {
                jobs.push(job);
            }
        }
        Ok(jobs)
    }

    pub fn put_output(&self, output: &StoredOutput) -> Result<()> {
        let leaves: Vec<u8> = output.trace_leaves.iter().flatten().copied().collect();
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO outputs (output_hash, job, model_id, tokens, text, trace_root, trace_layers, trace_leaves, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    hex(&output.output_hash),
                    output.job.to_string(),
                    hex(&output.model_id),
                    u32s_to_blob(&output.tokens),
                    output.text,
                    hex(&output.trace_root),
                    output.trace_layers,
                    leaves,
                    now_ms()
                ],
            )
            .map_err(|err| self.err(err))?;
        Ok(())
    }

    pub fn output(&self, output_hash: &Hash) -> Result<Option<StoredOutput>> {
        self.output_where("output_hash = ?1", hex(output_hash))
    }

    pub fn output_of_job(&self, job: &Pubkey) -> Result<Option<StoredOutput>> {
        self.output_where("job = ?1", job.to_string())
    }

    fn output_where(&self, condition: &str, key: String) -> Result<Option<StoredOutput>> {
        let sql = format!(
            "SELECT output_hash, job, model_id, tokens, text, trace_root, trace_layers, trace_leaves FROM outputs WHERE {condition} ORDER BY created_at_ms DESC LIMIT 1"
        );
        self.conn()
            .query_row(&sql, params![key], |row| {
                let hash = |i: usize| -> rusqlite::Result<Option<Hash>> { Ok(parse_hash(&row.get::<_, String>(i)?)) };
                let leaves: Vec<u8> = row.get(7)?;
                let trace_leaves = leaves
                    .chunks_exact(32)
                    .map(|c| {
                        let mut h = [0u8; 32];
                        h.copy_from_slice(c);
                        h
                    })
                    .collect();
                let (Some(output_hash), Some(model_id), Some(trace_root)) = (hash(0)?, hash(2)?, hash(5)?) else {
                    return Ok(None);
                };
                let Ok(job) = Pubkey::from_str(&row.get::<_, String>(1)?) else { return Ok(None) };
                Ok(Some(StoredOutput {
                    output_hash,
                    job,
                    model_id,
                    tokens: blob_to_u32s(&row.get::<_, Vec<u8>>(3)?),
                    text: row.get(4)?,
                    trace_root,
                    trace_layers: row.get(6)?,
                    trace_leaves,
                }))
            })
            .optional()
            .map_err(|err| self.err(err))
            .map(Option::flatten)
    }

    pub fn cursor(&self) -> Result<Option<EventCursor>> {
        spotcheck_service::db::cursor(&self.conn()).map_err(|err| self.err(err))
    }

    pub fn set_cursor(&self, cursor: &EventCursor) -> Result<()> {
        spotcheck_service::db::set_cursor(&self.conn(), cursor).map_err(|err| self.err(err))
    }
}

fn row_to_job(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<JobRow>> {
    let (Ok(job), Some(model_id), Some(state)) = (
        Pubkey::from_str(&row.get::<_, String>(0)?),
        parse_hash(&row.get::<_, String>(1)?),
        JobState::parse(&row.get::<_, String>(2)?),
    ) else {
        // A row this version cannot read is skipped, not fatal.
        return Ok(None);
    };
    Ok(Some(JobRow {
        job,
        model_id,
        state,
        claim_signature: row.get(3)?,
        result_signature: row.get(4)?,
        doubt_slot: row.get::<_, Option<i64>>(5)?.map(|s| s as u64),
        claimed_at_ms: row.get(6)?,
        outcome: row.get(7)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_claimed_once_and_its_outcome_counts_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("w.sqlite3")).unwrap();
        let job = Pubkey::new_unique();
        assert!(store.begin_claim(&job, &[1; 32]).unwrap());
        assert!(!store.begin_claim(&job, &[1; 32]).unwrap(), "a known job is never claimed again");
        store.set_claim_signature(&job, "sig").unwrap();
        assert_eq!(store.job(&job).unwrap().unwrap().state, JobState::Claimed);
        assert!(store.record_outcome(&job, Outcome::Settled).unwrap());
        assert!(!store.record_outcome(&job, Outcome::Settled).unwrap());
        assert!(store.active_jobs().unwrap().is_empty());
    }

    #[test]
    fn outputs_and_cursor_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.sqlite3");
        let output = StoredOutput {
            output_hash: [7; 32],
            job: Pubkey::new_unique(),
            model_id: [1; 32],
            tokens: vec![1, 2, 70_000],
            text: "hi".into(),
            trace_root: [9; 32],
            trace_layers: 2,
            trace_leaves: vec![[3; 32], [4; 32]],
        };
        let cursor = EventCursor { slot: 12, signature: Default::default() };
        {
            let store = Store::open(&path).unwrap();
            store.put_output(&output).unwrap();
            store.set_cursor(&cursor).unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.output(&[7; 32]).unwrap(), Some(output.clone()));
        assert_eq!(store.output_of_job(&output.job).unwrap(), Some(output));
        assert_eq!(store.output(&[8; 32]).unwrap(), None);
        assert_eq!(store.cursor().unwrap(), Some(cursor));
    }
}
