//! The worker's loop, after Jito's keepers: read the chain, act on what is
//! due, log and carry on. Events only say when to look (and how a job
//! ended); every decision is taken on accounts read back from the chain.
//!
//! A job moves through the database (`store`) before each transaction that
//! depends on it is sent: the intent to claim before the claim, the output
//! before the result. After a restart the same crank reconciles the rows
//! with the chain — a claim that never landed is forgotten, a claim that
//! landed resumes (regenerating if the output was not stored), a result in
//! doubt is not sent again until its blockhash can no longer land — so a job
//! gets one claim and one result however often the worker is killed.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_signer::Signer;
use spotcheck::error::SpotcheckError;
use spotcheck::events::{JobExpired, JobSettled, JobSlashed, JobUnwound};
use spotcheck::instructions::JobSubmitResultArgs;
use spotcheck::state::{Job, JobStatus, Market, Model as ModelAccount, Provider, ProviderStatus, SampleDraw};
use spotcheck_client::chain::filters::{self, program_account};
use spotcheck_client::chain::{BLOCKHASH_SLOTS, Chain, ChainError, EventPage, FeedItem};
use spotcheck_client::instructions::{self as ix, JobKeys, MarketKeys};
use spotcheck_client::pda;
use spotcheck_engine::commit::hex;
use spotcheck_engine::{Hash, Model};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, warn};

use crate::config::{Cheat, Config};
use crate::error::{Result, WorkerError};
use crate::http::{HttpState, router};
use crate::inference::{Inference, RunOutput, RunRequest, ServedModel, check_job};
use crate::metrics::Metrics;
use crate::store::{JobRow, JobState, Outcome, Store, StoredOutput, now_ms};

/// A started worker: models loaded and registered, device open, listening.
pub struct Worker {
    /// Held for as long as the daemon runs (`spotcheck_service::db::lock_dir`).
    data_dir: std::fs::File,
    config: Config,
    chain: Arc<dyn Chain>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    models: HashMap<Hash, Arc<Model>>,
    inference: Inference,
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    payout: Pubkey,
}

impl Worker {
    /// Loads the models, checks the market, the provider, the worker key and
    /// the models' registrations on the chain, opens the device and the
    /// database, and binds the output server. Nothing is sent.
    pub async fn start(config: Config, chain: Arc<dyn Chain>) -> Result<Self> {
        if config.models.is_empty() {
            return Err(WorkerError::Config("no model to serve: give at least one --model <GGUF>".into()));
        }
        if config.max_in_flight == 0 {
            return Err(WorkerError::Config("--max-in-flight must be at least 1".into()));
        }
        let data_dir = spotcheck_service::db::lock_dir(&config.data_dir).map_err(|reason| match reason {
            None => WorkerError::DataDirInUse { path: config.data_dir.clone() },
            Some(reason) => WorkerError::Store { path: config.data_dir.clone(), reason },
        })?;
        let store = Arc::new(Store::open_capped(&config.database_path(), config.max_database_pages)?);
        let cluster = chain.cluster();
        let market: Market = program_account(&*chain, &config.market)
            .await?
            .ok_or_else(|| WorkerError::MarketNotFound { market: config.market, cluster: cluster.clone() })?;
        let provider: Provider = program_account(&*chain, &config.provider).await?.ok_or_else(|| {
            WorkerError::ProviderNotFound { provider: config.provider, market: config.market, cluster: cluster.clone() }
        })?;
        if provider.market != config.market {
            return Err(WorkerError::ProviderNotFound { provider: config.provider, market: config.market, cluster });
        }
        let key = config.worker.pubkey();
        if provider.worker != key {
            return Err(WorkerError::NotTheWorker { key, provider: config.provider, registered: provider.worker });
        }

        let paths = config.models.clone();
        let loaded =
            tokio::task::spawn_blocking(move || paths.into_iter().map(ServedModel::load).collect::<Result<Vec<_>>>())
                .await
                .map_err(|err| WorkerError::Config(format!("loading the models failed: {err}")))??;
        let mut served = Vec::new();
        let mut refused = Vec::new();
        for model in loaded {
            let address = pda::model(&config.market, &model.id());
            match program_account::<ModelAccount>(&*chain, &address).await? {
                Some(account) if account.active => {
                    info!(model = %hex(&model.id()), path = %model.path.display(), "serving model");
                    served.push(model);
                }
                Some(_) => refused.push(format!("{} (id {}) is deactivated", model.path.display(), hex(&model.id()))),
                None => refused.push(format!("{} (id {}) is not registered", model.path.display(), hex(&model.id()))),
            }
        }
        for why in &refused {
            warn!("not serving {why}");
        }
        if served.is_empty() {
            return Err(WorkerError::NoServableModel { market: config.market, detail: refused.join("; ") });
        }

        if let Some(cheat) = &config.cheat {
            warn!(
                mode = cheat.name(),
                "CHEATING MODE (tests and demos only): this worker's results are dishonest and will be slashed"
            );
        }
        let (device, threads, cheat) = (config.device, config.threads, config.cheat.clone());
        let models_for_thread: Vec<ServedModel> =
            served.iter().map(|m| ServedModel { path: m.path.clone(), model: m.model.clone() }).collect();
        let inference =
            tokio::task::spawn_blocking(move || Inference::start(&models_for_thread, device, threads, cheat.as_ref()))
                .await
                .map_err(|err| WorkerError::Config(format!("opening the device failed: {err}")))??;
        info!(device = %inference.device_name, "inference device ready");

        let (listener, local_addr) = spotcheck_service::tasks::bind(config.listen)
            .await
            .map_err(|reason| WorkerError::Listen { addr: config.listen.to_string(), reason })?;
        let payout = config.payout.unwrap_or_else(|| {
            anchor_spl::associated_token::get_associated_token_address_with_program_id(
                &provider.stake_wallet,
                &market.payment_mint,
                &market.payment_token_program,
            )
        });
        info!(provider = %config.provider, endpoint = %provider.endpoint, listen = %local_addr, "worker started");
        Ok(Worker {
            data_dir,
            models: served.iter().map(|m| (m.id(), m.model.clone())).collect(),
            config,
            chain,
            store,
            metrics: Arc::new(Metrics::new()),
            inference,
            listener,
            local_addr,
            payout,
        })
    }

    /// Where the output server listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    pub fn store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// Runs until `shutdown`: then stops claiming, finishes the jobs in hand
    /// (generates, stores, submits), and stops serving.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let tracker = TaskTracker::new();
        let http_stop = CancellationToken::new();
        let app = router(HttpState {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            withhold: self.config.cheat == Some(Cheat::Withhold),
            device: self.inference.device_name.clone(),
            provider: self.config.provider.to_string(),
        });
        spotcheck_service::tasks::serve(&tracker, self.listener, app, http_stop.clone(), "output server");
        let metrics = self.metrics.clone();
        let started = spotcheck_service::tasks::start_cursor(self.store.cursor()?, &*self.chain, &shutdown, |err| {
            metrics.rpc_error(err)
        });
        let Some(cursor) = started.await? else { return Ok(()) };
        let mut feed_rx =
            spotcheck_service::tasks::follow(&tracker, self.chain.clone(), cursor, self.config.feed, http_stop.clone());

        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let mut daemon = Daemon {
            _data_dir: self.data_dir,
            config: self.config,
            chain: self.chain,
            store: self.store,
            metrics: self.metrics,
            models: self.models,
            inference: self.inference,
            payout: self.payout,
            tracker: tracker.clone(),
            in_hand: HashSet::new(),
            failed: HashSet::new(),
            passed: HashMap::new(),
            warned: HashSet::new(),
            done_tx,
            done_rx,
        };
        let mut tick = tokio::time::interval(daemon.config.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let result = loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break Ok(()),
                Some((job, output)) = daemon.done_rx.recv() => daemon.generated(job, output).await,
                item = feed_rx.recv() => match item {
                    Some(Ok(FeedItem::Events(page))) => daemon.on_events(&page),
                    Some(Ok(FeedItem::Rescan)) => daemon.adopt().await,
                    Some(Err(err)) => {
                        daemon.metrics.rpc_error(&err);
                        if !err.is_retryable() {
                            break Err(WorkerError::Chain(err));
                        }
                        warn!("event feed: {err}");
                    }
                    None => break Ok(()),
                },
                _ = tick.tick() => {}
            }
            daemon.crank().await;
        };
        if !daemon.in_hand.is_empty() {
            info!(jobs = daemon.in_hand.len(), "stopping: finishing the jobs in hand");
        }
        while !daemon.in_hand.is_empty() {
            match daemon.done_rx.recv().await {
                Some((job, output)) => daemon.generated(job, output).await,
                None => break,
            }
        }
        http_stop.cancel();
        tracker.close();
        tracker.wait().await;
        info!("worker stopped");
        result
    }
}

/// Starts a worker and runs it until `shutdown` (mini-redis's `run`).
pub async fn run(config: Config, chain: Arc<dyn Chain>, shutdown: CancellationToken) -> Result<()> {
    Worker::start(config, chain).await?.run(shutdown).await
}

struct Daemon {
    _data_dir: std::fs::File,
    config: Config,
    chain: Arc<dyn Chain>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    models: HashMap<Hash, Arc<Model>>,
    inference: Inference,
    payout: Pubkey,
    tracker: TaskTracker,
    /// Jobs being generated now.
    in_hand: HashSet<Pubkey>,
    /// Jobs whose generation failed: not retried (the same bits fail the same way).
    failed: HashSet<Pubkey>,
    /// Open jobs passed over, and why (counted once each).
    passed: HashMap<Pubkey, &'static str>,
    /// (job, what) already warned about, so a crank that retries stays quiet.
    warned: HashSet<(Pubkey, &'static str)>,
    done_tx: mpsc::UnboundedSender<(Pubkey, Result<RunOutput, String>)>,
    done_rx: mpsc::UnboundedReceiver<(Pubkey, Result<RunOutput, String>)>,
}

impl Daemon {
    fn store_failed(&self, what: &str, err: &WorkerError) {
        self.metrics.store_errors.inc();
        error!("{what}: {err}");
    }

    fn chain_failed(&self, what: &str, err: &ChainError) {
        self.metrics.rpc_error(err);
        warn!("{what}: {err}");
    }

    fn warn_once(&mut self, job: &Pubkey, what: &'static str, message: String) {
        if self.warned.insert((*job, what)) {
            warn!(job = %job, "{message}");
        } else {
            debug!(job = %job, "{message}");
        }
    }

    /// How jobs of this provider ended, from their closing events.
    fn on_events(&mut self, page: &EventPage) {
        for event in &page.events {
            let ended = if let Some(e) = event.decode::<JobSettled>() {
                Some((
                    e.job,
                    e.provider,
                    Outcome::Settled,
                    format!("paid {} (+{} bond)", e.to_provider, e.bond_to_provider),
                ))
            } else if let Some(e) = event.decode::<JobSlashed>() {
                Some((
                    e.job,
                    e.provider,
                    Outcome::Slashed,
                    format!("slashed {}", e.to_client + e.to_challenger + e.to_treasury),
                ))
            } else if let Some(e) = event.decode::<JobExpired>() {
                Some((e.job, e.provider, Outcome::Expired, format!("slashed {} (withheld: {})", e.slashed, e.withheld)))
            } else {
                event.decode::<JobUnwound>().map(|e| (e.job, e.provider, Outcome::Unwound, "no fault".to_string()))
            };
            let Some((job, provider, outcome, detail)) = ended else { continue };
            if provider != self.config.provider {
                continue;
            }
            match self.store.record_outcome(&job, outcome) {
                Ok(true) => {
                    match outcome {
                        Outcome::Settled => self.metrics.jobs_settled.inc(),
                        Outcome::Slashed => self.metrics.jobs_slashed.inc(),
                        Outcome::Expired => self.metrics.jobs_expired.inc(),
                        Outcome::Unwound => self.metrics.jobs_unwound.inc(),
                    };
                    info!(job = %job, outcome = outcome.as_str(), "job ended: {detail}");
                }
                Ok(false) => {}
                Err(err) => self.store_failed("recording an outcome", &err),
            }
        }
        if let Some(cursor) = &page.cursor
            && let Err(err) = self.store.set_cursor(cursor)
        {
            self.store_failed("saving the event cursor", &err);
        }
    }

    /// Jobs the chain says this provider holds that the database does not
    /// know (a wiped or restored data directory): taken up again.
    async fn adopt(&mut self) {
        let jobs =
            match filters::program_accounts_of::<Job>(&*self.chain, &filters::jobs_of_provider(&self.config.provider))
                .await
            {
                Ok(jobs) => jobs,
                Err(err) => return self.chain_failed("reading this provider's jobs", &err),
            };
        for (address, job) in jobs {
            let state = match job.status {
                JobStatus::Claimed => JobState::Claimed,
                JobStatus::Open => continue,
                _ => JobState::Submitted,
            };
            match self.store.adopt(&address, &job.weights_hash, state) {
                Ok(true) => {
                    warn!(job = %address, "the chain says this provider holds job {address}, unknown to the database: taking it up")
                }
                Ok(false) => {}
                Err(err) => self.store_failed("adopting a job", &err),
            }
        }
    }

    /// One pass: advance every job in hand, then claim what is due.
    async fn crank(&mut self) {
        if let Err(err) = self.crank_inner().await {
            match err {
                WorkerError::Chain(err) => self.chain_failed("crank", &err),
                other => self.store_failed("crank", &other),
            }
        }
    }

    async fn crank_inner(&mut self) -> Result<()> {
        let slot = self.chain.slot().await?;
        // Checked at start; a market is never closed, so absence is a node that lags.
        let Some(market) = program_account::<Market>(&*self.chain, &self.config.market).await? else { return Ok(()) };
        let rows = self.store.active_jobs()?;
        if !rows.is_empty() {
            let addresses: Vec<Pubkey> = rows.iter().map(|row| row.job).collect();
            let accounts = self.chain.accounts(&addresses).await?;
            for (row, account) in rows.iter().zip(accounts) {
                let job = account
                    .filter(|account| account.lamports > 0 && account.owner == self.chain.program_id())
                    .and_then(|account| spotcheck_client::decode_account::<Job>(&account.data).ok());
                self.advance(row, job, slot, &market).await?;
            }
        }
        self.claim_open(slot, &market).await
    }

    /// Moves one of this worker's jobs along, by what the chain says of it.
    async fn advance(&mut self, row: &JobRow, job: Option<Job>, slot: u64, market: &Market) -> Result<()> {
        let address = row.job;
        let in_doubt = row.doubt_slot.is_some_and(|doubt| slot <= doubt + BLOCKHASH_SLOTS);
        let Some(job) = job else {
            // Closed: cancelled before our claim landed, or ended (its event
            // says how; it may arrive after this read).
            if row.state == JobState::Claiming {
                if !in_doubt {
                    self.store.forget(&address)?;
                }
            } else {
                self.store.set_state(&address, JobState::Ended)?;
            }
            return Ok(());
        };
        let ours = job.provider == self.config.provider;
        if job.status != JobStatus::Open && !ours {
            self.store.set_state(&address, JobState::Lost)?;
            self.metrics.jobs_lost.inc();
            info!(job = %address, "claim lost: another provider has the job");
            return Ok(());
        }
        match (row.state, job.status) {
            // The claim never landed: the job is a candidate again.
            (JobState::Claiming, JobStatus::Open) if !in_doubt => self.store.forget(&address)?,
            // It may still land: wait for the chain to say.
            (JobState::Claiming, JobStatus::Open) => {}
            (JobState::Claiming | JobState::Claimed | JobState::Submitting, JobStatus::Claimed) => {
                if row.state == JobState::Claiming {
                    self.store.set_claim_signature(&address, row.claim_signature.as_deref().unwrap_or(""))?;
                }
                let deadline = job.result_deadline().unwrap_or(u64::MAX);
                if slot > deadline {
                    self.store.set_state(&address, JobState::Abandoned)?;
                    error!(job = %address, deadline, slot, "the result deadline passed before a result landed: the job will expire");
                    return Ok(());
                }
                match self.store.output_of_job(&address)? {
                    Some(output) if !(row.state == JobState::Submitting && in_doubt) => {
                        self.submit(&address, &output, slot).await?;
                    }
                    Some(_) => {}
                    None => self.generate(&address, &job),
                }
            }
            (JobState::Claiming | JobState::Claimed | JobState::Submitting, _) => {
                // The result landed (an earlier send, or one in doubt).
                self.store.set_result_signature(&address, row.result_signature.as_deref().unwrap_or(""))?;
            }
            (JobState::Submitted, JobStatus::Attested) => {
                if job.sample == SampleDraw::Pending && slot > job.sample_slot {
                    self.crank_tx(&address, "job_reveal_sample", ix::job_reveal_sample(&address)).await;
                } else if self.settle_due(&job, slot) {
                    self.settle(&address, &job, market).await;
                }
            }
            (JobState::Submitted, JobStatus::Verified) => self.settle(&address, &job, market).await,
            _ => {}
        }
        Ok(())
    }

    fn settle_due(&self, job: &Job, slot: u64) -> bool {
        job.status == JobStatus::Attested
            && !job.needs_review()
            && job.sample != SampleDraw::Pending
            && job.challenge_window_end().is_ok_and(|end| slot >= end)
    }

    async fn settle(&mut self, address: &Pubkey, job: &Job, market: &Market) {
        let keys = MarketKeys::new(self.config.market, market);
        let settle = ix::job_settle(&keys, &JobKeys::new(*address, job), &self.payout);
        self.crank_tx(address, "job_settle", settle).await;
    }

    /// A permissionless crank the worker sends for its own jobs (anyone may;
    /// the provider has the most reason to). A refusal usually means someone
    /// else cranked first.
    async fn crank_tx(
        &mut self,
        job: &Pubkey,
        what: &'static str,
        instruction: anchor_lang::solana_program::instruction::Instruction,
    ) {
        let worker = self.config.worker.clone();
        match self.chain.send(&[instruction], &[&*worker]).await {
            Ok(confirmed) => info!(job = %job, signature = %confirmed.signature, "{what}"),
            Err(err) => {
                self.metrics.rpc_error(&err);
                self.warn_once(job, what, format!("{what} failed: {err}"));
            }
        }
    }

    fn generate(&mut self, address: &Pubkey, job: &Job) {
        if self.in_hand.contains(address) || self.failed.contains(address) {
            return;
        }
        self.in_hand.insert(*address);
        let request =
            RunRequest { model_id: job.weights_hash, prompt: job.prompt.clone(), token_budget: job.token_budget };
        let (inference, done, address) = (self.inference.clone(), self.done_tx.clone(), *address);
        info!(job = %address, budget = job.token_budget, "generating");
        self.tracker.spawn(async move {
            let output = inference.run(request).await;
            let _ = done.send((address, output));
        });
    }

    /// A generation finished: store the output, then submit the result.
    async fn generated(&mut self, address: Pubkey, output: Result<RunOutput, String>) {
        self.in_hand.remove(&address);
        let output = match output {
            Ok(output) => output,
            Err(why) => {
                self.metrics.generation_errors.inc();
                self.failed.insert(address);
                error!(job = %address, "generation failed: {why}; the job will expire");
                return;
            }
        };
        let model_id = match self.store.job(&address) {
            Ok(Some(row)) => row.model_id,
            Ok(None) => return,
            Err(err) => return self.store_failed("reading a job", &err),
        };
        let stored = StoredOutput {
            output_hash: output.output_hash,
            job: address,
            model_id,
            tokens: output.tokens,
            text: output.text,
            trace_root: output.trace_root,
            trace_layers: output.trace_layers,
            trace_leaves: output.trace_leaves,
        };
        if let Err(err) = self.store.put_output(&stored) {
            // Not stored, not submitted: the next crank generates it again.
            return self.store_failed("storing an output (not submitting it)", &err);
        }
        let tokens = stored.tokens.len() as u64;
        self.metrics.tokens_generated.inc_by(tokens);
        let seconds = output.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.metrics.tokens_per_second.set(tokens as f64 / seconds);
        }
        info!(job = %address, tokens, seconds = format!("{seconds:.2}"), output = %hex(&stored.output_hash), "output stored");
        match self.chain.slot().await {
            Ok(slot) => {
                if let Err(err) = self.submit(&address, &stored, slot).await {
                    self.store_failed("submitting", &err);
                }
            }
            // The next crank submits it.
            Err(err) => self.chain_failed("reading the slot", &err),
        }
    }

    /// Sends the result (its output is stored). `submitting` is on disk first.
    async fn submit(&mut self, address: &Pubkey, output: &StoredOutput, slot: u64) -> Result<()> {
        self.store.set_state(address, JobState::Submitting)?;
        let args = JobSubmitResultArgs {
            output_hash: output.output_hash,
            trace_root: output.trace_root,
            token_count: output.tokens.len() as u32,
        };
        let worker = self.config.worker.clone();
        let submit = ix::job_submit_result(&worker.pubkey(), &self.config.provider, address, args);
        match self.chain.send(&[submit], &[&*worker]).await {
            Ok(confirmed) => {
                self.store.set_result_signature(address, &confirmed.signature.to_string())?;
                self.metrics.jobs_submitted.inc();
                if let Ok(Some(row)) = self.store.job(address)
                    && let Some(claimed) = row.claimed_at_ms
                {
                    self.metrics.claim_to_submit_seconds.observe((now_ms() - claimed).max(0) as f64 / 1000.0);
                }
                info!(job = %address, signature = %confirmed.signature, "result submitted");
            }
            Err(ChainError::InDoubt { signature, reason }) => {
                self.store.set_doubt(address, Some(slot))?;
                warn!(job = %address, %signature, "the result may or may not have landed ({reason}); not sending it again before slot {}", slot + BLOCKHASH_SLOTS);
            }
            Err(err) => {
                // Nothing landed: the next crank reads the job and sends again if it is still due.
                self.metrics.rpc_error(&err);
                self.warn_once(address, "submit", format!("submitting the result failed: {err}"));
            }
        }
        Ok(())
    }

    /// Claims open jobs it can serve, oldest first, up to `max_in_flight`.
    async fn claim_open(&mut self, slot: u64, market: &Market) -> Result<()> {
        let rows = self.store.active_jobs()?;
        let mut in_flight = rows
            .iter()
            .filter(|row| matches!(row.state, JobState::Claiming | JobState::Claimed | JobState::Submitting))
            .count();
        if in_flight >= self.config.max_in_flight {
            return Ok(());
        }
        let Some(provider) = program_account::<Provider>(&*self.chain, &self.config.provider).await? else {
            return Ok(());
        };
        if market.paused || provider.status != ProviderStatus::Active {
            return Ok(());
        }
        let bonded = provider.staked.saturating_sub(provider.pending_unstake);
        if bonded < market.params.min_provider_stake {
            self.warn_once(
                &self.config.provider.clone(),
                "stake",
                format!(
                    "bonded stake {bonded} is below the market's minimum {}: not claiming (stake more)",
                    market.params.min_provider_stake
                ),
            );
            return Ok(());
        }
        let mut free = provider.staked.saturating_sub(provider.locked).saturating_sub(provider.pending_unstake);
        let open = filters::jobs(&*self.chain, &self.config.market, Some(JobStatus::Open)).await?;
        for (address, job) in open {
            if in_flight >= self.config.max_in_flight {
                break;
            }
            if self.store.job(&address)?.is_some() {
                continue;
            }
            let collateral = (u128::from(job.price) * u128::from(job.terms.collateral_ratio_bps)).div_ceil(10_000);
            let verdict = match self.models.get(&job.weights_hash) {
                None => Err(("model_not_served", "its model is not served here".to_string())),
                Some(_)
                    if u128::from(job.price)
                        < u128::from(self.config.min_price_per_token) * u128::from(job.token_budget) =>
                {
                    Err((
                        "price_below_minimum",
                        format!(
                            "its price {} for {} tokens is below this worker's minimum of {} per token",
                            job.price, job.token_budget, self.config.min_price_per_token
                        ),
                    ))
                }
                Some(_) if collateral > u128::from(free) => {
                    Err(("insufficient_stake", format!("it needs {collateral} collateral and {free} stake is free")))
                }
                Some(model) => check_job(model, &job.prompt, job.token_budget).map_err(|why| ("bad_prompt", why)),
            };
            if let Err((reason, why)) = verdict {
                if self.passed.insert(address, reason) != Some(reason) {
                    self.metrics.refused(reason);
                    info!(job = %address, reason, "not claiming: {why}");
                }
                continue;
            }
            if !self.store.begin_claim(&address, &job.weights_hash)? {
                continue;
            }
            let worker = self.config.worker.clone();
            let claim = ix::job_claim(&worker.pubkey(), &self.config.market, &self.config.provider, &address);
            match self.chain.send(&[claim], &[&*worker]).await {
                Ok(confirmed) => {
                    self.store.set_claim_signature(&address, &confirmed.signature.to_string())?;
                    self.metrics.jobs_claimed.inc();
                    info!(job = %address, collateral, signature = %confirmed.signature, "claimed");
                    free = free.saturating_sub(collateral as u64);
                    in_flight += 1;
                    self.generate(&address, &job);
                }
                Err(ChainError::InDoubt { signature, reason }) => {
                    self.store.set_doubt(&address, Some(slot))?;
                    in_flight += 1;
                    warn!(job = %address, %signature, "the claim may or may not have landed ({reason}); the chain will say");
                }
                Err(err) => {
                    // Nothing landed: forget the intent.
                    self.store.forget(&address)?;
                    if err.program_error() == Some(spotcheck_client::program_error_code(SpotcheckError::WrongJobStatus))
                    {
                        self.metrics.jobs_lost.inc();
                        self.passed.insert(address, "lost_race");
                        info!(job = %address, "claim lost: another provider was first");
                    } else {
                        self.chain_failed("claiming", &err);
                        // Whatever refused this claim (stake, jail, pause) refuses the next too.
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}
