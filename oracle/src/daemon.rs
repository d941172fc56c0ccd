//! The oracle's loop, after Jito's keepers: read the market's jobs, act on
//! what is due, log and carry on. Events only say when to look; every
//! decision is taken on accounts read back from the chain.
//!
//! For each job, by its status on the chain:
//!
//! | status | what this oracle does |
//! |---|---|
//! | claimed, past its result deadline | cranks `job_expire` |
//! | submitted | fetches the output from the provider's endpoint; votes `job_attest` complete when it hashes to the commitment, withheld when it still cannot be had `withhold_margin_slots` before the deadline; past the deadline cranks `job_unwind` |
//! | withheld | cranks `job_expire` |
//! | attested, draw pending | cranks `job_reveal_sample` once the sample slot has passed |
//! | attested, sampled or challenged | re-executes the output (mirrored at attestation) and votes `job_post_verdict`; past the verdict deadline cranks `job_unwind` |
//! | attested, skipped, window over | cranks `job_settle` |
//! | verified / rejected | cranks `job_settle` / `job_slash` |
//!
//! A vote is decided once, written to the database, then sent: after a
//! restart the same decision is sent again if the chain does not hold it,
//! and nothing is sent while an earlier send may still land (its blockhash
//! valid). Before deciding, the oracle reads its own bit in the job's vote
//! masks: a vote the chain holds is never sent again (the program would
//! refuse it anyway). Cranks are permissionless and idempotent on-chain: a
//! duplicate fails simulation and costs nothing. Payouts go to the parties'
//! associated token accounts, created in the same transaction when missing
//! (the oracle pays their rent), so no party can block a crank by having none.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_signer::Signer;
use spotcheck::error::SpotcheckError;
use spotcheck::state::{Job, JobStatus, Market, Model as ModelAccount, Provider, SampleDraw};
use spotcheck_client::chain::filters::{self, program_account};
use spotcheck_client::chain::{BLOCKHASH_SLOTS, Chain, ChainError, EventPage, FeedItem};
use spotcheck_client::instructions::{self as ix, JobKeys, JobRecipients, MarketKeys};
use spotcheck_client::pda;
use spotcheck_engine::commit::hex;
use spotcheck_engine::{Completion, Hash, Model};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, warn};

use crate::config::Config;
use crate::error::{OracleError, Result};
use crate::fetch::Fetcher;
use crate::http::{HttpState, router};
use crate::metrics::Metrics;
use crate::store::{EvidenceRow, MirroredOutput, Round, Store, VoteRow, VoteState};
use crate::verifier::{JudgedModel, ReExecuted, ReExecution, Verifier};

/// A crank that failed is not tried again for this long (someone else may
/// have cranked; a missing account will still be missing).
const CRANK_RETRY: Duration = Duration::from_secs(2);

/// Whether the chain holds this oracle's vote in the job's current round.
fn has_voted(job: &Job, market: &Market, index: usize) -> bool {
    job.votes.oracle_set_version == market.oracle_set_version && ((job.votes.yes | job.votes.no) >> index) & 1 == 1
}

/// The associated token account of (owner, mint), and the instruction that
/// creates it if it does not exist (`CreateIdempotent`, paid by `payer`).
fn associated_account(payer: &Pubkey, owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> (Pubkey, Instruction) {
    use anchor_spl::associated_token::{get_associated_token_address_with_program_id, spl_associated_token_account};
    let address = get_associated_token_address_with_program_id(owner, mint, token_program);
    let create = spl_associated_token_account::instruction::create_associated_token_account_idempotent(
        payer,
        owner,
        mint,
        token_program,
    );
    (address, create)
}

/// What a fetch of a job's output found.
enum Fetched {
    /// The committed output: tokens that hash to the commitment.
    Complete(MirroredOutput),
    /// Nothing usable; `kind` labels the metric.
    Failed { kind: &'static str, reason: String },
}

/// A located trace divergence for a job's evidence (its `detail.trace`).
type Located = (Pubkey, serde_json::Value);

/// A re-execution's result: the job, the oracle-set version it was judged for.
type Judged = (Pubkey, u32, Result<ReExecuted, String>);

/// What the database holds of this oracle's vote in a round.
enum Earlier {
    /// Nothing: decide now.
    Undecided,
    /// Decided and not sent (or sent and lost, its blockhash expired): send it.
    Unsent(VoteRow),
    /// Landed, refused, or sent and possibly still landing: nothing to send now.
    Done,
}

/// A job's last failed fetch: why, and the slot it was tried at.
struct NotServed {
    reason: String,
    slot: u64,
    retries: u32,
    next: Instant,
}

/// A started oracle: models loaded, device open, listening.
pub struct Oracle {
    /// Held for as long as the daemon runs (`spotcheck_service::db::lock_dir`).
    data_dir: std::fs::File,
    config: Config,
    chain: Arc<dyn Chain>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    models: HashMap<Hash, Arc<Model>>,
    verifier: Verifier,
    fetcher: Fetcher,
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
}

impl Oracle {
    /// Opens the database, checks the market and that the key is one of
    /// its oracles, loads the models, opens the device and binds the
    /// server. Nothing is sent.
    pub async fn start(config: Config, chain: Arc<dyn Chain>) -> Result<Self> {
        let data_dir = spotcheck_service::db::lock_dir(&config.data_dir).map_err(|reason| match reason {
            None => OracleError::DataDirInUse { path: config.data_dir.clone() },
            Some(reason) => OracleError::Store { path: config.data_dir.clone(), reason },
        })?;
        let store = Arc::new(Store::open_capped(&config.database_path(), config.max_database_pages)?);
        let market: Market = program_account(&*chain, &config.market)
            .await?
            .ok_or_else(|| OracleError::MarketNotFound { market: config.market, cluster: chain.cluster() })?;
        let key = config.oracle.pubkey();
        if !market.oracles.contains(&key) {
            let set = market.oracles.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ");
            return Err(OracleError::NotAnOracle { key, market: config.market, set });
        }
        let paths = config.models.clone();
        let loaded =
            tokio::task::spawn_blocking(move || paths.into_iter().map(JudgedModel::load).collect::<Result<Vec<_>>>())
                .await
                .map_err(|err| OracleError::Config(format!("loading the models failed: {err}")))??;
        for model in &loaded {
            let registered =
                program_account::<ModelAccount>(&*chain, &pda::model(&config.market, &model.model.id)).await?.is_some();
            let id = hex(&model.model.id);
            if registered {
                info!(model = %id, path = %model.path.display(), "judging model");
            } else {
                warn!(model = %id, path = %model.path.display(), "judging model (not registered in this market yet)");
            }
        }
        if loaded.is_empty() {
            warn!("no model loaded: this oracle cranks but votes on no job (give --model to attest and verify)");
        }
        let models: Vec<Arc<Model>> = loaded.iter().map(|m| m.model.clone()).collect();
        let (device, threads, for_thread) = (config.device, config.threads, models.clone());
        let verifier = tokio::task::spawn_blocking(move || Verifier::start(&for_thread, device, threads))
            .await
            .map_err(|err| OracleError::Config(format!("opening the device failed: {err}")))??;
        let fetcher = Fetcher::new(config.fetch)?;
        let (listener, local_addr) = spotcheck_service::tasks::bind(config.listen)
            .await
            .map_err(|reason| OracleError::Listen { addr: config.listen.to_string(), reason })?;
        info!(oracle = %key, market = %config.market, listen = %local_addr, device = %verifier.device_name, "oracle started");
        Ok(Oracle {
            data_dir,
            models: models.into_iter().map(|m| (m.id, m)).collect(),
            config,
            chain,
            store,
            metrics: Arc::new(Metrics::new()),
            verifier,
            fetcher,
            listener,
            local_addr,
        })
    }

    /// Where the evidence and mirror server listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    pub fn store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// Runs until `shutdown`. A re-execution in progress is dropped: its
    /// vote was not decided, and a restart re-executes (the same bits).
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let tracker = TaskTracker::new();
        let stop = CancellationToken::new();
        let app = router(HttpState {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            oracle: self.config.oracle.pubkey().to_string(),
            device: self.verifier.device_name.clone(),
        });
        spotcheck_service::tasks::serve(&tracker, self.listener, app, stop.clone(), "evidence server");
        let metrics = self.metrics.clone();
        let started = spotcheck_service::tasks::start_cursor(self.store.cursor()?, &*self.chain, &shutdown, |err| {
            metrics.rpc_error(err)
        });
        let Some(cursor) = started.await? else { return Ok(()) };
        let mut feed_rx =
            spotcheck_service::tasks::follow(&tracker, self.chain.clone(), cursor, self.config.feed, stop.clone());

        let (fetched_tx, mut fetched_rx) = mpsc::unbounded_channel();
        let (judged_tx, mut judged_rx) = mpsc::unbounded_channel();
        let (located_tx, mut located_rx) = mpsc::unbounded_channel();
        let mut daemon = Daemon {
            _data_dir: self.data_dir,
            config: self.config,
            chain: self.chain,
            store: self.store,
            metrics: self.metrics,
            models: self.models,
            verifier: self.verifier,
            fetcher: self.fetcher,
            tracker: tracker.clone(),
            fetching: HashSet::new(),
            not_served: HashMap::new(),
            judging: HashMap::new(),
            unjudgeable: HashSet::new(),
            crank_after: HashMap::new(),
            seen: HashSet::new(),
            warned: HashSet::new(),
            fetched_tx,
            judged_tx,
            located_tx,
        };
        let mut tick = tokio::time::interval(daemon.config.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let result = loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break Ok(()),
                Some((job, slot, fetched)) = fetched_rx.recv() => daemon.fetched(job, slot, fetched),
                Some((job, version, judged)) = judged_rx.recv() => daemon.judged(job, version, judged),
                Some((job, located)) = located_rx.recv() => daemon.located(job, located),
                item = feed_rx.recv() => match item {
                    Some(Ok(FeedItem::Events(page))) => daemon.on_events(&page),
                    Some(Ok(FeedItem::Rescan)) => {}
                    Some(Err(err)) => {
                        daemon.metrics.rpc_error(&err);
                        if !err.is_retryable() {
                            break Err(OracleError::Chain(err));
                        }
                        warn!("event feed: {err}");
                    }
                    None => break Ok(()),
                },
                _ = tick.tick() => {}
            }
            daemon.crank().await;
        };
        stop.cancel();
        tracker.close();
        // Fetches end within their timeout; a re-execution is not waited for.
        let _ = tokio::time::timeout(daemon.config.fetch.timeout + Duration::from_secs(1), tracker.wait()).await;
        info!("oracle stopped");
        result
    }
}

/// Starts an oracle and runs it until `shutdown` (mini-redis's `run`).
pub async fn run(config: Config, chain: Arc<dyn Chain>, shutdown: CancellationToken) -> Result<()> {
    Oracle::start(config, chain).await?.run(shutdown).await
}

struct Daemon {
    _data_dir: std::fs::File,
    config: Config,
    chain: Arc<dyn Chain>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    models: HashMap<Hash, Arc<Model>>,
    verifier: Verifier,
    fetcher: Fetcher,
    tracker: TaskTracker,
    /// Jobs whose output is being fetched now.
    fetching: HashSet<Pubkey>,
    /// Jobs whose output could not be had yet, and when to try again.
    not_served: HashMap<Pubkey, NotServed>,
    /// Jobs being re-executed now, as read when it started (for locating a divergence).
    judging: HashMap<Pubkey, Job>,
    /// Jobs whose re-execution failed (the same bits fail the same way): no vote.
    unjudgeable: HashSet<Pubkey>,
    /// Cranks that failed, not retried before the instant.
    crank_after: HashMap<(Pubkey, &'static str), Instant>,
    /// (job, what) counted once in the metrics (sampled, challenged, abstained).
    seen: HashSet<(Pubkey, &'static str)>,
    /// (job, what) already warned about, so a crank that retries stays quiet.
    warned: HashSet<(Pubkey, &'static str)>,
    fetched_tx: mpsc::UnboundedSender<(Pubkey, u64, Fetched)>,
    judged_tx: mpsc::UnboundedSender<Judged>,
    located_tx: mpsc::UnboundedSender<Located>,
}

impl Daemon {
    fn store_failed(&self, what: &str, err: &OracleError) {
        self.metrics.store_errors.inc();
        error!("{what}: {err}");
    }

    fn warn_once(&mut self, job: &Pubkey, what: &'static str, message: String) {
        if self.warned.insert((*job, what)) {
            warn!(job = %job, "{message}");
        } else {
            debug!(job = %job, "{message}");
        }
    }

    /// Counts `what` for `job` once (a job is seen on every crank).
    fn first_time(&mut self, job: &Pubkey, what: &'static str) -> bool {
        self.seen.insert((*job, what))
    }

    fn abstain(&mut self, job: &Pubkey, reason: &'static str, message: String) {
        if self.first_time(job, reason) {
            self.metrics.abstain(reason);
            info!(job = %job, reason, "abstaining: {message}; the other oracles decide");
        }
    }

    fn on_events(&mut self, page: &EventPage) {
        if let Some(cursor) = &page.cursor
            && let Err(err) = self.store.set_cursor(cursor)
        {
            self.store_failed("saving the event cursor", &err);
        }
    }

    async fn crank(&mut self) {
        if let Err(err) = self.crank_inner().await {
            match err {
                OracleError::Chain(err) => {
                    self.metrics.rpc_error(&err);
                    warn!("crank: {err}");
                }
                other => self.store_failed("crank", &other),
            }
        }
    }

    async fn crank_inner(&mut self) -> Result<()> {
        let slot = self.chain.slot().await?;
        // Checked at start; a market is never closed, so absence is a node that lags.
        let Some(market) = program_account::<Market>(&*self.chain, &self.config.market).await? else { return Ok(()) };
        let key = self.config.oracle.pubkey();
        let index = market.oracles.iter().position(|oracle| *oracle == key);
        if index.is_none() {
            self.warn_once(&key, "not_oracle", format!("{key} is no longer in the market's oracle set: cranking only"));
        }
        let jobs = filters::jobs(&*self.chain, &self.config.market, None).await?;
        let live: HashSet<Pubkey> = jobs.iter().map(|(address, _)| *address).collect();
        self.not_served.retain(|job, _| live.contains(job));
        self.crank_after.retain(|(job, _), _| live.contains(job));
        self.unjudgeable.retain(|job| live.contains(job));
        self.seen.retain(|(job, _)| live.contains(job));
        // The oracle's own key carries the "not in the set" warning.
        self.warned.retain(|(job, _)| live.contains(job) || *job == key);
        for (address, job) in &jobs {
            if let Err(err) = self.step(address, job, slot, &market, index).await {
                match err {
                    OracleError::Chain(err) => {
                        self.metrics.rpc_error(&err);
                        self.warn_once(address, "step", format!("job {address}: {err}"));
                    }
                    other => self.store_failed("a job's step", &other),
                }
            }
        }
        Ok(())
    }

    /// What is due for one job, by its status on the chain.
    async fn step(
        &mut self,
        address: &Pubkey,
        job: &Job,
        slot: u64,
        market: &Market,
        index: Option<usize>,
    ) -> Result<()> {
        match job.status {
            JobStatus::Open => {}
            JobStatus::Claimed => {
                if job.result_deadline().is_ok_and(|deadline| slot > deadline) {
                    self.penalize(address, job, market, "job_expire", ix::job_expire).await?;
                }
            }
            JobStatus::Submitted => {
                if job.attestation_deadline().is_ok_and(|deadline| slot > deadline) {
                    self.unwind(address, job, market).await?;
                } else if let Some(index) = index {
                    self.attest_round(address, job, slot, market, index).await?;
                }
            }
            JobStatus::Withheld => self.penalize(address, job, market, "job_expire", ix::job_expire).await?,
            JobStatus::Attested => {
                if job.is_challenged() && self.first_time(address, "challenged") {
                    self.metrics.challenged.inc();
                }
                if job.sample == SampleDraw::Selected && self.first_time(address, "sampled") {
                    self.metrics.sampled.inc();
                }
                if job.needs_review() {
                    if job.verdict_deadline().is_ok_and(|deadline| slot > deadline) {
                        self.unwind(address, job, market).await?;
                    } else if let Some(index) = index {
                        self.verdict_round(address, job, slot, market, index).await?;
                    }
                } else if job.sample == SampleDraw::Pending {
                    if slot > job.sample_slot && !self.crank_waits(address, "job_reveal_sample") {
                        self.send_crank(address, "job_reveal_sample", vec![ix::job_reveal_sample(address)]).await;
                    }
                } else if job.challenge_window_end().is_ok_and(|end| slot >= end) {
                    self.settle(address, job, market).await?;
                }
            }
            JobStatus::Verified => self.settle(address, job, market).await?,
            JobStatus::Rejected => self.penalize(address, job, market, "job_slash", ix::job_slash).await?,
        }
        Ok(())
    }

    /// What this oracle decided earlier for this round, if anything.
    fn decided(&self, address: &Pubkey, round: Round, version: u32, slot: u64) -> Result<Earlier> {
        Ok(match self.store.vote(address, round, version)? {
            None => Earlier::Undecided,
            Some(row) => match row.state {
                VoteState::Landed | VoteState::Refused => Earlier::Done,
                VoteState::Sending if row.doubt_slot.is_some_and(|doubt| slot <= doubt + BLOCKHASH_SLOTS) => {
                    Earlier::Done
                }
                VoteState::Sending => Earlier::Unsent(row),
            },
        })
    }

    /// What either round does first: nothing more if the chain holds this
    /// oracle's vote; the earlier decision, sent again, if there is one;
    /// an abstention without the job's model. `true`: decide now.
    async fn round_open(
        &mut self,
        round: Round,
        address: &Pubkey,
        job: &Job,
        slot: u64,
        market: &Market,
        index: usize,
    ) -> Result<bool> {
        let version = market.oracle_set_version;
        if has_voted(job, market, index) {
            self.chain_holds_vote(address, round, version)?;
            return Ok(false);
        }
        match self.decided(address, round, version, slot)? {
            Earlier::Unsent(row) => {
                self.send_vote(&row, job, slot).await?;
                return Ok(false);
            }
            Earlier::Done => return Ok(false),
            Earlier::Undecided => {}
        }
        if !self.models.contains_key(&job.weights_hash) {
            let why = format!("job {address}'s model {} is not loaded here", hex(&job.weights_hash));
            self.abstain(address, "model_not_loaded", why);
            return Ok(false);
        }
        Ok(true)
    }

    /// The completion proof: fetch, check, vote complete, or withheld near the deadline.
    async fn attest_round(
        &mut self,
        address: &Pubkey,
        job: &Job,
        slot: u64,
        market: &Market,
        index: usize,
    ) -> Result<()> {
        if !self.round_open(Round::Attest, address, job, slot, market, index).await? {
            return Ok(());
        }
        let version = market.oracle_set_version;
        if self.store.output_of_job(address)?.is_some_and(|output| output.output_hash == job.output_hash) {
            let row = self.store.decide(&VoteRow::new(*address, Round::Attest, version, true, [0; 32]))?;
            return self.send_vote(&row, job, slot).await;
        }
        if self.fetching.contains(address) {
            return Ok(());
        }
        let deadline = job.attestation_deadline().unwrap_or(u64::MAX);
        let margin = self.config.withhold_margin_slots.min(job.terms.attestation_deadline_slots / 2);
        let near = slot.saturating_add(margin) >= deadline;
        match self.not_served.get(address) {
            // Tried within the margin and still not served: withheld.
            Some(problem) if near && problem.slot.saturating_add(margin) >= deadline => {
                let reason = problem.reason.clone();
                warn!(job = %address, slot, deadline, "voting withheld: {reason}");
                let row = self.store.decide(&VoteRow::new(*address, Round::Attest, version, false, [0; 32]))?;
                return self.send_vote(&row, job, slot).await;
            }
            // Not yet due for another try (near the deadline, one more try at once).
            Some(problem) if !near && Instant::now() < problem.next => return Ok(()),
            _ => {}
        }
        self.fetch(address, job, slot, Round::Attest);
        Ok(())
    }

    /// A vote of this oracle's landed: counted by what it said.
    fn count_landed(&self, row: &VoteRow) {
        match (row.round, row.yes) {
            (Round::Attest, true) => self.metrics.attested_complete.inc(),
            (Round::Attest, false) => self.metrics.attested_withheld.inc(),
            (Round::Verdict, true) => self.metrics.verdicts_pass.inc(),
            (Round::Verdict, false) => self.metrics.verdicts_fail.inc(),
        };
    }

    fn chain_holds_vote(&self, address: &Pubkey, round: Round, version: u32) -> Result<()> {
        if let Some(row) = self.store.vote(address, round, version)?
            && row.state == VoteState::Sending
        {
            // An earlier send landed (one in doubt, or before a kill).
            self.store.set_vote_landed(&row, row.signature.as_deref(), row.slot)?;
            self.count_landed(&row);
        }
        Ok(())
    }

    /// Fetches the job's output from its provider in a task of its own (a
    /// slow endpoint holds up nothing else) and checks it against the commitment.
    ///
    /// `Round::Verdict` may fall back on the peers' mirrors; an attestation
    /// is about the provider serving it, so it never does.
    fn fetch(&mut self, address: &Pubkey, job: &Job, slot: u64, round: Round) {
        let Some(model) = self.models.get(&job.weights_hash).cloned() else { return };
        self.fetching.insert(*address);
        let peers = if round == Round::Verdict { self.config.peers.clone() } else { Vec::new() };
        let (chain, fetcher, done, address, job) =
            (self.chain.clone(), self.fetcher.clone(), self.fetched_tx.clone(), *address, job.clone());
        self.tracker.spawn(async move {
            let fetched = fetch_output(&*chain, &fetcher, &model, address, &job, &peers).await;
            let _ = done.send((address, slot, fetched));
        });
        debug!(job = %address, "fetching the output");
    }

    /// A fetch tried at `slot` finished.
    fn fetched(&mut self, address: Pubkey, slot: u64, fetched: Fetched) {
        self.fetching.remove(&address);
        match fetched {
            Fetched::Complete(output) => {
                self.not_served.remove(&address);
                // On disk before any vote: the attestation is decided from
                // it (next crank), and the verdict re-executes these ids.
                if let Err(err) = self.store.put_output(&output) {
                    self.store_failed("mirroring an output (not attesting it)", &err);
                }
            }
            Fetched::Failed { kind, reason } => {
                self.metrics.fetch_error(kind);
                let backoff = self.config.fetch.backoff;
                let entry = self.not_served.entry(address).or_insert(NotServed {
                    reason: String::new(),
                    slot: 0,
                    retries: 0,
                    next: Instant::now(),
                });
                entry.next = Instant::now() + backoff.delay(entry.retries);
                entry.retries = entry.retries.saturating_add(1);
                entry.reason = reason.clone();
                entry.slot = slot;
                self.warn_once(&address, kind, format!("the output is not served yet: {reason}"));
            }
        }
    }

    /// Re-execution: of the mirrored output (fetched again if this oracle
    /// did not attest it), then the verdict with its evidence.
    async fn verdict_round(
        &mut self,
        address: &Pubkey,
        job: &Job,
        slot: u64,
        market: &Market,
        index: usize,
    ) -> Result<()> {
        if !self.round_open(Round::Verdict, address, job, slot, market, index).await? {
            return Ok(());
        }
        let version = market.oracle_set_version;
        if self.judging.contains_key(address) || self.unjudgeable.contains(address) || self.fetching.contains(address) {
            return Ok(());
        }
        let Some(output) = self.store.output_of_job(address)?.filter(|output| output.output_hash == job.output_hash)
        else {
            if self.not_served.get(address).is_none_or(|problem| Instant::now() >= problem.next) {
                self.fetch(address, job, slot, Round::Verdict);
            }
            return Ok(());
        };
        self.judging.insert(*address, job.clone());
        let request = ReExecution {
            model_id: job.weights_hash,
            prompt: job.prompt.clone(),
            token_budget: job.token_budget,
            output_hash: job.output_hash,
            trace_root: job.trace_root,
            tokens: output.tokens,
        };
        let (verifier, done, address) = (self.verifier.clone(), self.judged_tx.clone(), *address);
        info!(job = %address, tokens = job.token_count, "re-executing");
        self.tracker.spawn(async move {
            let _ = done.send((address, version, verifier.re_execute(request).await));
        });
        Ok(())
    }

    /// A re-execution finished: store the evidence, decide the verdict (the
    /// next crank sends it, on the job as the chain then holds it).
    fn judged(&mut self, address: Pubkey, version: u32, judged: Result<ReExecuted, String>) {
        let job = self.judging.remove(&address);
        let done = match judged {
            Ok(done) => done,
            Err(why) => {
                self.unjudgeable.insert(address);
                self.abstain(&address, "reexecution_failed", format!("re-executing job {address} failed: {why}"));
                return;
            }
        };
        let seconds = done.elapsed.as_secs_f64();
        self.metrics.reexecuted_tokens.inc_by(done.positions as u64);
        if seconds > 0.0 {
            self.metrics.reexecution_tokens_per_second.set(done.positions as f64 / seconds);
        }
        let verdict = &done.verdict;
        let evidence = EvidenceRow {
            job: address,
            pass: verdict.passed(),
            evidence_hash: verdict.evidence_hash(),
            record: verdict.encode(),
            detail: evidence_detail(verdict, done.positions, seconds).to_string(),
        };
        // Evidence first: a verdict is never voted without it on disk.
        if let Err(err) = self.store.put_evidence(&evidence) {
            return self.store_failed("storing evidence (not voting)", &err);
        }
        let row = VoteRow::new(address, Round::Verdict, version, evidence.pass, evidence.evidence_hash);
        if let Err(err) = self.store.decide(&row) {
            return self.store_failed("recording a verdict (not voting)", &err);
        }
        info!(
            job = %address,
            pass = evidence.pass,
            evidence = %hex(&evidence.evidence_hash),
            seconds = format!("{seconds:.2}"),
            "re-executed"
        );
        // The vote does not wait for this: where the provider's trace first
        // differs from ours, proved leaf by leaf, added to the served evidence.
        if let (Some(trace), Some(job)) = (done.trace, job) {
            let (chain, fetcher, located) = (self.chain.clone(), self.fetcher.clone(), self.located_tx.clone());
            self.tracker.spawn(async move {
                let found = match program_account::<Provider>(&*chain, &job.provider).await {
                    Ok(Some(provider)) => {
                        crate::locate::locate(&fetcher, &provider.endpoint, &job.output_hash, &job.trace_root, &trace)
                            .await
                    }
                    Ok(None) => serde_json::json!({ "unavailable": format!("provider {} is gone", job.provider) }),
                    Err(err) => {
                        serde_json::json!({ "unavailable": format!("reading provider {}: {err}", job.provider) })
                    }
                };
                let _ = located.send((address, found));
            });
        }
    }

    /// A trace divergence located: added to the job's stored evidence.
    fn located(&mut self, address: Pubkey, found: serde_json::Value) {
        let updated = self.store.evidence(&address).and_then(|row| {
            let Some(mut row) = row else { return Ok(()) };
            let mut detail: serde_json::Value = serde_json::from_str(&row.detail).unwrap_or_default();
            detail["trace"] = found;
            row.detail = detail.to_string();
            self.store.put_evidence(&row)
        });
        if let Err(err) = updated {
            self.store_failed("adding the located divergence to the evidence", &err);
        }
    }

    /// Sends a decided vote; records what the chain said. The slot it is
    /// sent at is on disk first: if this process dies before the answer,
    /// its successor waits out the transaction's blockhash (it may still
    /// land) instead of signing the vote again.
    async fn send_vote(&mut self, row: &VoteRow, job: &Job, slot: u64) -> Result<()> {
        self.store.set_vote_doubt(row, Some(slot))?;
        let oracle = self.config.oracle.clone();
        let instruction = match row.round {
            Round::Attest => ix::job_attest(&oracle.pubkey(), &self.config.market, &row.job, row.yes),
            Round::Verdict => {
                ix::job_post_verdict(&oracle.pubkey(), &self.config.market, &row.job, row.yes, row.evidence_hash)
            }
        };
        let what = match (row.round, row.yes) {
            (Round::Attest, true) => "complete",
            (Round::Attest, false) => "withheld",
            (Round::Verdict, true) => "pass",
            (Round::Verdict, false) => "fail",
        };
        match self.chain.send(&[instruction], &[&*oracle]).await {
            Ok(confirmed) => {
                self.store.set_vote_landed(row, Some(&confirmed.signature.to_string()), Some(confirmed.slot))?;
                self.count_landed(row);
                if row.round == Round::Verdict {
                    self.metrics
                        .verdict_latency_slots
                        .observe(confirmed.slot.saturating_sub(job.submitted_slot) as f64);
                }
                info!(job = %row.job, vote = what, signature = %confirmed.signature, "voted");
            }
            Err(ChainError::InDoubt { signature, reason }) => {
                warn!(job = %row.job, %signature, "the vote may or may not have landed ({reason}); not sending it again before slot {}", slot + BLOCKHASH_SLOTS);
            }
            Err(err)
                if err.program_error() == Some(spotcheck_client::program_error_code(SpotcheckError::AlreadyVoted)) =>
            {
                // An earlier send of this decision landed.
                self.store.set_vote_landed(row, None, None)?;
                self.count_landed(row);
            }
            Err(err) if !err.is_retryable() && err.refusal().is_some() => {
                // The job moved on (a quorum decided, a deadline passed) or the
                // set changed: this decision can no longer be cast.
                let reason = err.refusal().and_then(|r| r.message.clone()).unwrap_or_else(|| err.to_string());
                self.store.set_vote_refused(row, &reason)?;
                info!(job = %row.job, vote = what, "vote not cast: {reason}");
            }
            Err(err) => {
                // Nothing landed: the next crank sends it again if it is still due.
                self.store.set_vote_doubt(row, None)?;
                self.metrics.rpc_error(&err);
                self.warn_once(&row.job, "vote", format!("sending the {what} vote failed: {err}"));
            }
        }
        Ok(())
    }

    /// Whether a crank that failed is still waiting out `CRANK_RETRY`: then
    /// nothing is built for it (its recipients are not read again).
    fn crank_waits(&self, job: &Pubkey, what: &'static str) -> bool {
        self.crank_after.get(&(*job, what)).is_some_and(|after| Instant::now() < *after)
    }

    /// Sends a permissionless crank (callers check [`Self::crank_waits`] first).
    async fn send_crank(&mut self, job: &Pubkey, what: &'static str, instructions: Vec<Instruction>) {
        let oracle = self.config.oracle.clone();
        match self.chain.send(&instructions, &[&*oracle]).await {
            Ok(confirmed) => {
                self.metrics.crank(what);
                info!(job = %job, signature = %confirmed.signature, "{what}");
            }
            Err(err) => {
                self.crank_after.insert((*job, what), Instant::now() + CRANK_RETRY);
                if err.refusal().is_some() {
                    // Usually another oracle (or the provider) cranked first.
                    debug!(job = %job, "{what} refused: {err}");
                } else {
                    self.metrics.rpc_error(&err);
                    self.warn_once(job, what, format!("{what} failed: {err}"));
                }
            }
        }
    }

    /// The associated token accounts of `owners` for one mint, with the
    /// instructions creating those that do not exist.
    async fn payout_accounts(
        &self,
        owners: &[Pubkey],
        mint: &Pubkey,
        token_program: &Pubkey,
        creates: &mut Vec<Instruction>,
    ) -> Result<Vec<Pubkey>> {
        let payer = self.config.oracle.pubkey();
        let pairs: Vec<(Pubkey, Instruction)> =
            owners.iter().map(|owner| associated_account(&payer, owner, mint, token_program)).collect();
        let addresses: Vec<Pubkey> = pairs.iter().map(|(address, _)| *address).collect();
        let existing = self.chain.accounts(&addresses).await?;
        for ((address, create), account) in pairs.into_iter().zip(existing) {
            let present = account.is_some_and(|a| a.lamports > 0);
            if !present && !creates.iter().any(|c| c.accounts.get(1).is_some_and(|m| m.pubkey == address)) {
                creates.push(create);
            }
        }
        Ok(addresses)
    }

    /// Where a finished job's refunds and shares go: the client's (and the
    /// challenger's) associated accounts of each mint.
    async fn recipients(&self, job: &Job, keys: &MarketKeys, creates: &mut Vec<Instruction>) -> Result<JobRecipients> {
        let challenged = job.is_challenged();
        let mut owners = vec![job.client];
        if challenged {
            owners.push(job.challenger);
        }
        let payment = self.payout_accounts(&owners, &keys.payment_mint, &keys.payment_token_program, creates).await?;
        let stake = if keys.stake_mint == keys.payment_mint {
            payment.clone()
        } else {
            self.payout_accounts(&owners, &keys.stake_mint, &keys.stake_token_program, creates).await?
        };
        Ok(JobRecipients {
            client_token: payment[0],
            client_stake_token: stake[0],
            challenger: challenged.then(|| (payment[1], stake[1])),
        })
    }

    async fn settle(&mut self, address: &Pubkey, job: &Job, market: &Market) -> Result<()> {
        if self.crank_waits(address, "job_settle") {
            return Ok(());
        }
        let keys = MarketKeys::new(self.config.market, market);
        let Some(provider) = program_account::<Provider>(&*self.chain, &job.provider).await? else { return Ok(()) };
        let mut instructions = Vec::new();
        let payout = self
            .payout_accounts(
                &[provider.stake_wallet],
                &keys.payment_mint,
                &keys.payment_token_program,
                &mut instructions,
            )
            .await?;
        instructions.push(ix::job_settle(&keys, &JobKeys::new(*address, job), &payout[0]));
        self.send_crank(address, "job_settle", instructions).await;
        Ok(())
    }

    /// `job_slash` or `job_expire` (`build`), paying the parties' accounts.
    async fn penalize(
        &mut self,
        address: &Pubkey,
        job: &Job,
        market: &Market,
        what: &'static str,
        build: fn(&MarketKeys, &JobKeys, &JobRecipients) -> Instruction,
    ) -> Result<()> {
        if self.crank_waits(address, what) {
            return Ok(());
        }
        let keys = MarketKeys::new(self.config.market, market);
        let mut instructions = Vec::new();
        let to = self.recipients(job, &keys, &mut instructions).await?;
        instructions.push(build(&keys, &JobKeys::new(*address, job), &to));
        self.send_crank(address, what, instructions).await;
        Ok(())
    }

    async fn unwind(&mut self, address: &Pubkey, job: &Job, market: &Market) -> Result<()> {
        if self.crank_waits(address, "job_unwind") {
            return Ok(());
        }
        let keys = MarketKeys::new(self.config.market, market);
        let mut owners = vec![job.client];
        if job.is_challenged() {
            owners.push(job.challenger);
        }
        // Unwinding pays back escrow only (payment mint): no stake-mint accounts needed.
        let mut instructions = Vec::new();
        let payment =
            self.payout_accounts(&owners, &keys.payment_mint, &keys.payment_token_program, &mut instructions).await?;
        let to = JobRecipients {
            client_token: payment[0],
            client_stake_token: payment[0],
            challenger: payment.get(1).map(|bond| (*bond, *bond)),
        };
        instructions.push(ix::job_unwind(&keys, &JobKeys::new(*address, job), &to));
        self.send_crank(address, "job_unwind", instructions).await;
        Ok(())
    }
}

impl VoteRow {
    /// A decision not sent yet.
    pub fn new(job: Pubkey, round: Round, oracle_set_version: u32, yes: bool, evidence_hash: Hash) -> Self {
        VoteRow {
            job,
            round,
            oracle_set_version,
            yes,
            evidence_hash,
            state: VoteState::Sending,
            signature: None,
            slot: None,
            doubt_slot: None,
        }
    }
}

/// The job's output from the provider's endpoint, checked against the
/// commitment (job protocol rule 3); for a verdict (`peers` non-empty),
/// from a peer oracle's mirror when the provider no longer serves it — the
/// same check makes a peer's copy exactly as good as the provider's.
async fn fetch_output(
    chain: &dyn Chain,
    fetcher: &Fetcher,
    model: &Model,
    address: Pubkey,
    job: &Job,
    peers: &[String],
) -> Fetched {
    let from_provider = match program_account::<Provider>(chain, &job.provider).await {
        Ok(Some(provider)) => fetch_checked(fetcher, model, address, job, &provider.endpoint).await,
        Ok(None) => Fetched::Failed { kind: "no_provider", reason: format!("provider {} is gone", job.provider) },
        Err(err) => Fetched::Failed { kind: "rpc", reason: format!("reading provider {}: {err}", job.provider) },
    };
    if matches!(from_provider, Fetched::Complete(_)) {
        return from_provider;
    }
    for peer in peers {
        if let fetched @ Fetched::Complete(_) = fetch_checked(fetcher, model, address, job, peer).await {
            info!(job = %address, peer = %peer, "the provider no longer serves the output: fetched from a peer's mirror");
            return fetched;
        }
    }
    from_provider
}

/// The ids `endpoint` serves for the job, if they are its committed output.
async fn fetch_checked(fetcher: &Fetcher, model: &Model, address: Pubkey, job: &Job, endpoint: &str) -> Fetched {
    let tokens = match fetcher.output(endpoint, &job.output_hash).await {
        Ok(tokens) => tokens,
        Err(err) => return Fetched::Failed { kind: err.kind(), reason: err.to_string() },
    };
    let spec =
        spotcheck_engine::Job { model_id: job.weights_hash, prompt: &job.prompt, token_budget: job.token_budget };
    match spec.check_served(model, &job.output_hash, job.token_count, &tokens) {
        Ok(Completion::Complete) => {
            // Rule 3 checked the ids are in the vocabulary: they decode.
            let text = model.tokenizer().map(|t| t.decode(&tokens)).unwrap_or_default();
            Fetched::Complete(MirroredOutput {
                output_hash: job.output_hash,
                job: address,
                model_id: job.weights_hash,
                tokens,
                text,
                trace_root: job.trace_root,
            })
        }
        Ok(Completion::Mismatch(mismatch)) => Fetched::Failed {
            kind: "wrong_output",
            reason: format!("{endpoint} serves an output that is not the committed one: {mismatch}"),
        },
        Err(err) => Fetched::Failed { kind: "check", reason: format!("the completion check could not run: {err}") },
    }
}

/// The readable half of the evidence (the record itself is the job
/// protocol's bytes): what diverged, where, and the commitments judged.
fn evidence_detail(verdict: &spotcheck_engine::JobVerdict, positions: usize, seconds: f64) -> serde_json::Value {
    let divergence = verdict.divergence.map(|d| {
        serde_json::json!({
            "kind": format!("{:?}", d.kind),
            "token_index": d.token_index,
            "position": d.position,
            "layer": d.layer,
            "expected": d.expected,
            "claimed": d.claimed,
        })
    });
    serde_json::json!({
        "protocol": spotcheck_engine::job::JOB_PROTOCOL,
        "model_id": hex(&verdict.model_id),
        "prompt_hash": hex(&verdict.prompt_hash),
        "token_budget": verdict.token_budget,
        "output_hash": hex(&verdict.output_hash),
        "trace_root": hex(&verdict.trace_root),
        "divergence": divergence,
        "positions": positions,
        "seconds": seconds,
    })
}
