//! The oracle's memory across restarts, in SQLite (WAL, `synchronous=FULL`:
//! a vote is on disk before the transaction that carries it is sent, and a
//! kill -9 between two writes leaves the last committed one).
//!
//! - `votes`: one row per (job, round, oracle-set version) this oracle
//!   decided, with the decision, then the signature and slot it landed in.
//!   A restart re-sends a decided vote that never landed, never a different one.
//! - `evidence`: the re-execution record behind each verdict, served at
//!   `/v1/evidence/<job>`.
//! - `outputs`: outputs it attested, mirrored (a client can still read an
//!   answer if its provider vanishes).
//! - `meta`: the event cursor.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};

use anchor_lang::prelude::Pubkey;
use rusqlite::{Connection, OptionalExtension, params};
use spotcheck_client::chain::EventCursor;
use spotcheck_engine::Hash;
use spotcheck_engine::commit::hex;
use spotcheck_service::db::now_ms;
pub use spotcheck_service::db::parse_hash;

use crate::error::{OracleError, Result};

/// The two votes an oracle casts on a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Round {
    /// `job_attest`: complete (yes) or withheld (no).
    Attest,
    /// `job_post_verdict`: pass (yes) or fail (no).
    Verdict,
}

impl Round {
    pub fn as_str(self) -> &'static str {
        match self {
            Round::Attest => "attest",
            Round::Verdict => "verdict",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "attest" => Some(Round::Attest),
            "verdict" => Some(Round::Verdict),
            _ => None,
        }
    }
}

/// Where a decided vote stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteState {
    /// Decided and about to be sent (or sent, and not known to have landed).
    Sending,
    /// The chain holds it.
    Landed,
    /// The program refused it for good (a deadline passed, the job moved on).
    Refused,
}

impl VoteState {
    pub fn as_str(self) -> &'static str {
        match self {
            VoteState::Sending => "sending",
            VoteState::Landed => "landed",
            VoteState::Refused => "refused",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "sending" => Some(VoteState::Sending),
            "landed" => Some(VoteState::Landed),
            "refused" => Some(VoteState::Refused),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteRow {
    pub job: Pubkey,
    pub round: Round,
    pub oracle_set_version: u32,
    /// Complete / pass.
    pub yes: bool,
    /// The verdict's evidence hash (zero for an attestation).
    pub evidence_hash: Hash,
    pub state: VoteState,
    pub signature: Option<String>,
    /// The slot it landed in.
    pub slot: Option<u64>,
    /// The slot it was sent at, while the answer is not known (recorded
    /// before the send; kept when the send came back in doubt): it may
    /// still land until its blockhash expires, so it is not sent again before then.
    pub doubt_slot: Option<u64>,
}

/// A verdict's evidence, as stored and served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceRow {
    pub job: Pubkey,
    pub pass: bool,
    pub evidence_hash: Hash,
    /// The job protocol's evidence record (its SHA-256 is `evidence_hash`).
    pub record: Vec<u8>,
    /// The readable form (JSON): the divergence, the commitments, the speed.
    pub detail: String,
}

/// An output this oracle attested, mirrored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirroredOutput {
    pub output_hash: Hash,
    pub job: Pubkey,
    pub model_id: Hash,
    pub tokens: Vec<u32>,
    pub text: String,
    pub trace_root: Hash,
}

pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS votes (
    job TEXT NOT NULL,
    round TEXT NOT NULL,
    oracle_set_version INTEGER NOT NULL,
    yes INTEGER NOT NULL,
    evidence_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    signature TEXT,
    slot INTEGER,
    doubt_slot INTEGER,
    reason TEXT,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (job, round, oracle_set_version)
);
CREATE TABLE IF NOT EXISTS evidence (
    job TEXT PRIMARY KEY,
    pass INTEGER NOT NULL,
    evidence_hash TEXT NOT NULL,
    record BLOB NOT NULL,
    detail TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outputs (
    job TEXT PRIMARY KEY,
    output_hash TEXT NOT NULL,
    model_id TEXT NOT NULL,
    tokens BLOB NOT NULL,
    text TEXT NOT NULL,
    trace_root TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outputs_by_hash ON outputs (output_hash);
";

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_capped(path, None)
    }

    /// As [`Store::open`], the database capped at `max_pages` pages (writes
    /// past it fail with SQLite's "database or disk is full").
    pub fn open_capped(path: &Path, max_pages: Option<u32>) -> Result<Self> {
        let conn = spotcheck_service::db::open(path, SCHEMA, max_pages)
            .map_err(|reason| OracleError::Store { path: path.to_owned(), reason })?;
        Ok(Store { path: path.to_owned(), conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        spotcheck_service::db::lock(&self.conn)
    }

    fn err(&self, err: rusqlite::Error) -> OracleError {
        OracleError::Store { path: self.path.clone(), reason: err.to_string() }
    }

    /// Records a decided vote before it is sent. Returns the row the
    /// database holds for (job, round, version): this one if it is new, or
    /// the decision taken earlier (which is the one to send).
    pub fn decide(&self, vote: &VoteRow) -> Result<VoteRow> {
        self.conn()
            .execute(
                "INSERT OR IGNORE INTO votes (job, round, oracle_set_version, yes, evidence_hash, state, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'sending', ?6)",
                params![
                    vote.job.to_string(),
                    vote.round.as_str(),
                    vote.oracle_set_version,
                    vote.yes,
                    hex(&vote.evidence_hash),
                    now_ms()
                ],
            )
            .map_err(|err| self.err(err))?;
        self.vote(&vote.job, vote.round, vote.oracle_set_version)?.ok_or_else(|| OracleError::Store {
            path: self.path.clone(),
            reason: "a vote written was not read back".into(),
        })
    }

    pub fn vote(&self, job: &Pubkey, round: Round, version: u32) -> Result<Option<VoteRow>> {
        self.conn()
            .query_row(
                "SELECT job, round, oracle_set_version, yes, evidence_hash, state, signature, slot, doubt_slot
                 FROM votes WHERE job = ?1 AND round = ?2 AND oracle_set_version = ?3",
                params![job.to_string(), round.as_str(), version],
                row_to_vote,
            )
            .optional()
            .map_err(|err| self.err(err))
            .map(Option::flatten)
    }

    /// Every vote row, oldest first (for tests and the operator).
    pub fn votes(&self) -> Result<Vec<VoteRow>> {
        let conn = self.conn();
        let mut statement = conn
            .prepare(
                "SELECT job, round, oracle_set_version, yes, evidence_hash, state, signature, slot, doubt_slot
                 FROM votes ORDER BY updated_at_ms, job",
            )
            .map_err(|err| self.err(err))?;
        let rows = statement.query_map([], row_to_vote).map_err(|err| self.err(err))?;
        let mut votes = Vec::new();
        for row in rows {
            if let Some(vote) = row.map_err(|err| self.err(err))? {
                votes.push(vote);
            }
        }
        Ok(votes)
    }

    pub fn set_vote_landed(&self, vote: &VoteRow, signature: Option<&str>, slot: Option<u64>) -> Result<()> {
        self.update_vote(
            vote,
            "state = 'landed', signature = ?5, slot = ?6, doubt_slot = NULL",
            params![signature, slot.map(|s| s as i64)],
        )
    }

    /// The slot the vote was (last) sent at, while it may still land; `None`: it cannot.
    pub fn set_vote_doubt(&self, vote: &VoteRow, slot: Option<u64>) -> Result<()> {
        self.update_vote(vote, "doubt_slot = ?5", params![slot.map(|s| s as i64)])
    }

    pub fn set_vote_refused(&self, vote: &VoteRow, reason: &str) -> Result<()> {
        self.update_vote(vote, "state = 'refused', reason = ?5, doubt_slot = NULL", params![reason])
    }

    /// `UPDATE votes SET <set>` on the vote's row; `set` numbers its own
    /// parameters from ?5 (?1..?3 are the row's key, ?4 the time).
    fn update_vote(&self, vote: &VoteRow, set: &str, values: &[&dyn rusqlite::ToSql]) -> Result<()> {
        let sql = format!(
            "UPDATE votes SET {set}, updated_at_ms = ?4 WHERE job = ?1 AND round = ?2 AND oracle_set_version = ?3"
        );
        let (job, round, now) = (vote.job.to_string(), vote.round.as_str(), now_ms());
        let mut all: Vec<&dyn rusqlite::ToSql> = vec![&job, &round, &vote.oracle_set_version, &now];
        all.extend_from_slice(values);
        self.conn().execute(&sql, all.as_slice()).map_err(|err| self.err(err))?;
        Ok(())
    }

    pub fn put_evidence(&self, evidence: &EvidenceRow) -> Result<()> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO evidence (job, pass, evidence_hash, record, detail, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    evidence.job.to_string(),
                    evidence.pass,
                    hex(&evidence.evidence_hash),
                    evidence.record,
                    evidence.detail,
                    now_ms()
                ],
            )
            .map_err(|err| self.err(err))?;
        Ok(())
    }

    pub fn evidence(&self, job: &Pubkey) -> Result<Option<EvidenceRow>> {
        self.conn()
            .query_row(
                "SELECT job, pass, evidence_hash, record, detail FROM evidence WHERE job = ?1",
                params![job.to_string()],
                |row| {
                    let (Ok(job), Some(evidence_hash)) =
                        (Pubkey::from_str(&row.get::<_, String>(0)?), parse_hash(&row.get::<_, String>(2)?))
                    else {
                        return Ok(None);
                    };
                    Ok(Some(EvidenceRow {
                        job,
                        pass: row.get(1)?,
                        evidence_hash,
                        record: row.get(3)?,
                        detail: row.get(4)?,
                    }))
                },
            )
            .optional()
            .map_err(|err| self.err(err))
            .map(Option::flatten)
    }

    pub fn put_output(&self, output: &MirroredOutput) -> Result<()> {
        let tokens: Vec<u8> = output.tokens.iter().flat_map(|t| t.to_le_bytes()).collect();
        self.conn()
            .execute(
                "INSERT OR IGNORE INTO outputs (output_hash, job, model_id, tokens, text, trace_root, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    hex(&output.output_hash),
                    output.job.to_string(),
                    hex(&output.model_id),
                    tokens,
                    output.text,
                    hex(&output.trace_root),
                    now_ms()
                ],
            )
            .map_err(|err| self.err(err))?;
        Ok(())
    }

    /// The output mirrored for `job` (fetched for it and checked against its commitment).
    pub fn output_of_job(&self, job: &Pubkey) -> Result<Option<MirroredOutput>> {
        self.output_where("job = ?1", job.to_string())
    }

    /// A mirrored output by its hash (several jobs may share one: same model, prompt and answer).
    pub fn output(&self, output_hash: &Hash) -> Result<Option<MirroredOutput>> {
        self.output_where("output_hash = ?1", hex(output_hash))
    }

    fn output_where(&self, condition: &str, key: String) -> Result<Option<MirroredOutput>> {
        let sql = format!(
            "SELECT output_hash, job, model_id, tokens, text, trace_root FROM outputs WHERE {condition} ORDER BY created_at_ms LIMIT 1"
        );
        self.conn()
            .query_row(&sql, params![key], |row| {
                let hash = |i: usize| -> rusqlite::Result<Option<Hash>> { Ok(parse_hash(&row.get::<_, String>(i)?)) };
                let (Some(output_hash), Some(model_id), Some(trace_root)) = (hash(0)?, hash(2)?, hash(5)?) else {
                    return Ok(None);
                };
                let Ok(job) = Pubkey::from_str(&row.get::<_, String>(1)?) else { return Ok(None) };
                let tokens = row
                    .get::<_, Vec<u8>>(3)?
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                Ok(Some(MirroredOutput { output_hash, job, model_id, tokens, text: row.get(4)?, trace_root }))
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

fn row_to_vote(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<VoteRow>> {
    let (Ok(job), Some(round), Some(evidence_hash), Some(state)) = (
        Pubkey::from_str(&row.get::<_, String>(0)?),
        Round::parse(&row.get::<_, String>(1)?),
        parse_hash(&row.get::<_, String>(4)?),
        VoteState::parse(&row.get::<_, String>(5)?),
    ) else {
        // A row this version cannot read is skipped, not fatal.
        return Ok(None);
    };
    Ok(Some(VoteRow {
        job,
        round,
        oracle_set_version: row.get(2)?,
        yes: row.get(3)?,
        evidence_hash,
        state,
        signature: row.get(6)?,
        slot: row.get::<_, Option<i64>>(7)?.map(|s| s as u64),
        doubt_slot: row.get::<_, Option<i64>>(8)?.map(|s| s as u64),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(yes: bool) -> VoteRow {
        VoteRow {
            job: Pubkey::new_from_array([5; 32]),
            round: Round::Attest,
            oracle_set_version: 1,
            yes,
            evidence_hash: [0; 32],
            state: VoteState::Sending,
            signature: None,
            slot: None,
            doubt_slot: None,
        }
    }

    #[test]
    fn a_decided_vote_stays_decided_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.sqlite3");
        {
            let store = Store::open(&path).unwrap();
            assert!(store.decide(&vote(true)).unwrap().yes);
            // A second decision (say, the output vanished meanwhile) does not replace the first.
            assert!(store.decide(&vote(false)).unwrap().yes);
            store.set_vote_doubt(&vote(true), Some(40)).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let row = store.vote(&vote(true).job, Round::Attest, 1).unwrap().unwrap();
        assert_eq!((row.yes, row.state, row.doubt_slot), (true, VoteState::Sending, Some(40)));
        store.set_vote_landed(&row, Some("sig"), Some(41)).unwrap();
        let row = store.vote(&row.job, Round::Attest, 1).unwrap().unwrap();
        assert_eq!(
            (row.state, row.signature.as_deref(), row.slot, row.doubt_slot),
            (VoteState::Landed, Some("sig"), Some(41), None)
        );
        assert_eq!(store.vote(&row.job, Round::Verdict, 1).unwrap(), None);
        assert_eq!(store.vote(&row.job, Round::Attest, 2).unwrap(), None, "a new oracle set is a new round");
        store.set_vote_refused(&row, "deadline").unwrap();
        assert_eq!(store.votes().unwrap()[0].state, VoteState::Refused);
    }

    #[test]
    fn evidence_outputs_and_cursor_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("o.sqlite3")).unwrap();
        let job = Pubkey::new_unique();
        let evidence =
            EvidenceRow { job, pass: false, evidence_hash: [3; 32], record: vec![1, 2, 3], detail: "{}".into() };
        store.put_evidence(&evidence).unwrap();
        assert_eq!(store.evidence(&job).unwrap(), Some(evidence));
        assert_eq!(store.evidence(&Pubkey::new_unique()).unwrap(), None);
        let output = MirroredOutput {
            output_hash: [7; 32],
            job,
            model_id: [1; 32],
            tokens: vec![0, 70_000],
            text: "hi".into(),
            trace_root: [2; 32],
        };
        store.put_output(&output).unwrap();
        assert_eq!(store.output(&[7; 32]).unwrap(), Some(output.clone()));
        assert_eq!(store.output_of_job(&job).unwrap(), Some(output));
        assert_eq!(store.output_of_job(&Pubkey::new_unique()).unwrap(), None);
        let cursor = EventCursor { slot: 9, signature: Default::default() };
        store.set_cursor(&cursor).unwrap();
        assert_eq!(store.cursor().unwrap(), Some(cursor));
    }

    #[test]
    fn a_full_disk_is_a_store_error_that_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_capped(&dir.path().join("o.sqlite3"), Some(8)).unwrap();
        let big = EvidenceRow {
            job: Pubkey::new_unique(),
            pass: true,
            evidence_hash: [0; 32],
            record: vec![0; 64 << 10],
            detail: String::new(),
        };
        let err = store.put_evidence(&big).unwrap_err().to_string();
        assert!(err.contains("full") && err.contains("disk"), "{err}");
    }
}
