//! The output server: the provider's on-chain endpoint. Oracles fetch a
//! result's tokens here to attest it is complete; verifiers fetch it to
//! check it; a dispute fetches the inclusion proof of one trace leaf.
//!
//! - `GET /v1/outputs/<output hash>`: tokens, text and commitments (JSON)
//! - `GET /v1/outputs/<output hash>/proof/<position>/<layer>`: a trace leaf and its Merkle path
//! - `GET /healthz`, `GET /metrics` (Prometheus text)
//!
//! Errors are JSON `{"error": ...}`: 400 for a malformed hash or number, 404
//! for an output this worker does not serve.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use spotcheck_engine::commit::{Trace, hex};
use spotcheck_service::http::error;

use crate::metrics::Metrics;
use crate::store::{Store, parse_hash};

#[derive(Clone)]
pub struct HttpState {
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    /// The withhold cheat: commit, never serve.
    pub withhold: bool,
    pub device: String,
    pub provider: String,
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/v1/outputs/{hash}", get(output))
        .route("/v1/outputs/{hash}/proof/{position}/{layer}", get(proof))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route: see /v1/outputs/<output hash>") })
        .with_state(state)
}

/// The stored output, or the status and message to answer with.
fn find(state: &HttpState, hash: &str) -> Result<crate::store::StoredOutput, (StatusCode, String)> {
    let Some(output_hash) = parse_hash(hash) else {
        return Err((StatusCode::BAD_REQUEST, format!("`{hash}` is not an output hash (64 hex digits)")));
    };
    let not_found = || (StatusCode::NOT_FOUND, format!("no output {hash} is served here"));
    if state.withhold {
        return Err(not_found());
    }
    match state.store.output(&output_hash) {
        Ok(Some(output)) => Ok(output),
        Ok(None) => Err(not_found()),
        Err(err) => {
            state.metrics.store_errors.inc();
            Err((StatusCode::SERVICE_UNAVAILABLE, format!("{err}; retrying can help")))
        }
    }
}

async fn output(State(state): State<HttpState>, Path(hash): Path<String>) -> Response {
    match find(&state, &hash) {
        Ok(output) => axum::Json(json!({
            "output_hash": hex(&output.output_hash),
            "job": output.job.to_string(),
            "model_id": hex(&output.model_id),
            "token_count": output.tokens.len(),
            "tokens": output.tokens,
            "text": output.text,
            "trace_root": hex(&output.trace_root),
        }))
        .into_response(),
        Err((status, message)) => error(status, message),
    }
}

async fn proof(
    State(state): State<HttpState>,
    Path((hash, position, layer)): Path<(String, String, String)>,
) -> Response {
    let (Ok(position), Ok(layer)) = (position.parse::<u32>(), layer.parse::<u32>()) else {
        return error(StatusCode::BAD_REQUEST, "position and layer must be non-negative integers");
    };
    let output = match find(&state, &hash) {
        Ok(output) => output,
        Err((status, message)) => return error(status, message),
    };
    let trace = Trace { layers: output.trace_layers, leaves: output.trace_leaves };
    match (trace.leaf(position, layer), trace.prove(position, layer)) {
        (Some(leaf), Some(proof)) => axum::Json(json!({
            "position": position,
            "layer": layer,
            "leaf": hex(leaf),
            "index": proof.index,
            "leaf_count": proof.leaf_count,
            "siblings": proof.siblings.iter().map(|s| hex(s)).collect::<Vec<_>>(),
            "trace_root": hex(&output.trace_root),
        }))
        .into_response(),
        _ => error(
            StatusCode::NOT_FOUND,
            format!(
                "the trace has {} positions × {} layers; no leaf ({position}, {layer})",
                trace.positions(),
                trace.layers
            ),
        ),
    }
}

async fn healthz(State(state): State<HttpState>) -> Response {
    axum::Json(json!({ "status": "ok", "provider": state.provider, "device": state.device })).into_response()
}

async fn metrics(State(state): State<HttpState>) -> Response {
    spotcheck_service::http::metrics(state.metrics.encode())
}
