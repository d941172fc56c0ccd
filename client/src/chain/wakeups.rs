//! Wake-ups: "a transaction of the program may have landed, look again".
//! Over RPC they come from `logsSubscribe` (mentions of the program); on the
//! embedded chain from each transaction it executes. They carry nothing to
//! act on: catch-up reads the transactions, with their real status (a
//! Surfpool logs notification reports no error even for a failed one).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use futures_util::StreamExt;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcTransactionLogsConfig, RpcTransactionLogsFilter};
use tokio::sync::mpsc;

use super::ChainError;

/// The receiving end. `next` returns `None` once the source is gone (a
/// dropped websocket); `closed_reason` then says why.
pub struct Wakeups {
    receiver: mpsc::Receiver<()>,
    reason: Arc<Mutex<Option<String>>>,
}

/// The sending end, for a chain implementation.
#[derive(Clone)]
pub struct WakeupSender {
    sender: mpsc::Sender<()>,
    reason: Arc<Mutex<Option<String>>>,
}

impl Wakeups {
    pub fn channel() -> (WakeupSender, Wakeups) {
        // One slot: wake-ups coalesce, a pending one already means "look again".
        let (sender, receiver) = mpsc::channel(1);
        let reason = Arc::new(Mutex::new(None));
        (WakeupSender { sender, reason: reason.clone() }, Wakeups { receiver, reason })
    }

    pub async fn next(&mut self) -> Option<()> {
        self.receiver.recv().await
    }

    /// Why the source ended, once `next` returned `None`.
    pub fn closed_reason(&self) -> String {
        lock(&self.reason).clone().unwrap_or_else(|| "the connection closed".to_string())
    }
}

impl WakeupSender {
    /// Signals; false once the `Wakeups` is dropped (stop sending then).
    pub fn wake(&self) -> bool {
        match self.sender.try_send(()) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(())) => true,
            Err(mpsc::error::TrySendError::Closed(())) => false,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Ends the wake-ups, saying why.
    pub fn close(self, reason: String) {
        *lock(&self.reason) = Some(reason);
    }
}

fn lock(reason: &Mutex<Option<String>>) -> std::sync::MutexGuard<'_, Option<String>> {
    // A panic elsewhere while holding this lock cannot leave a half-written
    // `Option<String>`; carry on with it.
    reason.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Subscribes to the logs of transactions mentioning `program_id` and turns
/// each notification into a wake-up, on a task that ends when the websocket
/// drops or the `Wakeups` is dropped.
pub(crate) async fn subscribe_logs(
    ws_url: &str,
    program_id: Pubkey,
    commitment: CommitmentConfig,
    timeout: Duration,
) -> Result<Wakeups, ChainError> {
    let unreachable = |reason: String| ChainError::Unreachable { url: ws_url.to_string(), reason };
    let client = tokio::time::timeout(timeout, PubsubClient::new(ws_url))
        .await
        .map_err(|_| ChainError::Timeout {
            url: ws_url.to_string(),
            request: "websocket connect".into(),
            after: timeout,
        })?
        .map_err(|err| unreachable(format!("websocket: {err}")))?;
    let (sender, wakeups) = Wakeups::channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let filter = RpcTransactionLogsFilter::Mentions(vec![program_id.to_string()]);
        let config = RpcTransactionLogsConfig { commitment: Some(commitment) };
        let (mut notifications, unsubscribe) = match client.logs_subscribe(filter, config).await {
            Ok(subscription) => subscription,
            Err(err) => {
                let _ = ready_tx.send(Err(format!("logsSubscribe: {err}")));
                return;
            }
        };
        let _ = ready_tx.send(Ok(()));
        let reason = loop {
            tokio::select! {
                () = sender.sender.closed() => break None,
                notification = notifications.next() => match notification {
                    Some(_) => {
                        if !sender.wake() {
                            break None;
                        }
                    }
                    // The client's socket task ended: the node closed the
                    // websocket, or the connection broke.
                    None => break Some("the node closed the websocket, or the connection broke".to_string()),
                },
            }
        };
        drop(notifications);
        if reason.is_none() {
            // Nobody listens any more: tell the node, but never hang on it.
            let _ = tokio::time::timeout(Duration::from_secs(2), unsubscribe()).await;
        }
        // Dropping the client closes the socket; its own `shutdown` unwraps
        // a join handle, which a library should not risk.
        drop(client);
        if let Some(reason) = reason {
            sender.close(reason);
        }
    });
    match tokio::time::timeout(timeout, ready_rx).await {
        Ok(Ok(Ok(()))) => Ok(wakeups),
        Ok(Ok(Err(reason))) => Err(ChainError::WebsocketClosed { url: ws_url.to_string(), reason }),
        Ok(Err(_)) => {
            Err(ChainError::WebsocketClosed { url: ws_url.to_string(), reason: "subscription task ended".into() })
        }
        Err(_) => Err(ChainError::Timeout { url: ws_url.to_string(), request: "logsSubscribe".into(), after: timeout }),
    }
}
