//! Oracles around the worker's test market (`worker/tests/common`): the
//! real worker daemon as the provider, its endpoint registered on-chain,
//! and up to three oracle daemons (quorum 2), each in a runtime of its own
//! so a test can kill one (as kill -9 would) and start it again on the same
//! data directory.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use solana_signer::Signer;
use spotcheck::state::MarketParams;
use spotcheck_client::chain::{Backoff, Chain, FeedConfig};
use spotcheck_oracle::{Oracle, OracleError};

use crate::common::*;

pub type OracleRunning = Running<OracleError>;

pub const WAIT: Duration = Duration::from_secs(60);

/// A market, its provider's worker (honest unless `cheat`), its endpoint on-chain.
pub struct Network {
    pub world: World,
    pub worker: Running,
}

impl Network {
    pub fn new(params: MarketParams, cheat: Option<spotcheck_worker::Cheat>) -> Network {
        let world = World::new(params, STAKE);
        let mut config = world.config("worker");
        config.cheat = cheat;
        let worker = Running::start(config, Arc::new(world.chain.clone())).unwrap();
        world.set_endpoint(&format!("http://{}", worker.addr));
        Network { world, worker }
    }

    pub fn chain(&self) -> Arc<dyn Chain> {
        Arc::new(self.world.chain.clone())
    }

    /// Oracle `index`'s configuration: the tiny model, the CPU, any free
    /// port, a fast tick, short fetch timeouts and backoff.
    pub fn oracle_config(&self, index: usize) -> spotcheck_oracle::Config {
        let world = &self.world;
        let mut config = spotcheck_oracle::Config::new(
            world.market,
            Arc::new(world.oracles[index].insecure_clone()),
            vec![world.model_path.clone()],
            world.dir.path().join(format!("oracle-{index}")),
        );
        config.device = spotcheck_engine::DeviceChoice::Cpu;
        config.threads = 1;
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.tick = Duration::from_millis(20);
        config.feed = FeedConfig { poll_interval: Duration::from_millis(50), ..FeedConfig::default() };
        config.fetch.timeout = Duration::from_secs(2);
        config.fetch.backoff =
            Backoff { first: Duration::from_millis(20), max: Duration::from_millis(200), attempts: u32::MAX };
        config
    }

    pub fn start_oracle(&self, index: usize) -> OracleRunning {
        start_oracle(self.oracle_config(index), self.chain()).unwrap()
    }

    /// All three oracles, each with the market's model.
    pub fn start_oracles(&self) -> Vec<OracleRunning> {
        (0..3).map(|i| self.start_oracle(i)).collect()
    }

    pub fn oracle_store(&self, index: usize) -> spotcheck_oracle::Store {
        spotcheck_oracle::Store::open(&self.oracle_config(index).database_path()).unwrap()
    }

    /// Submits a job and waits until its result is on-chain.
    pub fn submitted_job(&self, budget: u32) -> anchor_lang::prelude::Pubkey {
        let job = self.world.submit(PROMPT, budget);
        wait_until("the result", WAIT, || {
            self.world.job(&job).is_some_and(|j| {
                j.status != spotcheck::state::JobStatus::Open && j.status != spotcheck::state::JobStatus::Claimed
            })
        });
        job
    }

    pub fn oracle_keys(&self) -> Vec<anchor_lang::prelude::Pubkey> {
        self.world.oracles.iter().map(|o| o.pubkey()).collect()
    }
}

pub fn start_oracle(
    config: spotcheck_oracle::Config,
    chain: Arc<dyn Chain>,
) -> spotcheck_oracle::Result<OracleRunning> {
    let runtime = OracleRunning::runtime();
    let oracle = runtime.block_on(Oracle::start(config, chain))?;
    let addr = oracle.local_addr();
    Ok(Running::launch(runtime, addr, |shutdown| oracle.run(shutdown)))
}

/// A metric's value from a `/metrics` text: `name` with its labels, as
/// written (`attested_complete`, `abstained{kind="model_not_loaded"}`).
pub fn metric<E: Send + 'static>(running: &Running<E>, name: &str) -> f64 {
    let text = running.get_text("/metrics");
    let (base, labels) = name.split_once('{').map_or((name, ""), |(b, l)| (b, l));
    let wanted = |suffix: &str| {
        if labels.is_empty() {
            format!("spotcheck_oracle_{base}{suffix} ")
        } else {
            format!("spotcheck_oracle_{base}{suffix}{{{labels} ")
        }
    };
    text.lines()
        .find(|line| line.starts_with(&wanted("_total")) || line.starts_with(&wanted("")))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

/// The sum of a metric over several oracles.
pub fn metric_sum(oracles: &[OracleRunning], name: &str) -> f64 {
    oracles.iter().map(|o| metric(o, name)).sum()
}

/// Asserts a counter summed over `oracles` comes to `expected`: a vote's
/// counter goes up just after its send returns, which can be a moment after
/// the job it decided has already closed, so it is waited for (5 s at most).
#[track_caller]
pub fn assert_count(oracles: &[OracleRunning], name: &str, expected: f64) {
    let give_up = std::time::Instant::now() + Duration::from_secs(5);
    while metric_sum(oracles, name) < expected && std::time::Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(metric_sum(oracles, name), expected, "{name}");
}
