//! The tasks every daemon runs beside its crank loop: its HTTP server and
//! the event feed (in a task of its own, so a slow catch-up never holds up
//! the cranks), both stopped by one token; and where a first start follows
//! the chain from.

use std::net::SocketAddr;
use std::sync::Arc;

use spotcheck_client::chain::{Backoff, Chain, ChainError, EventCursor, EventFeed, FeedConfig, FeedItem};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, warn};

/// Binds `addr` (port 0: any free port); the error is the reason.
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), String> {
    let listener = TcpListener::bind(addr).await.map_err(|err| err.to_string())?;
    let local = listener.local_addr().map_err(|err| err.to_string())?;
    Ok((listener, local))
}

/// Serves `app` on `listener` until `stop`; `what` names it in the log if it fails.
pub fn serve(
    tracker: &TaskTracker,
    listener: TcpListener,
    app: axum::Router,
    stop: CancellationToken,
    what: &'static str,
) {
    tracker.spawn(async move {
        if let Err(err) = axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned()).await {
            error!("the {what} stopped: {err}");
        }
    });
}

/// Follows the program's events from `cursor` in a task until `stop`.
pub fn follow(
    tracker: &TaskTracker,
    chain: Arc<dyn Chain>,
    cursor: Option<EventCursor>,
    config: FeedConfig,
    stop: CancellationToken,
) -> mpsc::Receiver<Result<FeedItem, ChainError>> {
    let (items, received) = mpsc::channel(16);
    let mut feed = EventFeed::new(chain, cursor, config);
    tracker.spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                item = feed.next() => if items.send(item).await.is_err() { break },
            }
        }
    });
    received
}

/// Where the event feed starts: the daemon's `saved` cursor, or on a first
/// start the newest transaction now (the daemon reads the state before it
/// anyway). A node that is down is waited for with backoff (each failure
/// passed to `failed`), not a reason to exit; `Ok(None)`: `shutdown` came first.
pub async fn start_cursor(
    saved: Option<EventCursor>,
    chain: &dyn Chain,
    shutdown: &CancellationToken,
    failed: impl Fn(&ChainError),
) -> Result<Option<Option<EventCursor>>, ChainError> {
    if saved.is_some() {
        return Ok(Some(saved));
    }
    let backoff = Backoff::default();
    let mut retry = 0;
    loop {
        match chain.latest_cursor().await {
            Ok(cursor) => return Ok(Some(cursor)),
            Err(err) if err.is_retryable() => {
                failed(&err);
                warn!("reading the newest transaction to follow from: {err}");
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(None),
                    () = tokio::time::sleep(backoff.delay(retry)) => {}
                }
                retry = retry.saturating_add(1);
            }
            Err(err) => return Err(err),
        }
    }
}
