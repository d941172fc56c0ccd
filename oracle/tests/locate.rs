//! Locating where a provider's committed trace first differs from the one
//! re-execution computed, against a provider server that serves proofs of
//! a trace of our making: the divergent leaf found by bisection in a
//! logarithmic number of requests, each leaf proved against the root; a
//! trace that agrees, one of another shape, proofs that do not verify, and
//! no proofs at all, each said as such.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde_json::{Value, json};
use spotcheck_engine::Trace;
use spotcheck_engine::commit::hex;
use spotcheck_oracle::FetchConfig;
use spotcheck_oracle::fetch::Fetcher;
use spotcheck_oracle::locate::locate;

const LAYERS: u32 = 2;
const POSITIONS: u32 = 60;

fn leaf(i: usize, salt: u8) -> [u8; 32] {
    let mut h = [salt; 32];
    h[..8].copy_from_slice(&(i as u64).to_le_bytes());
    h
}

/// Our trace, and the provider's: ours with every leaf from `diverge_at` on changed.
fn traces(diverge_at: usize) -> (Trace, Trace) {
    let n = (POSITIONS * LAYERS) as usize;
    let ours = Trace { layers: LAYERS, leaves: (0..n).map(|i| leaf(i, 0)).collect() };
    let theirs =
        Trace { layers: LAYERS, leaves: (0..n).map(|i| leaf(i, if i >= diverge_at { 1 } else { 0 })).collect() };
    (ours, theirs)
}

#[derive(Clone)]
struct Served {
    trace: Arc<Trace>,
    requests: Arc<AtomicUsize>,
}

async fn proof(
    State(served): State<Served>,
    Path((_, position, layer)): Path<(String, u32, u32)>,
) -> (axum::http::StatusCode, axum::Json<Value>) {
    served.requests.fetch_add(1, Ordering::SeqCst);
    match (served.trace.leaf(position, layer), served.trace.prove(position, layer)) {
        (Some(leaf), Some(proof)) => (
            axum::http::StatusCode::OK,
            axum::Json(json!({
                "leaf": hex(leaf),
                "index": proof.index,
                "leaf_count": proof.leaf_count,
                "siblings": proof.siblings.iter().map(|s| hex(s)).collect::<Vec<_>>(),
            })),
        ),
        _ => (axum::http::StatusCode::NOT_FOUND, axum::Json(json!({ "error": "no such leaf" }))),
    }
}

/// A provider serving proofs of `trace`; returns its endpoint and request counter.
async fn provider(trace: Trace) -> (String, Arc<AtomicUsize>) {
    let requests = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/v1/outputs/{hash}/proof/{position}/{layer}", get(proof))
        .with_state(Served { trace: Arc::new(trace), requests: requests.clone() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), requests)
}

fn fetcher() -> Fetcher {
    Fetcher::new(FetchConfig::default()).unwrap()
}

#[tokio::test]
async fn bisection_finds_the_first_divergent_leaf_with_proofs() {
    for diverge_at in [1, 37, 64, 119] {
        let (ours, theirs) = traces(diverge_at);
        let root = theirs.root();
        let (endpoint, requests) = provider(theirs).await;
        let found = locate(&fetcher(), &endpoint, &[0; 32], &root, &ours).await;
        let first = &found["first_divergent"];
        let last = &found["last_agreeing"];
        assert_eq!(first["index"].as_u64(), Some(diverge_at as u64), "{found}");
        assert_eq!(last["index"].as_u64(), Some(diverge_at as u64 - 1), "{found}");
        assert_eq!(
            (first["position"].as_u64(), first["layer"].as_u64()),
            (Some(diverge_at as u64 / 2), Some(diverge_at as u64 % 2))
        );
        assert_ne!(first["leaf"], first["ours"]);
        assert_eq!(last["leaf"], last["ours"]);
        // First, last, then at most ⌈log2 120⌉ = 7 halvings.
        assert!(requests.load(Ordering::SeqCst) <= 9, "{} requests", requests.load(Ordering::SeqCst));
    }
}

#[tokio::test]
async fn agreement_divergence_at_the_start_and_another_shape_are_each_said() {
    let (ours, same) = traces(usize::MAX);
    let root = same.root();
    let (endpoint, _) = provider(same).await;
    let found = locate(&fetcher(), &endpoint, &[0; 32], &root, &ours).await;
    assert!(found["matches"].is_string(), "{found}");

    let (ours, theirs) = traces(0);
    let root = theirs.root();
    let (endpoint, _) = provider(theirs).await;
    let found = locate(&fetcher(), &endpoint, &[0; 32], &root, &ours).await;
    assert_eq!(found["first_divergent"]["index"].as_u64(), Some(0), "{found}");
    assert!(found["last_agreeing"].is_null());

    // One layer instead of two: another model's trace.
    let other = Trace { layers: 1, leaves: (0..POSITIONS as usize).map(|i| leaf(i, 3)).collect() };
    let root = other.root();
    let (endpoint, _) = provider(other).await;
    let found = locate(&fetcher(), &endpoint, &[0; 32], &root, &ours).await;
    assert!(found["shape"].as_str().unwrap().contains("60 trace leaves"), "{found}");
    assert_eq!(found["first_divergent"]["index"].as_u64(), Some(0), "{found}");
}

#[tokio::test]
async fn proofs_that_do_not_verify_or_are_not_served_prove_nothing() {
    let (ours, theirs) = traces(10);
    let (endpoint, _) = provider(theirs).await;
    // Proofs of a trace other than the committed one.
    let found = locate(&fetcher(), &endpoint, &[0; 32], &[9; 32], &ours).await;
    assert!(found["unavailable"].as_str().unwrap().contains("does not verify"), "{found}");
    // Nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let found = locate(&fetcher(), &format!("http://{closed}"), &[0; 32], &[9; 32], &ours).await;
    assert!(found["unavailable"].as_str().unwrap().contains("serves no proof"), "{found}");
}
