//! The oracles when things go wrong around them: a provider endpoint that
//! serves the wrong tokens (a liveness fault, like withholding), and an RPC
//! outage (logged, counted, no vote; the work resumes when the node is back).

#[path = "../../worker/tests/common/mod.rs"]
mod common;
mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::routing::get;
use common::*;
use solana_signer::Signer;
use spotcheck::events::{JobExpired, JobSettled};
use spotcheck::state::JobStatus;
use spotcheck_client::chain::Chain;
use spotcheck_tests::jobs::rarely_sampled_params;
use support::*;

/// A server on port 0 that answers every output request with `tokens`.
fn serving(runtime: &tokio::runtime::Runtime, tokens: Vec<u32>) -> String {
    runtime.block_on(async move {
        let app = Router::new().route(
            "/v1/outputs/{hash}",
            get(move || {
                let tokens = tokens.clone();
                async move { axum::Json(serde_json::json!({ "tokens": tokens })) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    })
}

#[test]
fn an_endpoint_serving_other_tokens_is_voted_withheld() {
    let params = rarely_sampled_params();
    let net = Network::new(params, None);
    let world = &net.world;
    let total = world.total_tokens();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The provider's endpoint answers, but not with the committed output.
    world.set_endpoint(&serving(&runtime, vec![1, 2, 3]));
    let oracles = net.start_oracles();
    let job = net.submitted_job(16);
    wait_until("mismatches", WAIT, || metric_sum(&oracles, "fetch_errors{kind=\"wrong_output\"}") >= 3.0);
    assert_eq!(world.job(&job).unwrap().status, JobStatus::Submitted, "no vote before the deadline nears");
    world.chain.advance_slots(params.attestation_deadline_slots - 10);
    wait_until("the expiry", WAIT, || world.job(&job).is_none());
    assert_eq!(world.count_events::<JobExpired>(&job, |e| e.job), 1);
    assert_count(&oracles, "attested_withheld", 2.0);
    assert_eq!(metric_sum(&oracles, "attested_complete"), 0.0, "wrong tokens are never attested");
    assert_eq!(world.total_tokens(), total, "tokens appeared or vanished");
}

#[test]
fn an_rpc_outage_is_counted_votes_nothing_and_the_work_resumes() {
    let params = rarely_sampled_params();
    let net = Network::new(params, None);
    let world = &net.world;
    let total = world.total_tokens();
    let flaky = Arc::new(HookedChain::plain(world.chain.clone()));
    let down = flaky.down.clone();
    let chain: Arc<dyn Chain> = flaky;
    let oracles: Vec<OracleRunning> =
        (0..3).map(|i| start_oracle(net.oracle_config(i), chain.clone()).unwrap()).collect();
    down.store(true, Ordering::SeqCst);
    // The worker (on the healthy chain) submits; the oracles cannot see it.
    let job = net.submitted_job(16);
    wait_until("RPC errors counted", WAIT, || {
        oracles.iter().all(|o| metric(o, "rpc_errors{kind=\"Unreachable\"}") >= 2.0)
    });
    assert_eq!(world.job(&job).unwrap().status, JobStatus::Submitted, "no vote while the node is unreachable");
    assert_eq!(metric_sum(&oracles, "attested_complete") + metric_sum(&oracles, "attested_withheld"), 0.0);
    // The node is back: attested, then settled once the window has passed.
    down.store(false, Ordering::SeqCst);
    wait_until("attestation", WAIT, || world.job(&job).is_some_and(|j| j.status == JobStatus::Attested));
    world.chain.advance_slots(params.challenge_window_slots + 2);
    wait_until("settlement", WAIT, || world.job(&job).is_none());
    assert_eq!(world.count_events::<JobSettled>(&job, |e| e.job), 1);
    let paid = world.balance(&world.payout) + world.balance(&world.associated(&world.stake_wallet.pubkey()));
    assert!(paid > 0);
    assert_eq!(world.total_tokens(), total, "tokens appeared or vanished");
}
