//! JSON-RPC over HTTP for `RpcClient`, and the mapping of its errors to
//! [`ChainError`].
//!
//! solana-rpc-client's own `HttpSender` answers HTTP 429 by sleeping a fixed
//! 500 ms (no jitter) up to five times inside every call, under the caller's
//! backoff; this sender posts once and reports a 429 with the node's
//! `Retry-After`, so one policy ([`super::Backoff`]) decides when to retry.
//! The rest follows `HttpSender` (same request and error-object handling).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde_json::Value;
use solana_rpc_client::rpc_sender::{RpcSender, RpcTransportStats};
use solana_rpc_client_api::client_error::{AnyhowError, Error as ClientError, ErrorKind};
use solana_rpc_client_api::custom_error;
use solana_rpc_client_api::error_object::RpcErrorObject;
use solana_rpc_client_api::request::{RpcError, RpcRequest, RpcResponseErrorData};
use solana_rpc_client_api::response::RpcSimulateTransactionResult;

use super::{ChainError, Refusal};

/// A 429, carried through `RpcClient`'s error type to `classify`.
#[derive(Debug, thiserror::Error)]
#[error("HTTP 429 Too Many Requests")]
struct RateLimitedByNode {
    retry_after: Option<Duration>,
}

pub(crate) struct HttpTransport {
    client: reqwest::Client,
    url: String,
    next_id: AtomicU64,
}

impl HttpTransport {
    pub(crate) fn new(url: &str, timeout: Duration) -> Result<Self, ChainError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(timeout)
            .build()
            .map_err(|err| ChainError::InvalidInput(format!("cannot set up an HTTP client for {url}: {err}")))?;
        Ok(HttpTransport { client, url: url.to_string(), next_id: AtomicU64::new(0) })
    }
}

#[async_trait]
impl RpcSender for HttpTransport {
    async fn send(&self, request: RpcRequest, params: Value) -> Result<Value, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = request.build_request_json(id, params).to_string();
        let response = self.client.post(&self.url).header(CONTENT_TYPE, "application/json").body(body).send().await?;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let limited = RateLimitedByNode { retry_after };
            return Err(ErrorKind::Middleware(AnyhowError::new(limited)).into());
        }
        let response = response.error_for_status()?;
        let mut json: Value = response.json().await?;
        if !json.is_object() {
            return Err(RpcError::RpcRequestError(format!("RPC response is not a JSON object: {json}")).into());
        }
        if json["error"].is_object() {
            let object: RpcErrorObject = serde_json::from_value(json["error"].clone()).map_err(|err| {
                RpcError::RpcRequestError(format!("cannot read the RPC error object {}: {err}", json["error"]))
            })?;
            let data = match object.code {
                custom_error::JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE => {
                    serde_json::from_value::<RpcSimulateTransactionResult>(json["error"]["data"].clone())
                        .map(RpcResponseErrorData::SendTransactionPreflightFailure)
                        .unwrap_or(RpcResponseErrorData::Empty)
                }
                custom_error::JSON_RPC_SERVER_ERROR_NODE_UNHEALTHY => {
                    serde_json::from_value::<custom_error::NodeUnhealthyErrorData>(json["error"]["data"].clone())
                        .map(|data| RpcResponseErrorData::NodeUnhealthy { num_slots_behind: data.num_slots_behind })
                        .unwrap_or(RpcResponseErrorData::Empty)
                }
                _ => RpcResponseErrorData::Empty,
            };
            return Err(RpcError::RpcResponseError { code: object.code, message: object.message, data }.into());
        }
        Ok(json["result"].take())
    }

    fn get_transport_stats(&self) -> RpcTransportStats {
        RpcTransportStats::default()
    }

    fn url(&self) -> String {
        self.url.clone()
    }
}

/// JSON-RPC server errors that say "not now" rather than "never".
const RETRYABLE_SERVER_ERRORS: [i64; 6] = [
    custom_error::JSON_RPC_SERVER_ERROR_NODE_UNHEALTHY,
    custom_error::JSON_RPC_SERVER_ERROR_BLOCK_NOT_AVAILABLE,
    custom_error::JSON_RPC_SERVER_ERROR_BLOCK_STATUS_NOT_AVAILABLE_YET,
    custom_error::JSON_RPC_SERVER_ERROR_MIN_CONTEXT_SLOT_NOT_REACHED,
    custom_error::JSON_RPC_SERVER_ERROR_LONG_TERM_STORAGE_UNREACHABLE,
    custom_error::JSON_RPC_SERVER_ERROR_TRANSACTION_HISTORY_NOT_AVAILABLE,
];

/// What an `RpcClient` error means for the caller: retryable (the node or
/// the network) or not (the request itself).
pub(crate) fn classify(url: &str, request: &str, timeout: Duration, err: ClientError) -> ChainError {
    let url = url.to_string();
    let request = request.to_string();
    match *err.kind {
        ErrorKind::Middleware(inner) => match inner.downcast_ref::<RateLimitedByNode>() {
            Some(limited) => ChainError::RateLimited { url, retry_after: limited.retry_after },
            None => ChainError::Unreachable { url, reason: inner.to_string() },
        },
        ErrorKind::Reqwest(inner) => {
            if inner.is_timeout() {
                ChainError::Timeout { url, request, after: timeout }
            } else if inner.is_connect() {
                ChainError::Unreachable { url, reason: describe(&inner) }
            } else if let Some(status) = inner.status() {
                if status.is_server_error() {
                    ChainError::NodeUnhealthy { url, reason: format!("HTTP {status}") }
                } else {
                    ChainError::Rpc {
                        url,
                        request,
                        code: i64::from(status.as_u16()),
                        message: format!("HTTP {status}"),
                    }
                }
            } else if inner.is_decode() {
                ChainError::BadResponse { url, request, reason: describe(&inner) }
            } else {
                // Reset connections, broken bodies: the network, not the request.
                ChainError::Unreachable { url, reason: describe(&inner) }
            }
        }
        ErrorKind::Io(inner) => ChainError::Unreachable { url, reason: inner.to_string() },
        ErrorKind::RpcError(RpcError::RpcResponseError { code, message, data }) => match data {
            RpcResponseErrorData::SendTransactionPreflightFailure(result) => match result.err {
                Some(tx_err) => {
                    ChainError::Refused(Box::new(Refusal::new(tx_err.into(), result.logs.unwrap_or_default(), 0)))
                }
                None => ChainError::Rpc { url, request, code, message },
            },
            RpcResponseErrorData::NodeUnhealthy { num_slots_behind } => ChainError::NodeUnhealthy {
                url,
                reason: match num_slots_behind {
                    Some(slots) => format!("{message}: {slots} slots behind"),
                    None => message,
                },
            },
            RpcResponseErrorData::Empty if RETRYABLE_SERVER_ERRORS.contains(&code) => {
                ChainError::NodeUnhealthy { url, reason: format!("{message} ({code})") }
            }
            RpcResponseErrorData::Empty => ChainError::Rpc { url, request, code, message },
        },
        ErrorKind::RpcError(other) => ChainError::BadResponse { url, request, reason: other.to_string() },
        ErrorKind::SerdeJson(inner) => ChainError::BadResponse { url, request, reason: inner.to_string() },
        ErrorKind::TransactionError(tx_err) => ChainError::Refused(Box::new(Refusal::new(tx_err, Vec::new(), 0))),
        ErrorKind::SigningError(inner) => ChainError::InvalidInput(format!("signing failed: {inner}")),
        ErrorKind::Custom(message) => ChainError::Rpc { url, request, code: 0, message },
    }
}

/// reqwest's Display stops at "error sending request"; the cause (refused,
/// reset, DNS) is in the source chain.
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
