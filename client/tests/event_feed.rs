//! `EventFeed`'s own logic on the embedded chain, in paused time: wake-ups
//! that get lost or drop, catch-ups that fail, the slow poll, periodic
//! rescans and paging. A wrapper (`Flaky`) breaks the chain on purpose.

mod conformance;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use async_trait::async_trait;
use conformance::{FUNDS, Follower, program};
use solana_account::Account;
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck_client::chain::{
    AccountFilter, Backoff, Chain, ChainError, Confirmed, EventCursor, EventPage, FeedConfig, FeedItem, WakeupSender,
    Wakeups,
};
use spotcheck_localchain::{LocalChain, SharedLocalChain};
use tokio::time::Instant;

/// The embedded chain, with faults switched on by the test.
struct Flaky {
    inner: SharedLocalChain,
    /// Wake-ups are handed out but never fire (a lost notification).
    silent_wakeups: AtomicBool,
    /// The next wake-up stream ends at once (a dropped websocket).
    drop_next_wakeups: AtomicBool,
    /// This many catch-ups fail as if the node were down.
    failing_catch_ups: AtomicU32,
    /// Keeps silent wake-up streams open.
    held: Mutex<Vec<WakeupSender>>,
}

impl Flaky {
    fn new(inner: SharedLocalChain) -> Arc<Flaky> {
        Arc::new(Flaky {
            inner,
            silent_wakeups: AtomicBool::new(false),
            drop_next_wakeups: AtomicBool::new(false),
            failing_catch_ups: AtomicU32::new(0),
            held: Mutex::new(Vec::new()),
        })
    }
}

#[async_trait]
impl Chain for Flaky {
    fn cluster(&self) -> String {
        "flaky".into()
    }
    fn program_id(&self) -> Pubkey {
        self.inner.program_id()
    }
    async fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<Confirmed, ChainError> {
        self.inner.send(instructions, signers).await
    }
    async fn account(&self, address: &Pubkey) -> Result<Option<Account>, ChainError> {
        self.inner.account(address).await
    }
    async fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ChainError> {
        self.inner.accounts(addresses).await
    }
    async fn program_accounts(&self, filters: &[AccountFilter]) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        self.inner.program_accounts(filters).await
    }
    async fn slot(&self) -> Result<u64, ChainError> {
        self.inner.slot().await
    }
    async fn latest_cursor(&self) -> Result<Option<EventCursor>, ChainError> {
        self.inner.latest_cursor().await
    }
    async fn events_after(&self, cursor: Option<&EventCursor>, max: usize) -> Result<EventPage, ChainError> {
        let failing = self.failing_catch_ups.load(Ordering::SeqCst);
        if failing > 0 {
            self.failing_catch_ups.store(failing - 1, Ordering::SeqCst);
            return Err(ChainError::Unreachable { url: "flaky".into(), reason: "switched off by the test".into() });
        }
        self.inner.events_after(cursor, max).await
    }
    async fn wakeups(&self) -> Result<Wakeups, ChainError> {
        if self.drop_next_wakeups.swap(false, Ordering::SeqCst) {
            let (sender, wakeups) = Wakeups::channel();
            sender.close("dropped by the test".into());
            return Ok(wakeups);
        }
        if self.silent_wakeups.load(Ordering::SeqCst) {
            let (sender, wakeups) = Wakeups::channel();
            self.held.lock().unwrap().push(sender);
            return Ok(wakeups);
        }
        self.inner.wakeups().await
    }
}

/// A chain with a market, and its authority.
async fn market_chain() -> (SharedLocalChain, Keypair, Pubkey) {
    let chain = SharedLocalChain::new(
        LocalChain::new(&spotcheck_localchain::default_program_path()).unwrap_or_else(|err| panic!("{err}")),
    );
    let authority = Keypair::new();
    chain.lock().airdrop(&authority.pubkey(), FUNDS).unwrap();
    let (market, _) = program::create_market(&chain, &authority).await.unwrap();
    (chain, authority, market)
}

fn config(poll: u64, rescan: u64) -> FeedConfig {
    FeedConfig {
        poll_interval: Duration::from_secs(poll),
        rescan_interval: Duration::from_secs(rescan),
        max_transactions: 100,
        backoff: Backoff { first: Duration::from_secs(1), max: Duration::from_secs(8), attempts: u32::MAX },
    }
}

async fn pause(chain: &dyn Chain, authority: &Keypair, market: &Pubkey, paused: bool) -> solana_signature::Signature {
    chain.send(&[program::set_paused(authority, market, paused)], &[authority]).await.unwrap().signature
}

/// A `Flaky` chain with a market, `fault` switched on, followed from now on
/// by a feed that has yielded its first `Rescan`.
async fn flaky_feed(fault: fn(&Flaky), feed_config: FeedConfig) -> (Arc<Flaky>, Follower, Keypair, Pubkey) {
    let (inner, authority, market) = market_chain().await;
    let chain = Flaky::new(inner);
    fault(&chain);
    let start = chain.latest_cursor().await.unwrap();
    let mut feed = Follower::start(chain.clone(), start, feed_config);
    feed.expect_rescan().await;
    (chain, feed, authority, market)
}

#[tokio::test(start_paused = true)]
async fn the_slow_poll_catches_what_a_lost_wakeup_missed() {
    let (chain, mut feed, authority, market) =
        flaky_feed(|chain| chain.silent_wakeups.store(true, Ordering::SeqCst), config(30, 3_600)).await;
    let sent = pause(&*chain, &authority, &market, true).await;
    let started = Instant::now();
    assert!(feed.item(Duration::from_secs(25)).await.is_none(), "no wake-up, no poll yet: nothing");
    let events = feed.events(1).await;
    assert_eq!(events[0].signature, sent);
    assert!(started.elapsed() >= Duration::from_secs(25), "found by the 30 s poll: {:?}", started.elapsed());
    feed.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_dropped_wakeup_stream_is_a_retryable_error_and_the_feed_resubscribes() {
    let (chain, mut feed, authority, market) =
        flaky_feed(|chain| chain.drop_next_wakeups.store(true, Ordering::SeqCst), config(3_600, 3_600)).await;
    match feed.item(Duration::from_secs(5)).await {
        Some(Err(err @ ChainError::WebsocketClosed { .. })) => {
            assert!(err.is_retryable());
            assert!(err.to_string().contains("dropped by the test"), "{err}");
        }
        other => panic!("expected the drop to be reported, got {other:?}"),
    }
    // Let the feed resubscribe (its first backoff is at most 1 s), then it
    // is woken as usual: the poll is an hour away.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = pause(&*chain, &authority, &market, true).await;
    assert_eq!(feed.events(1).await[0].signature, sent);
    feed.stop().await;
}

#[tokio::test(start_paused = true)]
async fn failed_catch_ups_are_reported_and_retried_with_backoff() {
    let (inner, authority, market) = market_chain().await;
    let chain = Flaky::new(inner);
    let start = chain.latest_cursor().await.unwrap();
    let sent = pause(&*chain, &authority, &market, true).await;
    chain.failing_catch_ups.store(3, Ordering::SeqCst);
    let mut feed = Follower::start(chain.clone(), start, config(3_600, 3_600));
    feed.expect_rescan().await;
    let started = Instant::now();
    for _ in 0..3 {
        match feed.item(Duration::from_secs(60)).await {
            Some(Err(err)) => assert!(err.is_retryable(), "{err}"),
            other => panic!("expected a retryable error, got {other:?}"),
        }
    }
    assert_eq!(feed.events(1).await[0].signature, sent, "caught up once the chain answered");
    // Waits of [0.5, 1] + [1, 2] + [2, 4] s between the four tries.
    assert!(started.elapsed() >= Duration::from_millis(3_500), "{:?}", started.elapsed());
    feed.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_rescan_comes_first_and_then_every_interval() {
    let (inner, _authority, _market) = market_chain().await;
    let start = inner.latest_cursor().await.unwrap();
    let mut feed = Follower::start(Arc::new(inner), start, config(3_600, 60));
    let started = Instant::now();
    feed.expect_rescan().await;
    assert!(feed.item(Duration::from_secs(55)).await.is_none());
    feed.expect_rescan().await;
    assert!(started.elapsed() >= Duration::from_secs(60), "{:?}", started.elapsed());
    feed.stop().await;
}

#[tokio::test]
async fn a_long_gap_comes_back_in_pages_in_order() {
    let (chain, authority, market) = market_chain().await;
    let start = chain.latest_cursor().await.unwrap();
    let mut sent = Vec::new();
    for paused in [true, false, true, false, true] {
        sent.push(pause(&chain, &authority, &market, paused).await);
    }
    let mut config = config(3_600, 3_600);
    config.max_transactions = 2;
    let mut feed = Follower::start(Arc::new(chain), start, config);
    feed.expect_rescan().await;
    let mut pages = Vec::new();
    while pages.iter().map(Vec::len).sum::<usize>() < sent.len() {
        match feed.item(Duration::from_secs(10)).await {
            Some(Ok(FeedItem::Events(page))) => pages.push(page.events.iter().map(|event| event.signature).collect()),
            other => panic!("expected a page, got {other:?}"),
        }
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1]);
    assert_eq!(pages.concat(), sent);
    feed.stop().await;
}
