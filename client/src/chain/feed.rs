//! The program's events as one stream, on any [`Chain`]: catch-up from a
//! cursor, woken by the chain's wake-ups, with a slow poll in case a wake-up
//! is lost and a periodic "rescan" in case an event is (a truncated log):
//! chain state is the truth, events only say where to look.
//!
//! A dropped connection is an error item (retryable); the feed goes on
//! polling, reconnects with backoff, and catches up from its cursor, so the
//! caller just keeps calling `next`.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::{Backoff, Chain, ChainError, EventCursor, EventPage, Wakeups};

#[derive(Clone, Copy, Debug)]
pub struct FeedConfig {
    /// Catch up this often even without a wake-up (a lost notification, a
    /// node whose websocket is down).
    pub poll_interval: Duration,
    /// Yield `Rescan` this often: re-read the accounts you act on.
    pub rescan_interval: Duration,
    /// Transactions per catch-up page.
    pub max_transactions: usize,
    /// Waits between reconnects, and between catch-ups that failed (`attempts`
    /// is not used: a feed never gives up on a retryable error).
    pub backoff: Backoff,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            poll_interval: Duration::from_secs(15),
            rescan_interval: Duration::from_secs(300),
            max_transactions: 100,
            backoff: Backoff { first: Duration::from_millis(500), max: Duration::from_secs(30), attempts: u32::MAX },
        }
    }
}

#[derive(Debug)]
pub enum FeedItem {
    /// New events, oldest first. Persist `page.cursor` once they are handled.
    Events(EventPage),
    /// Re-read the program accounts you care about. Comes first (a service
    /// that starts or restarts reads the state before following events) and
    /// then every `rescan_interval`, and whenever a log was truncated.
    Rescan,
}

pub struct EventFeed {
    chain: Arc<dyn Chain>,
    config: FeedConfig,
    cursor: Option<EventCursor>,
    wakeups: Option<Wakeups>,
    /// When to try subscribing again, and how many tries failed in a row.
    resubscribe_at: Instant,
    subscribe_failures: u32,
    /// When a failed catch-up may be tried again, and how many failed in a row.
    catch_up_at: Instant,
    catch_up_failures: u32,
    catch_up_due: bool,
    rescan_due: bool,
    poll: Interval,
    rescan: Interval,
}

impl EventFeed {
    /// Follows the program's events after `cursor` (from the oldest the
    /// chain keeps if `None`; pass `chain.latest_cursor()` to start from now).
    pub fn new(chain: Arc<dyn Chain>, cursor: Option<EventCursor>, config: FeedConfig) -> Self {
        let now = Instant::now();
        let mut poll = tokio::time::interval_at(now + config.poll_interval, config.poll_interval);
        poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut rescan = tokio::time::interval_at(now + config.rescan_interval, config.rescan_interval);
        rescan.set_missed_tick_behavior(MissedTickBehavior::Delay);
        EventFeed {
            chain,
            config,
            cursor,
            wakeups: None,
            resubscribe_at: now,
            subscribe_failures: 0,
            catch_up_at: now,
            catch_up_failures: 0,
            catch_up_due: true,
            rescan_due: true,
            poll,
            rescan,
        }
    }

    /// Where the feed stands: the cursor of the last page it yielded.
    pub fn cursor(&self) -> Option<&EventCursor> {
        self.cursor.as_ref()
    }

    /// Whether wake-ups are connected (otherwise the feed is polling).
    pub fn is_subscribed(&self) -> bool {
        self.wakeups.is_some()
    }

    /// The next item. A retryable error says the chain is unreachable or
    /// the websocket dropped: call `next` again, the feed recovers by itself.
    /// A fatal one (`CursorNotFound`, `ProgramNotDeployed`) it cannot get past.
    pub async fn next(&mut self) -> Result<FeedItem, ChainError> {
        loop {
            if self.rescan_due {
                self.rescan_due = false;
                return Ok(FeedItem::Rescan);
            }
            // Subscribe before catching up, so nothing falls between the two.
            if self.wakeups.is_none() && Instant::now() >= self.resubscribe_at {
                match self.chain.wakeups().await {
                    Ok(wakeups) => {
                        self.wakeups = Some(wakeups);
                        self.subscribe_failures = 0;
                        // Whatever happened while unsubscribed is in the history.
                        self.catch_up_due = true;
                    }
                    Err(err) => {
                        self.resubscribe_at = Instant::now() + self.config.backoff.delay(self.subscribe_failures);
                        self.subscribe_failures = self.subscribe_failures.saturating_add(1);
                        if !err.is_retryable() {
                            return Err(err);
                        }
                        // Without wake-ups the poll still catches up; say so once per outage.
                        if self.subscribe_failures == 1 {
                            return Err(err);
                        }
                    }
                }
            }
            if self.catch_up_due && Instant::now() >= self.catch_up_at {
                match self.chain.events_after(self.cursor.as_ref(), self.config.max_transactions).await {
                    Ok(page) => {
                        self.catch_up_failures = 0;
                        self.catch_up_due = page.more;
                        self.rescan_due |= page.logs_truncated;
                        let changed = page.cursor != self.cursor;
                        self.cursor = page.cursor;
                        if !page.events.is_empty() || page.logs_truncated || changed {
                            return Ok(FeedItem::Events(page));
                        }
                    }
                    Err(err) => {
                        self.catch_up_at = Instant::now() + self.config.backoff.delay(self.catch_up_failures);
                        self.catch_up_failures = self.catch_up_failures.saturating_add(1);
                        return Err(err);
                    }
                }
            }
            self.wait().await?;
        }
    }

    /// Sleeps until something is due: a wake-up, the poll, a rescan, or a
    /// retry of what failed.
    async fn wait(&mut self) -> Result<(), ChainError> {
        let retry_at = match (self.catch_up_due, self.wakeups.is_none()) {
            (true, true) => Some(self.catch_up_at.min(self.resubscribe_at)),
            (true, false) => Some(self.catch_up_at),
            (false, true) => Some(self.resubscribe_at),
            (false, false) => None,
        };
        let (wakeups, poll, rescan) = (&mut self.wakeups, &mut self.poll, &mut self.rescan);
        let woke = tokio::select! {
            woken = async {
                match wakeups.as_mut() {
                    Some(wakeups) => wakeups.next().await,
                    None => std::future::pending().await,
                }
            } => Woke::Wakeup(woken),
            _ = poll.tick() => Woke::Poll,
            _ = rescan.tick() => Woke::Rescan,
            () = async {
                match retry_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => Woke::Retry,
        };
        match woke {
            Woke::Wakeup(Some(())) | Woke::Poll => self.catch_up_due = true,
            Woke::Rescan => self.rescan_due = true,
            Woke::Retry => {}
            Woke::Wakeup(None) => {
                let reason = self.wakeups.take().map(|wakeups| wakeups.closed_reason()).unwrap_or_default();
                self.resubscribe_at = Instant::now() + self.config.backoff.delay(0);
                self.subscribe_failures = 1;
                self.catch_up_due = true;
                return Err(ChainError::WebsocketClosed { url: self.chain.cluster(), reason });
            }
        }
        Ok(())
    }
}

enum Woke {
    Wakeup(Option<()>),
    Poll,
    Rescan,
    Retry,
}
