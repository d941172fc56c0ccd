//! One test body for every `Chain` implementation (as the engine runs one
//! body per backend): send, confirm, refuse, read back, events in order,
//! catch-up after a gap, nothing sent twice.

#![allow(dead_code)] // each test binary uses its own part of these helpers

pub mod localnet;
pub mod program;
pub mod proxy;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_signature::Signature;
use solana_signer::Signer;
use spotcheck::error::SpotcheckError;
use spotcheck::events::{MarketPausedSet, OraclesSet, ProviderRegistered};
use spotcheck::state::{Market, Provider};
use spotcheck_client::chain::filters::{self, program_account, program_accounts_of};
use spotcheck_client::chain::{
    Chain, ChainError, Confirmed, EventCursor, EventFeed, FeedConfig, FeedItem, ProgramEvent,
};
use tokio::sync::mpsc;

/// Gives `address` lamports on the chain under test (airdrop, or LiteSVM's).
pub type Faucet = Box<dyn Fn(Pubkey) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

pub const FUNDS: u64 = 10_000_000_000;

/// What the body measured, for the backend's own checks and the log.
#[derive(Debug, Default)]
pub struct Report {
    /// Wall time of every `send`, from call to confirmation.
    pub send_times: Vec<Duration>,
    /// The most copies of one signed transaction a `send` sent.
    pub max_sends: u32,
}

impl Report {
    pub fn median_send(&self) -> Duration {
        let mut times = self.send_times.clone();
        times.sort();
        times.get(times.len() / 2).copied().unwrap_or_default()
    }
}

/// A feed that waits only on wake-ups: its poll is far off, so an event
/// that arrives in time arrived because the chain woke the feed.
fn wakeup_only() -> FeedConfig {
    FeedConfig {
        poll_interval: Duration::from_secs(600),
        rescan_interval: Duration::from_secs(600),
        ..FeedConfig::default()
    }
}

/// How long events may take to arrive.
const EVENT_WAIT: Duration = Duration::from_secs(20);

pub async fn run(chain: Arc<dyn Chain>, fund: Faucet) -> Report {
    let mut report = Report::default();
    let authority = Keypair::new();
    fund(authority.pubkey()).await;

    // --- send, confirm, read back ------------------------------------------
    let started = Instant::now();
    let (market, confirmations) =
        program::create_market(&*chain, &authority).await.unwrap_or_else(|err| panic!("{err}"));
    report.send_times.push(started.elapsed() / confirmations.len() as u32);
    for confirmed in &confirmations {
        assert!(confirmed.sends >= 1 && confirmed.signings == 1, "{confirmed:?}");
        report.max_sends = report.max_sends.max(confirmed.sends);
    }
    let created: Market =
        program_account(&*chain, &market).await.unwrap().expect("the market exists after market_create");
    assert_eq!(created.authority, authority.pubkey());
    assert!(!created.paused);
    let nowhere = Keypair::new().pubkey();
    let both = chain.accounts(&[market, nowhere]).await.unwrap();
    assert!(both[0].as_ref().is_some_and(|account| account.owner == chain.program_id()));
    assert!(both[1].is_none(), "a fresh key has no account");
    assert_eq!(chain.account(&nowhere).await.unwrap(), None);
    assert!(chain.slot().await.unwrap() > 0);

    // --- events in order, delivered by wake-ups ----------------------------
    let start = chain.latest_cursor().await.unwrap().expect("the program has transactions by now");
    let mut feed = Follower::start(chain.clone(), Some(start), wakeup_only());
    feed.expect_rescan().await;

    let stake_wallet = Keypair::new();
    fund(stake_wallet.pubkey()).await;
    let worker = Keypair::new().pubkey();
    let version_before = created.oracle_set_version;
    let first_set = program::oracles(3);
    let steps: Vec<(Vec<Instruction>, Vec<&Keypair>)> = vec![
        (vec![program::set_oracles(&authority, &market, first_set.clone(), 2)], vec![&authority]),
        (vec![program::set_paused(&authority, &market, true)], vec![&authority]),
        (vec![program::set_paused(&authority, &market, false)], vec![&authority]),
        (vec![program::register_provider(&stake_wallet, &market, &worker)], vec![&stake_wallet]),
        (vec![program::set_oracles(&authority, &market, program::oracles(1), 1)], vec![&authority]),
    ];
    let mut sent = Vec::new();
    for (instructions, signers) in &steps {
        sent.push(send(&*chain, instructions, signers, &mut report).await);
    }
    let events = feed.events(steps.len()).await;
    assert_eq!(
        events.iter().map(|event| event.signature).collect::<Vec<_>>(),
        sent,
        "one event per transaction, in order"
    );
    assert!(events.windows(2).all(|pair| pair[0].slot <= pair[1].slot));
    let first = events[0].decode::<OraclesSet>().expect("an OraclesSet first");
    assert_eq!((first.market, first.oracles, first.quorum, first.version), (market, first_set, 2, version_before + 1));
    assert!(events[1].decode::<MarketPausedSet>().is_some_and(|event| event.paused));
    assert!(events[2].decode::<MarketPausedSet>().is_some_and(|event| !event.paused));
    let registered = events[3].decode::<ProviderRegistered>().expect("then ProviderRegistered");
    assert_eq!((registered.stake_wallet, registered.worker), (stake_wallet.pubkey(), worker));
    assert_eq!(events[4].decode::<OraclesSet>().map(|event| event.version), Some(version_before + 2));

    // --- refuse: a typed program error, nothing changed, no event ----------
    let market_before = chain.account(&market).await.unwrap();
    let lamports_before = chain.account(&authority.pubkey()).await.unwrap().map(|account| account.lamports);
    let refused = chain
        .send(&[program::set_oracles(&authority, &market, program::oracles(3), 1)], &[&authority])
        .await
        .expect_err("a quorum of 1 in 3 is no majority");
    assert_eq!(
        refused.program_error(),
        Some(anchor_lang::error::ERROR_CODE_OFFSET + SpotcheckError::QuorumNotMajority as u32)
    );
    assert!(!refused.is_retryable(), "{refused}");
    let refusal = refused.refusal().expect("a refusal");
    assert_eq!((refusal.instruction, refusal.landed), (Some(0), None));
    assert!(refusal.message.as_deref().is_some_and(|message| message.contains("QuorumNotMajority")), "{refusal:?}");
    assert!(!refusal.logs.is_empty());
    assert!(refused.to_string().contains("nothing was sent"), "{refused}");
    assert_eq!(chain.account(&market).await.unwrap(), market_before, "the market is unchanged");
    let lamports_after = chain.account(&authority.pubkey()).await.unwrap().map(|account| account.lamports);
    assert_eq!(lamports_after, lamports_before, "no fee was paid");
    let after_refusal =
        send(&*chain, &[program::set_paused(&authority, &market, true)], &[&authority], &mut report).await;
    let next = feed.events(1).await;
    assert_eq!(next[0].signature, after_refusal, "the refused transaction has no event");

    // --- read back by filter; nothing sent twice ---------------------------
    let market_now: Market = program_account(&*chain, &market).await.unwrap().expect("market");
    assert_eq!(market_now.oracle_set_version, version_before + 2, "two oracle-set changes, each landed once");
    assert!(market_now.paused);
    let providers = program_accounts_of::<Provider>(&*chain, &filters::providers_of_market(&market)).await.unwrap();
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0].0, spotcheck_client::pda::provider(&market, &stake_wallet.pubkey()));
    assert_eq!(providers[0].1.worker, worker);
    let by_wallet =
        program_accounts_of::<Provider>(&*chain, &filters::providers_of_stake_wallet(&stake_wallet.pubkey()))
            .await
            .unwrap();
    assert_eq!(by_wallet.iter().map(|(address, _)| *address).collect::<Vec<_>>(), vec![providers[0].0]);
    assert!(filters::jobs(&*chain, &market, None).await.unwrap().is_empty());

    // --- catch-up after a gap, from a persisted cursor ---------------------
    let persisted = feed.stop().await.expect("the feed has a cursor").to_string();
    let missed = vec![
        send(&*chain, &[program::set_paused(&authority, &market, false)], &[&authority], &mut report).await,
        send(&*chain, &[program::set_oracles(&authority, &market, program::oracles(5), 3)], &[&authority], &mut report)
            .await,
    ];
    let cursor: EventCursor = persisted.parse().expect("a cursor parses back");
    let mut feed = Follower::start(chain.clone(), Some(cursor), wakeup_only());
    feed.expect_rescan().await;
    let recovered = feed.events(missed.len()).await;
    assert_eq!(recovered.iter().map(|event| event.signature).collect::<Vec<_>>(), missed);
    assert_eq!(recovered[1].decode::<OraclesSet>().map(|event| event.version), Some(version_before + 3));
    feed.expect_quiet(Duration::from_millis(500)).await;
    feed.stop().await;

    // --- a cursor the chain never saw is a clear, fatal error --------------
    let stranger = EventCursor { slot: 1, signature: Signature::from([7u8; 64]) };
    let err = chain.events_after(Some(&stranger), 10).await.expect_err("an unknown cursor");
    assert!(matches!(err, ChainError::CursorNotFound { .. }) && !err.is_retryable(), "{err}");
    assert!(err.to_string().contains(&chain.cluster()), "{err}");
    report
}

/// Sends and checks the confirmation; returns the signature.
pub async fn send(
    chain: &dyn Chain,
    instructions: &[Instruction],
    signers: &[&Keypair],
    report: &mut Report,
) -> Signature {
    let started = Instant::now();
    let confirmed: Confirmed = chain.send(instructions, signers).await.unwrap_or_else(|err| panic!("{err}"));
    report.send_times.push(started.elapsed());
    report.max_sends = report.max_sends.max(confirmed.sends);
    assert_eq!(confirmed.signings, 1, "a fresh blockhash needs no second signing");
    confirmed.signature
}

/// An `EventFeed` driven on its own task, as a service would, reporting
/// what it yields.
pub struct Follower {
    items: mpsc::UnboundedReceiver<Result<FeedItem, ChainError>>,
    task: tokio::task::JoinHandle<EventFeed>,
    stop: tokio::sync::oneshot::Sender<()>,
    pending: std::collections::VecDeque<ProgramEvent>,
}

impl Follower {
    pub fn start(chain: Arc<dyn Chain>, cursor: Option<EventCursor>, config: FeedConfig) -> Self {
        let (items_tx, items) = mpsc::unbounded_channel();
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut feed = EventFeed::new(chain, cursor, config);
            loop {
                tokio::select! {
                    _ = &mut stopped => return feed,
                    item = feed.next() => {
                        if items_tx.send(item).is_err() {
                            return feed;
                        }
                    }
                }
            }
        });
        Follower { items, task, stop, pending: Default::default() }
    }

    /// The next item, errors included.
    pub async fn item(&mut self, wait: Duration) -> Option<Result<FeedItem, ChainError>> {
        tokio::time::timeout(wait, self.items.recv()).await.ok().flatten()
    }

    pub async fn expect_rescan(&mut self) {
        match self.item(EVENT_WAIT).await {
            Some(Ok(FeedItem::Rescan)) => {}
            other => panic!("a feed starts with Rescan, got {other:?}"),
        }
    }

    /// The next `n` events, failing on any error or after `EVENT_WAIT`.
    pub async fn events(&mut self, n: usize) -> Vec<ProgramEvent> {
        let deadline = tokio::time::Instant::now() + EVENT_WAIT;
        while self.pending.len() < n {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.item(left).await {
                Some(Ok(FeedItem::Events(page))) => self.pending.extend(page.events),
                Some(Ok(FeedItem::Rescan)) => {}
                Some(Err(err)) => panic!("the feed failed: {err}"),
                None => panic!("only {} of {n} events arrived within {EVENT_WAIT:?}", self.pending.len()),
            }
        }
        self.pending.drain(..n).collect()
    }

    /// Fails if an event arrives within `wait`.
    pub async fn expect_quiet(&mut self, wait: Duration) {
        assert!(self.pending.is_empty(), "unexpected events: {:?}", self.pending);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.item(left).await {
                None => return,
                Some(Ok(FeedItem::Events(page))) if page.events.is_empty() => {}
                Some(Ok(FeedItem::Rescan)) => {}
                other => panic!("expected nothing, got {other:?}"),
            }
        }
    }

    /// Stops the feed; returns its cursor (what a service would persist).
    pub async fn stop(self) -> Option<EventCursor> {
        let _ = self.stop.send(());
        let feed = self.task.await.expect("the feed task");
        feed.cursor().copied()
    }
}
