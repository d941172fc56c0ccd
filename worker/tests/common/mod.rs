//! A market on the embedded chain for the worker daemon: three oracles
//! (quorum 2), a staked provider whose worker key the daemon runs with, the
//! tiny generated model registered, a funded client and a funded
//! challenger. The daemon runs in a runtime of its own, so a test can kill
//! it (drop the runtime: every task stops at its next await, as a kill -9
//! would stop the process) and start it again on the same data directory.
//! The oracle daemon's tests (`oracle/tests`) use this module too, with the
//! real worker as their provider.
#![allow(dead_code)]

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use async_trait::async_trait;
use solana_account::Account;
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck::instructions::JobSubmitArgs;
use spotcheck::state::{Job, MarketParams, ModelTerms};
use spotcheck_client::chain::{
    AccountFilter, Chain, ChainError, Confirmed, EventCursor, EventPage, FeedConfig, Wakeups,
};
use spotcheck_client::instructions::{self as ix, MarketKeys, MarketTokens};
use spotcheck_client::pda;
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::model::tiny::{TinySpec, tiny_gguf};
use spotcheck_localchain::{LocalChain, SharedLocalChain};
use spotcheck_worker::{Config, Worker};
use tokio_util::sync::CancellationToken;

pub const STAKE: u64 = 50_000_000;
pub const CLIENT_FUNDS: u64 = 10_000_000;
pub const PRICE_PER_TOKEN: u64 = 10;
pub const PROMPT: &str = "Hello there, what is in the sea?";

/// The tiny model's GGUF bytes (seed 42, F32) and a different, smaller one.
pub fn tiny_model_bytes() -> Vec<u8> {
    tiny_gguf(&TinySpec::default(), GgmlType::F32)
}

pub fn smaller_model_bytes() -> Vec<u8> {
    tiny_gguf(&TinySpec { seed: 7, n_layers: 1, ..TinySpec::default() }, GgmlType::F32)
}

/// Parameters under which a job is (as good as) never sampled: p = 0.01 %.
pub fn params() -> MarketParams {
    spotcheck_tests::jobs::rarely_sampled_params()
}

pub struct World {
    pub chain: SharedLocalChain,
    pub dir: tempfile::TempDir,
    pub market: Pubkey,
    pub keys: MarketKeys,
    pub authority: Keypair,
    pub oracles: Vec<Keypair>,
    pub stake_wallet: Keypair,
    pub provider: Pubkey,
    pub worker: Arc<Keypair>,
    pub payout: Pubkey,
    pub stake_source: Pubkey,
    pub client: Keypair,
    pub client_token: Pubkey,
    pub challenger: Keypair,
    pub challenger_token: Pubkey,
    pub model_path: PathBuf,
    pub model_id: [u8; 32],
    nonce: Cell<u64>,
}

fn ok<T, E: std::fmt::Display>(result: Result<T, E>, what: &str) -> T {
    result.unwrap_or_else(|err| panic!("{what}: {err}"))
}

impl World {
    pub fn new(params: MarketParams, stake: u64) -> World {
        Self::with_model(params, stake, tiny_model_bytes(), 64)
    }

    pub fn with_model(params: MarketParams, stake: u64, model: Vec<u8>, max_tokens: u32) -> World {
        let mut chain = ok(LocalChain::new(&spotcheck_localchain::default_program_path()), "load the program");
        let dir = ok(tempfile::tempdir(), "temp dir");
        let model_path = dir.path().join("tiny.gguf");
        ok(std::fs::write(&model_path, &model), "write the model");
        let model_id = spotcheck_engine::model::model_id(&model);

        let authority = ok(chain.seeded_wallet(1), "authority");
        let mint = ok(chain.create_mint(anchor_spl::token::ID), "mint");
        let market = pda::market(&authority.pubkey(), 1);
        let tokens = MarketTokens {
            stake_mint: mint.mint,
            stake_token_program: mint.program,
            payment_mint: mint.mint,
            payment_token_program: mint.program,
        };
        let send = |chain: &mut LocalChain, label: &str, ixs: &[Instruction], signers: &[&Keypair]| {
            chain.send(label, ixs, signers).unwrap_or_else(|failed| panic!("{label}: {:?}", failed.meta.logs));
        };
        send(&mut chain, "market_create", &[ix::market_create(&authority.pubkey(), 1, &tokens, params)], &[&authority]);
        let oracles: Vec<Keypair> = (0..3).map(|_| ok(chain.wallet(), "oracle")).collect();
        let set = ix::market_set_oracles(&authority.pubkey(), &market, oracles.iter().map(|o| o.pubkey()).collect(), 2);
        send(&mut chain, "market_set_oracles", &[set], &[&authority]);
        let terms = ModelTerms { price_per_token: PRICE_PER_TOKEN, max_tokens, uri: "test:tiny".into() };
        send(
            &mut chain,
            "model_register",
            &[ix::model_register(&authority.pubkey(), &market, model_id, "llama", terms)],
            &[&authority],
        );

        let stake_wallet = ok(chain.wallet(), "stake wallet");
        let worker = chain.next_keypair();
        ok(chain.airdrop(&worker.pubkey(), 10_000_000_000), "fund the worker key");
        let register = ix::provider_register(&stake_wallet.pubkey(), &market, &worker.pubkey(), "http://127.0.0.1:0");
        send(&mut chain, "provider_register", &[register], &[&stake_wallet]);
        let stake_source =
            ok(chain.funded_token_account(mint, &stake_wallet.pubkey(), stake.max(100_000_000)), "stake source");
        let keys = MarketKeys {
            market,
            stake_mint: mint.mint,
            stake_token_program: mint.program,
            payment_mint: mint.mint,
            payment_token_program: mint.program,
        };
        if stake > 0 {
            send(
                &mut chain,
                "provider_stake",
                &[ix::provider_stake(&stake_wallet.pubkey(), &keys, &stake_source, stake)],
                &[&stake_wallet],
            );
        }
        let payout = ok(chain.create_token_account(mint, &stake_wallet.pubkey()), "payout");
        let client = ok(chain.wallet(), "client");
        let client_token = ok(chain.funded_token_account(mint, &client.pubkey(), CLIENT_FUNDS), "client tokens");
        let challenger = ok(chain.wallet(), "challenger");
        let challenger_token =
            ok(chain.funded_token_account(mint, &challenger.pubkey(), CLIENT_FUNDS), "challenger tokens");
        World {
            chain: SharedLocalChain::new(chain),
            dir,
            market,
            keys,
            authority,
            oracles,
            provider: pda::provider(&market, &stake_wallet.pubkey()),
            stake_wallet,
            worker: Arc::new(worker),
            payout,
            stake_source,
            client,
            client_token,
            challenger,
            challenger_token,
            model_path,
            model_id,
            nonce: Cell::new(0),
        }
    }

    /// A configuration for the daemon: this world's provider and model, a
    /// fast tick, any free port, a data directory in the temp dir.
    pub fn config(&self, data: &str) -> Config {
        let mut config = Config::new(
            self.market,
            self.provider,
            self.worker.clone(),
            vec![self.model_path.clone()],
            self.dir.path().join(data),
        );
        config.device = spotcheck_engine::DeviceChoice::Cpu;
        config.threads = 1;
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.payout = Some(self.payout);
        config.tick = Duration::from_millis(20);
        config.feed = FeedConfig { poll_interval: Duration::from_millis(50), ..FeedConfig::default() };
        config
    }

    /// Submits a job of the registered tiny model; returns its address.
    pub fn submit(&self, prompt: &str, budget: u32) -> Pubkey {
        self.submit_model(&pda::model(&self.market, &self.model_id), prompt, budget)
    }

    pub fn submit_model(&self, model: &Pubkey, prompt: &str, budget: u32) -> Pubkey {
        let nonce = self.nonce.get();
        self.nonce.set(nonce + 1);
        let args = JobSubmitArgs { prompt: prompt.into(), token_budget: budget, max_price: u64::MAX };
        let submit = ix::job_submit(&self.client.pubkey(), &self.keys, model, nonce, &self.client_token, args);
        self.chain
            .lock()
            .send("job_submit", &[submit], &[&self.client])
            .unwrap_or_else(|failed| panic!("job_submit: {:?}", failed.meta.logs));
        pda::job(&self.market, &self.client.pubkey(), nonce)
    }

    pub fn job(&self, job: &Pubkey) -> Option<Job> {
        self.chain.lock().program_account(job)
    }

    /// The oracles attest the job's output complete (quorum 2 of 3).
    pub fn attest(&self, job: &Pubkey) {
        for oracle in &self.oracles[..2] {
            let attest = ix::job_attest(&oracle.pubkey(), &self.market, job, true);
            self.chain
                .lock()
                .send("job_attest", &[attest], &[oracle])
                .unwrap_or_else(|f| panic!("attest: {:?}", f.meta.logs));
        }
    }

    /// Every token account in play (one mint): vaults, wallets, payout, and
    /// the parties' associated token accounts (where an oracle's cranks pay).
    pub fn token_accounts(&self) -> Vec<Pubkey> {
        let mut accounts = vec![
            pda::stake_vault(&self.market),
            pda::escrow_vault(&self.market),
            self.stake_source,
            self.payout,
            self.client_token,
            self.challenger_token,
        ];
        for owner in [self.client.pubkey(), self.stake_wallet.pubkey(), self.challenger.pubkey()] {
            accounts.push(self.associated(&owner));
        }
        accounts
    }

    /// `owner`'s associated token account of the market's (one) mint.
    pub fn associated(&self, owner: &Pubkey) -> Pubkey {
        anchor_spl::associated_token::get_associated_token_address_with_program_id(
            owner,
            &self.keys.payment_mint,
            &self.keys.payment_token_program,
        )
    }

    pub fn balance(&self, account: &Pubkey) -> u64 {
        self.chain.lock().balance(account)
    }

    /// Points the provider's on-chain endpoint at `url` (the running worker's address).
    pub fn set_endpoint(&self, url: &str) {
        let set = ix::provider_set_endpoint(&self.stake_wallet.pubkey(), &self.market, url);
        self.chain
            .lock()
            .send("provider_set_endpoint", &[set], &[&self.stake_wallet])
            .unwrap_or_else(|f| panic!("provider_set_endpoint: {:?}", f.meta.logs));
    }

    /// The challenger challenges `job` (posting the market's bond).
    pub fn challenge(&self, job: &Pubkey) {
        let challenge = ix::job_challenge(&self.challenger.pubkey(), &self.keys, job, &self.challenger_token);
        self.chain
            .lock()
            .send("job_challenge", &[challenge], &[&self.challenger])
            .unwrap_or_else(|f| panic!("job_challenge: {:?}", f.meta.logs));
    }

    /// The database of the daemon run with `config(data)`.
    pub fn store(&self, data: &str) -> spotcheck_worker::Store {
        ok(spotcheck_worker::Store::open(&self.config(data).database_path()), "open the database")
    }

    pub fn total_tokens(&self) -> u64 {
        self.chain.lock().balances(&self.token_accounts()).iter().sum()
    }

    /// How many successful transactions emitted event `T` for `job`.
    pub fn count_events<T: anchor_lang::Event>(&self, job: &Pubkey, job_of: impl Fn(&T) -> Pubkey) -> usize {
        self.chain
            .lock()
            .history()
            .iter()
            .map(|tx| spotcheck_client::events::decode_all::<T>(&tx.logs).iter().filter(|e| job_of(e) == *job).count())
            .sum()
    }
}

/// Polls `condition` every 10 ms until it holds; panics after `timeout`.
#[track_caller]
pub fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A daemon running in its own runtime: the worker's (`Running::start`),
/// or any other whose `run` ends with an `E` (`Running::launch`).
pub struct Running<E = spotcheck_worker::WorkerError> {
    pub runtime: Option<tokio::runtime::Runtime>,
    pub shutdown: CancellationToken,
    pub addr: std::net::SocketAddr,
    pub handle: Option<tokio::task::JoinHandle<Result<(), E>>>,
}

impl Running {
    pub fn start(config: Config, chain: Arc<dyn Chain>) -> spotcheck_worker::Result<Running> {
        let runtime = Running::<spotcheck_worker::WorkerError>::runtime();
        let worker = runtime.block_on(Worker::start(config, chain))?;
        let addr = worker.local_addr();
        Ok(Running::launch(runtime, addr, |shutdown| worker.run(shutdown)))
    }
}

impl<E: Send + 'static> Running<E> {
    pub fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    }

    /// Runs `run(shutdown)` on `runtime`; `addr` is where the daemon listens.
    pub fn launch<F, Fut>(runtime: tokio::runtime::Runtime, addr: std::net::SocketAddr, run: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: std::future::Future<Output = Result<(), E>> + Send + 'static,
    {
        let shutdown = CancellationToken::new();
        let handle = runtime.spawn(run(shutdown.clone()));
        Running { runtime: Some(runtime), shutdown, addr, handle: Some(handle) }
    }

    /// GET `path` on the daemon's server: (status, JSON body).
    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let url = format!("http://{}{path}", self.addr);
        self.runtime.as_ref().unwrap().block_on(async move {
            let response = reqwest::get(&url).await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
        })
    }

    pub fn get_text(&self, path: &str) -> String {
        let url = format!("http://{}{path}", self.addr);
        self.runtime.as_ref().unwrap().block_on(async move { reqwest::get(&url).await.unwrap().text().await.unwrap() })
    }

    /// Kills it: every task stops at its next await point, nothing more
    /// runs, and (as when a process dies) everything it held — its data
    /// directory's lock, its port — is released before this returns.
    pub fn kill(mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(10));
        }
    }

    /// Stops it gracefully and returns what `run` returned.
    pub fn stop(mut self) -> Result<(), E> {
        self.shutdown.cancel();
        let runtime = self.runtime.take().unwrap();
        let result = runtime.block_on(self.handle.take().unwrap()).unwrap();
        runtime.shutdown_timeout(Duration::from_secs(5));
        result
    }
}

impl<E> Drop for Running<E> {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Where a send of one instruction hangs (to kill the daemon there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HangAt {
    /// Before it is executed: it never lands.
    Before,
    /// After it landed: the daemon never hears that it did.
    After,
}

/// What a [`HookedChain`] does around one send: called with the send's
/// instructions before it executes and after; `true` hangs the send there.
pub type SendHook = Box<dyn Fn(&SharedLocalChain, &[Instruction], HangAt) -> bool + Send + Sync>;

/// Rewrites a send's instructions; given the fee payer (the sender's key).
pub type RewriteHook = Box<dyn Fn(&[Instruction], &Pubkey) -> Vec<Instruction> + Send + Sync>;

/// The embedded chain, with a hook around each send: to hang it (and kill
/// the daemon there), to let a rival act just before it, or to rewrite
/// what a sender sends (a lying oracle); and a switch that makes every call
/// fail as an unreachable node would (an RPC outage).
pub struct HookedChain {
    pub inner: SharedLocalChain,
    pub hook: SendHook,
    pub rewrite: Option<RewriteHook>,
    pub down: Arc<AtomicBool>,
}

impl HookedChain {
    /// A send of the instruction with `discriminator` hangs forever,
    /// before or after executing it, and sets `hung`.
    pub fn hanging(inner: SharedLocalChain, discriminator: &'static [u8], at: HangAt, hung: Arc<AtomicBool>) -> Self {
        let hook: SendHook = Box::new(move |_, instructions, phase| {
            let hang = phase == at && instructions.iter().any(|i| i.data.starts_with(discriminator));
            if hang {
                hung.store(true, Ordering::SeqCst);
            }
            hang
        });
        HookedChain { inner, hook, rewrite: None, down: Arc::default() }
    }

    /// Just before the daemon's first claim goes through, `rival` (a
    /// provider's account, with its worker key) claims the same job: a lost race.
    pub fn racing(inner: SharedLocalChain, market: Pubkey, rival_worker: Keypair, rival: Pubkey) -> Self {
        use anchor_lang::Discriminator;
        let raced = AtomicBool::new(false);
        let hook: SendHook = Box::new(move |chain, instructions, phase| {
            let claim =
                instructions.iter().find(|i| i.data.starts_with(spotcheck::instruction::JobClaim::DISCRIMINATOR));
            if let Some(claim) = claim
                && phase == HangAt::Before
                && !raced.swap(true, Ordering::SeqCst)
            {
                let job = claim.accounts[3].pubkey;
                let first = ix::job_claim(&rival_worker.pubkey(), &market, &rival, &job);
                chain.lock().send("job_claim", &[first], &[&rival_worker]).unwrap();
            }
            false
        });
        HookedChain { inner, hook, rewrite: None, down: Arc::default() }
    }

    /// Every vote `liar` sends (`job_attest`, `job_post_verdict`) says the
    /// opposite of what it decided: an oracle that always lies.
    pub fn lying(inner: SharedLocalChain, liar: Pubkey) -> Self {
        use anchor_lang::Discriminator;
        let rewrite: RewriteHook = Box::new(move |instructions, payer| {
            let mut out = instructions.to_vec();
            if *payer == liar {
                for instruction in &mut out {
                    let vote = instruction.data.starts_with(spotcheck::instruction::JobAttest::DISCRIMINATOR)
                        || instruction.data.starts_with(spotcheck::instruction::JobPostVerdict::DISCRIMINATOR);
                    // The vote is the bool right after the 8-byte discriminator.
                    if vote && let Some(byte) = instruction.data.get_mut(8) {
                        *byte ^= 1;
                    }
                }
            }
            out
        });
        HookedChain { inner, hook: Box::new(|_, _, _| false), rewrite: Some(rewrite), down: Arc::default() }
    }

    /// The embedded chain as it is, with the outage switch (`down`) off.
    pub fn plain(inner: SharedLocalChain) -> Self {
        HookedChain { inner, hook: Box::new(|_, _, _| false), rewrite: None, down: Arc::default() }
    }

    /// An unreachable node, while `down` is on.
    fn check_up(&self) -> Result<(), ChainError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ChainError::Unreachable {
                url: "http://outage.test".into(),
                reason: "connection refused".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Chain for HookedChain {
    fn cluster(&self) -> String {
        self.inner.cluster()
    }
    fn program_id(&self) -> Pubkey {
        self.inner.program_id()
    }
    async fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<Confirmed, ChainError> {
        self.check_up()?;
        let rewritten = match (&self.rewrite, signers.first()) {
            (Some(rewrite), Some(payer)) => rewrite(instructions, &payer.pubkey()),
            _ => instructions.to_vec(),
        };
        let instructions = &rewritten[..];
        if (self.hook)(&self.inner, instructions, HangAt::Before) {
            std::future::pending::<()>().await;
        }
        let result = self.inner.send(instructions, signers).await;
        if (self.hook)(&self.inner, instructions, HangAt::After) {
            std::future::pending::<()>().await;
        }
        result
    }
    async fn account(&self, address: &Pubkey) -> Result<Option<Account>, ChainError> {
        self.check_up()?;
        self.inner.account(address).await
    }
    async fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ChainError> {
        self.check_up()?;
        self.inner.accounts(addresses).await
    }
    async fn program_accounts(&self, filters: &[AccountFilter]) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        self.check_up()?;
        self.inner.program_accounts(filters).await
    }
    async fn slot(&self) -> Result<u64, ChainError> {
        self.check_up()?;
        self.inner.slot().await
    }
    async fn latest_cursor(&self) -> Result<Option<EventCursor>, ChainError> {
        self.check_up()?;
        self.inner.latest_cursor().await
    }
    async fn events_after(&self, cursor: Option<&EventCursor>, max: usize) -> Result<EventPage, ChainError> {
        self.check_up()?;
        self.inner.events_after(cursor, max).await
    }
    async fn wakeups(&self) -> Result<Wakeups, ChainError> {
        self.check_up()?;
        self.inner.wakeups().await
    }
}

impl World {
    /// A second provider, registered and staked: (its worker key, its account).
    pub fn rival(&self) -> (Keypair, Pubkey) {
        let mut chain = self.chain.lock();
        let stake_wallet = ok(chain.wallet(), "rival stake wallet");
        let worker = chain.next_keypair();
        ok(chain.airdrop(&worker.pubkey(), 1_000_000_000), "fund the rival");
        let register = ix::provider_register(&stake_wallet.pubkey(), &self.market, &worker.pubkey(), "http://rival");
        chain.send("provider_register", &[register], &[&stake_wallet]).unwrap();
        let mint = spotcheck_localchain::tokens::LocalMint {
            mint: self.keys.stake_mint,
            program: self.keys.stake_token_program,
        };
        let source = ok(chain.funded_token_account(mint, &stake_wallet.pubkey(), STAKE), "rival stake");
        chain
            .send(
                "provider_stake",
                &[ix::provider_stake(&stake_wallet.pubkey(), &self.keys, &source, STAKE)],
                &[&stake_wallet],
            )
            .unwrap();
        (worker, pda::provider(&self.market, &stake_wallet.pubkey()))
    }
}
