//! Catch-up over RPC from the program's signature history:
//! `getSignaturesForAddress` lists the program's transactions newer than
//! the cursor (newest first, a page at a time), `getTransaction` gives each
//! one's real status and logs. The status decides: a failed transaction
//! changed nothing, so its events are dropped (Surfpool's logs
//! notifications report no error even for failed transactions).

use futures_util::future::join_all;
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_rpc_client_api::response::RpcConfirmedTransactionStatusWithSignature;
use solana_signature::Signature;
use solana_transaction_status_client_types::UiTransactionEncoding;
use solana_transaction_status_client_types::option_serializer::OptionSerializer;

use super::{ChainError, EventCursor, EventPage, ProgramEvent, RpcChain};

/// Signatures per `getSignaturesForAddress` page (the method's maximum).
const PAGE: usize = 1_000;
/// `getTransaction` calls in flight at once during catch-up.
const CONCURRENT_FETCHES: usize = 8;

pub(crate) async fn latest_cursor(chain: &RpcChain) -> Result<Option<EventCursor>, ChainError> {
    let newest = signatures(chain, None, None, 1).await?;
    newest.first().map(|entry| cursor_of(chain, entry)).transpose()
}

pub(crate) async fn events_after(
    chain: &RpcChain,
    cursor: Option<&EventCursor>,
    max_transactions: usize,
) -> Result<EventPage, ChainError> {
    let until = cursor.map(|cursor| cursor.signature);
    let mut newest_first: Vec<RpcConfirmedTransactionStatusWithSignature> = Vec::new();
    let mut before = None;
    loop {
        let page = signatures(chain, before, until, PAGE).await?;
        let full = page.len() == PAGE;
        before = match page.last() {
            Some(entry) => Some(parse_signature(chain, &entry.signature)?),
            None => None,
        };
        newest_first.extend(page);
        if !full || before.is_none() {
            break;
        }
    }
    if newest_first.is_empty() {
        return Ok(EventPage { cursor: cursor.copied(), ..EventPage::default() });
    }
    if let Some(cursor) = cursor {
        // `until` stops at the cursor only if the node knows it; otherwise
        // the listing ran to the start of its history, and the events
        // between the cursor and that start are lost to this node.
        let asked = [cursor.signature];
        let known =
            chain.call("getSignatureStatuses", || chain.rpc.get_signature_statuses_with_history(&asked)).await?.value;
        if known.first().is_none_or(Option::is_none) {
            return Err(ChainError::CursorNotFound {
                cluster: chain.config.cluster.to_string(),
                cursor: cursor.to_string(),
            });
        }
    }

    newest_first.reverse();
    let oldest_first = newest_first;
    let more = oldest_first.len() > max_transactions;
    let batch = &oldest_first[..oldest_first.len().min(max_transactions.max(1))];
    let mut page = EventPage { more, ..EventPage::default() };
    for chunk in batch.chunks(CONCURRENT_FETCHES) {
        let fetched = join_all(chunk.iter().map(|entry| transaction_events(chain, entry))).await;
        for result in fetched {
            let (events, truncated) = result?;
            page.events.extend(events);
            page.logs_truncated |= truncated;
        }
    }
    page.cursor = batch.last().map(|entry| cursor_of(chain, entry)).transpose()?;
    Ok(page)
}

/// The logs of one transaction, as the node keeps them.
pub(crate) async fn transaction_logs(chain: &RpcChain, signature: &Signature) -> Result<Vec<String>, ChainError> {
    let transaction = chain
        .call("getTransaction", || chain.rpc.get_transaction_with_config(signature, transaction_config(chain)))
        .await?;
    Ok(match transaction.transaction.meta.map(|meta| meta.log_messages) {
        Some(OptionSerializer::Some(logs)) => logs,
        _ => Vec::new(),
    })
}

/// The events of one listed transaction (none if it failed), and whether
/// its logs were cut short or missing.
async fn transaction_events(
    chain: &RpcChain,
    entry: &RpcConfirmedTransactionStatusWithSignature,
) -> Result<(Vec<ProgramEvent>, bool), ChainError> {
    if entry.err.is_some() {
        return Ok((Vec::new(), false));
    }
    let signature = parse_signature(chain, &entry.signature)?;
    let transaction = chain
        .call("getTransaction", || chain.rpc.get_transaction_with_config(&signature, transaction_config(chain)))
        .await?;
    let Some(meta) = transaction.transaction.meta else {
        // No status meta: nothing says it succeeded, nothing says what it did.
        return Ok((Vec::new(), true));
    };
    if meta.err.is_some() {
        return Ok((Vec::new(), false));
    }
    let OptionSerializer::Some(logs) = meta.log_messages else {
        return Ok((Vec::new(), true));
    };
    let found = crate::events::program_data(&logs, &chain.config.program_id);
    let events = found
        .payloads
        .into_iter()
        .zip(0u32..)
        .map(|(data, index)| ProgramEvent { signature, slot: transaction.slot, index, data })
        .collect();
    Ok((events, found.truncated))
}

fn transaction_config(chain: &RpcChain) -> RpcTransactionConfig {
    RpcTransactionConfig {
        // Only the status meta is read; base64 is the cheapest to encode.
        encoding: Some(UiTransactionEncoding::Base64),
        commitment: Some(chain.config.commitment),
        max_supported_transaction_version: Some(0),
    }
}

async fn signatures(
    chain: &RpcChain,
    before: Option<Signature>,
    until: Option<Signature>,
    limit: usize,
) -> Result<Vec<RpcConfirmedTransactionStatusWithSignature>, ChainError> {
    chain
        .call("getSignaturesForAddress", || {
            let config = GetConfirmedSignaturesForAddress2Config {
                before,
                until,
                limit: Some(limit),
                commitment: Some(chain.config.commitment),
            };
            chain.rpc.get_signatures_for_address_with_config(&chain.config.program_id, config)
        })
        .await
}

fn cursor_of(chain: &RpcChain, entry: &RpcConfirmedTransactionStatusWithSignature) -> Result<EventCursor, ChainError> {
    Ok(EventCursor { slot: entry.slot, signature: parse_signature(chain, &entry.signature)? })
}

fn parse_signature(chain: &RpcChain, text: &str) -> Result<Signature, ChainError> {
    text.parse().map_err(|_| ChainError::BadResponse {
        url: chain.config.cluster.rpc_url.clone(),
        request: "getSignaturesForAddress".into(),
        reason: format!("`{text}` is not a signature"),
    })
}
