//! The oracle's server: the evidence behind its verdicts, so anyone can
//! check one, and the outputs it attested, so a client can still read an
//! answer when its provider has vanished.
//!
//! - `GET /v1/evidence/<job address>`: the verdict, its evidence hash, the
//!   job protocol's evidence record (hex; its SHA-256 is the hash posted
//!   on-chain) and its readable form (the first divergence, the commitments)
//! - `GET /v1/outputs/<output hash>`: an attested output, in the worker's format
//! - `GET /healthz`, `GET /metrics` (Prometheus text)
//!
//! Errors are JSON `{"error": ...}`: 400 for a malformed key, 404 for what
//! this oracle does not hold, 503 when its database cannot be read.

use std::str::FromStr;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use spotcheck_engine::commit::hex;
use spotcheck_service::http::error;

use crate::metrics::Metrics;
use crate::store::{Store, parse_hash};

#[derive(Clone)]
pub struct HttpState {
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    pub oracle: String,
    pub device: String,
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/v1/evidence/{job}", get(evidence))
        .route("/v1/outputs/{hash}", get(output))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            error(StatusCode::NOT_FOUND, "no such route: see /v1/evidence/<job> and /v1/outputs/<output hash>")
        })
        .with_state(state)
}

fn unavailable(state: &HttpState, err: crate::OracleError) -> Response {
    state.metrics.store_errors.inc();
    error(StatusCode::SERVICE_UNAVAILABLE, format!("{err}; retrying can help"))
}

async fn evidence(State(state): State<HttpState>, Path(job): Path<String>) -> Response {
    let Ok(address) = Pubkey::from_str(&job) else {
        return error(StatusCode::BAD_REQUEST, format!("`{job}` is not a job address (base-58)"));
    };
    match state.store.evidence(&address) {
        Ok(Some(evidence)) => {
            let detail: serde_json::Value = serde_json::from_str(&evidence.detail).unwrap_or(serde_json::Value::Null);
            axum::Json(json!({
                "job": job,
                "verdict": if evidence.pass { "pass" } else { "fail" },
                "evidence_hash": hex(&evidence.evidence_hash),
                "record": hex(&evidence.record),
                "detail": detail,
                "oracle": state.oracle,
            }))
            .into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, format!("this oracle has no verdict on job {job}")),
        Err(err) => unavailable(&state, err),
    }
}

async fn output(State(state): State<HttpState>, Path(hash): Path<String>) -> Response {
    let Some(output_hash) = parse_hash(&hash) else {
        return error(StatusCode::BAD_REQUEST, format!("`{hash}` is not an output hash (64 hex digits)"));
    };
    match state.store.output(&output_hash) {
        Ok(Some(output)) => axum::Json(json!({
            "output_hash": hex(&output.output_hash),
            "job": output.job.to_string(),
            "model_id": hex(&output.model_id),
            "token_count": output.tokens.len(),
            "tokens": output.tokens,
            "text": output.text,
            "trace_root": hex(&output.trace_root),
        }))
        .into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no output {hash} is mirrored here")),
        Err(err) => unavailable(&state, err),
    }
}

async fn healthz(State(state): State<HttpState>) -> Response {
    axum::Json(json!({ "status": "ok", "oracle": state.oracle, "device": state.device })).into_response()
}

async fn metrics(State(state): State<HttpState>) -> Response {
    spotcheck_service::http::metrics(state.metrics.encode())
}
