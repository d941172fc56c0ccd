//! Three oracle daemons (quorum 2) and the worker daemon on the embedded
//! chain with the tiny model: honest work is attested, verified and paid;
//! each cheating mode of the worker is caught when sampled or challenged
//! and the slash split lands where the market says; withheld output is a
//! liveness fault; one oracle offline, lying, or lacking the model changes
//! no outcome. Every test that moves tokens checks their sum.

#[path = "../../worker/tests/common/mod.rs"]
mod common;
mod support;

use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use common::*;
use sha2::{Digest, Sha256};
use solana_signer::Signer;
use spotcheck::events::{JobExpired, JobSettled, JobSlashed, JobVerdictVoted};
use spotcheck::state::{Job, JobStatus, MarketParams, SampleDraw};
use spotcheck_engine::commit::hex;
use spotcheck_oracle::{Round, VoteState};
use spotcheck_tests::jobs::{always_sampled_params, rarely_sampled_params};
use spotcheck_worker::Cheat;
use support::*;

const BUDGET: u32 = 16;

fn share(amount: u64, bps: u16) -> u64 {
    amount * u64::from(bps) / 10_000
}

/// Waits for the job's attestation, lets the challenge window pass, and
/// waits for the job account to close (settled or slashed).
fn run_to_the_end(net: &Network, job: &Pubkey, params: &MarketParams) -> Job {
    let world = &net.world;
    wait_until("attestation", WAIT, || world.job(job).is_some_and(|j| j.status == JobStatus::Attested));
    let attested = world.job(job).unwrap();
    world.chain.advance_slots(params.challenge_window_slots + 2);
    wait_until("the job's end", WAIT, || world.job(job).is_none());
    attested
}

/// What the oracles' evidence servers say of `job`: each one that judged it
/// serves a record whose SHA-256 is the evidence hash it voted.
fn check_evidence(oracles: &[OracleRunning], job: &Pubkey, pass: bool) -> Vec<String> {
    let mut hashes = Vec::new();
    for oracle in oracles {
        let (status, body) = oracle.get(&format!("/v1/evidence/{job}"));
        if status == 404 {
            continue;
        }
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["verdict"], if pass { "pass" } else { "fail" }, "{body}");
        let record = body["record"].as_str().unwrap();
        let bytes: Vec<u8> =
            (0..record.len() / 2).map(|i| u8::from_str_radix(&record[2 * i..2 * i + 2], 16).unwrap()).collect();
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(hex(&digest), body["evidence_hash"].as_str().unwrap(), "the record hashes to the evidence");
        assert_eq!(body["detail"]["divergence"].is_null(), pass, "{body}");
        hashes.push(body["evidence_hash"].as_str().unwrap().to_string());
    }
    hashes
}

#[test]
fn an_honest_job_is_attested_sampled_verified_and_paid() {
    let params = always_sampled_params();
    let net = Network::new(params, None);
    let world = &net.world;
    let total = world.total_tokens();
    let oracles = net.start_oracles();
    let job = net.submitted_job(BUDGET);
    let account = world.job(&job).unwrap();
    let attested = run_to_the_end(&net, &job, &params);
    assert_eq!(attested.sample, SampleDraw::Pending, "the draw is unknown while the window runs");

    // Paid: price minus the fee, to the stake wallet (the worker's payout
    // account or its associated account, whichever settled first).
    let price = PRICE_PER_TOKEN * u64::from(BUDGET);
    let fee = (price * u64::from(params.fee_bps)).div_ceil(10_000);
    let paid = world.balance(&world.payout) + world.balance(&world.associated(&world.stake_wallet.pubkey()));
    assert_eq!(paid, price - fee, "the provider is paid price minus fee");
    assert_eq!(world.count_events::<JobSettled>(&job, |e| e.job), 1);
    assert_eq!(world.total_tokens(), total, "tokens appeared or vanished");

    // A quorum (2) of complete attestations and of pass verdicts landed; the
    // third vote of each round found the round decided and was not cast.
    assert_count(&oracles, "attested_complete", 2.0);
    assert_count(&oracles, "verdicts_pass", 2.0);
    assert_eq!(metric_sum(&oracles, "verdicts_fail") + metric_sum(&oracles, "attested_withheld"), 0.0);
    assert!(metric_sum(&oracles, "sampled") >= 2.0, "the judging oracles saw the draw select the job");

    // Every judging oracle serves the same evidence; the mirrors serve the output.
    let hashes = check_evidence(&oracles, &job, true);
    assert!(hashes.len() >= 2 && hashes.iter().all(|h| *h == hashes[0]), "{hashes:?}");
    let (status, served) = net.worker.get(&format!("/v1/outputs/{}", hex(&account.output_hash)));
    assert_eq!(status, 200);
    let mirrored: Vec<_> =
        oracles.iter().map(|o| o.get(&format!("/v1/outputs/{}", hex(&account.output_hash)))).collect();
    assert!(mirrored.iter().filter(|(status, _)| *status == 200).count() >= 2, "the attesting oracles mirror it");
    for (status, body) in mirrored.iter().filter(|(status, _)| *status == 200) {
        assert_eq!((*status, &body["tokens"]), (200, &served["tokens"]));
    }
    let (status, health) = oracles[0].get("/healthz");
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    for oracle in oracles {
        oracle.stop().unwrap();
    }
}

/// One cheat, always sampled: attested (its commitment is consistent), then
/// re-execution fails it and the slash pays the client where the market says.
fn cheat_is_caught(cheat: Cheat) {
    let params = always_sampled_params();
    let net = Network::new(params, Some(cheat.clone()));
    let world = &net.world;
    let total = world.total_tokens();
    let staked_before =
        world.chain.lock().program_account::<spotcheck::state::Provider>(&world.provider).unwrap().staked;
    let oracles = net.start_oracles();
    let job = net.submitted_job(BUDGET);
    let attested = run_to_the_end(&net, &job, &params);

    let slashed: Vec<JobSlashed> = world
        .chain
        .lock()
        .history()
        .iter()
        .flat_map(|tx| spotcheck_client::events::decode_all::<JobSlashed>(&tx.logs))
        .filter(|e| e.job == job)
        .collect();
    assert_eq!(slashed.len(), 1, "{}: slashed once", cheat.name());
    let e = &slashed[0];
    let split = params.slash_split;
    assert_eq!(e.to_client, share(attested.collateral, split.client_bps), "{}", cheat.name());
    assert_eq!(e.to_challenger, 0, "no challenger");
    assert_eq!(e.to_treasury, attested.collateral - e.to_client);
    assert_eq!(
        world.balance(&world.associated(&world.client.pubkey())),
        attested.price + e.to_client,
        "refund and compensation"
    );
    let staked = world.chain.lock().program_account::<spotcheck::state::Provider>(&world.provider).unwrap().staked;
    assert_eq!(staked_before - staked, attested.collateral, "the whole collateral is slashed");
    assert_eq!(world.total_tokens(), total, "tokens appeared or vanished");
    assert_count(&oracles, "verdicts_fail", 2.0);
    let hashes = check_evidence(&oracles, &job, false);
    assert!(hashes.len() >= 2 && hashes.iter().all(|h| *h == hashes[0]), "{hashes:?}");

    // Where the provider's trace first differs, located after the vote.
    let judged: Vec<&OracleRunning> =
        oracles.iter().filter(|o| o.get(&format!("/v1/evidence/{job}")).0 == 200).collect();
    let mut trace = serde_json::Value::Null;
    wait_until("the located divergence", WAIT, || {
        trace = judged[0].get(&format!("/v1/evidence/{job}")).1["detail"]["trace"].clone();
        !trace.is_null()
    });
    match cheat {
        // Another model's hidden states: they differ from the very first leaf, proved.
        Cheat::SmallerModel(_) => {
            let first = &trace["first_divergent"];
            assert_eq!((first["position"].as_u64(), first["layer"].as_u64()), (Some(0), Some(0)), "{trace}");
            assert!(trace["last_agreeing"].is_null(), "{trace}");
            assert!(trace["shape"].is_string(), "another model, another shape: {trace}");
            let proof = spotcheck_engine::commit::InclusionProof {
                index: first["index"].as_u64().unwrap() as usize,
                leaf_count: first["leaf_count"].as_u64().unwrap() as usize,
                siblings: first["siblings"].as_array().unwrap().iter().map(parse).collect(),
            };
            // The smaller model has one layer: its trace is positions × 1.
            let positions = proof.leaf_count as u32;
            assert!(
                spotcheck_engine::commit::verify_proof(
                    &parse(&first["leaf"]),
                    &proof,
                    positions,
                    1,
                    &attested.trace_root
                ),
                "the provider's leaf is proved against its committed root"
            );
            assert_ne!(first["leaf"], first["ours"]);
        }
        // No trace served: nothing to prove, and the evidence says so.
        Cheat::SkipWork => assert!(trace["unavailable"].as_str().unwrap().contains("no proof"), "{trace}"),
        // The model ran, on fewer tokens: the trace agrees; the tokens are at fault.
        Cheat::Truncate => assert!(trace["matches"].is_string(), "{trace}"),
        Cheat::Withhold => unreachable!("a withheld output is never re-executed"),
    }
}

/// A hex hash from the evidence JSON.
fn parse(value: &serde_json::Value) -> [u8; 32] {
    spotcheck_oracle::store::parse_hash(value.as_str().unwrap()).unwrap()
}

#[test]
fn skipped_work_is_caught_when_sampled() {
    cheat_is_caught(Cheat::SkipWork);
}

#[test]
fn a_smaller_model_is_caught_when_sampled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smaller.gguf");
    std::fs::write(&path, smaller_model_bytes()).unwrap();
    cheat_is_caught(Cheat::SmallerModel(path));
}

#[test]
fn a_truncated_answer_is_caught_when_sampled() {
    cheat_is_caught(Cheat::Truncate);
}

#[test]
fn a_challenged_cheat_pays_the_challenger() {
    let params = rarely_sampled_params();
    let net = Network::new(params, Some(Cheat::Truncate));
    let world = &net.world;
    let total = world.total_tokens();
    let _oracles = net.start_oracles();
    let job = net.submitted_job(BUDGET);
    wait_until("attestation", WAIT, || world.job(&job).is_some_and(|j| j.status == JobStatus::Attested));
    world.challenge(&job);
    wait_until("the slash", WAIT, || world.job(&job).is_none());
    let slashed = world.count_events::<JobSlashed>(&job, |e| e.job);
    assert_eq!(slashed, 1);
    let event = world
        .chain
        .lock()
        .history()
        .iter()
        .flat_map(|tx| spotcheck_client::events::decode_all::<JobSlashed>(&tx.logs))
        .find(|e| e.job == job)
        .unwrap();
    let collateral = event.to_client + event.to_challenger + event.to_treasury;
    assert_eq!(event.to_challenger, share(collateral, params.slash_split.challenger_bps));
    assert_eq!(
        world.balance(&world.associated(&world.challenger.pubkey())),
        params.challenge_bond + event.to_challenger,
        "the challenger gets its bond back and its reward"
    );
    assert_eq!(world.total_tokens(), total, "tokens appeared or vanished");
}

#[test]
fn withheld_output_is_a_liveness_fault() {
    let params = rarely_sampled_params();
    let net = Network::new(params, Some(Cheat::Withhold));
    let world = &net.world;
    let total = world.total_tokens();
    let oracles = net.start_oracles();
    let job = net.submitted_job(BUDGET);
    // The oracles try, fail (404), and keep trying with backoff.
    wait_until("failed fetches", WAIT, || metric_sum(&oracles, "fetch_errors{kind=\"status\"}") >= 3.0);
    assert_eq!(world.job(&job).unwrap().status, JobStatus::Submitted, "no vote before the deadline nears");
    // Near the deadline: withheld.
    world.chain.advance_slots(params.attestation_deadline_slots - 10);
    wait_until("the expiry", WAIT, || world.job(&job).is_none());
    let expired = world
        .chain
        .lock()
        .history()
        .iter()
        .flat_map(|tx| spotcheck_client::events::decode_all::<JobExpired>(&tx.logs))
        .find(|e| e.job == job)
        .unwrap();
    assert!(expired.withheld);
    assert_eq!(world.balance(&world.associated(&world.client.pubkey())), expired.refund + expired.to_client);
    assert_count(&oracles, "attested_withheld", 2.0);
    assert_eq!(world.total_tokens(), total, "tokens appeared or vanished");
}

#[test]
fn one_oracle_offline_changes_no_outcome() {
    let params = always_sampled_params();
    let net = Network::new(params, None);
    let total = net.world.total_tokens();
    let oracles = vec![net.start_oracle(0), net.start_oracle(1)];
    let job = net.submitted_job(BUDGET);
    run_to_the_end(&net, &job, &params);
    assert_eq!(net.world.count_events::<JobSettled>(&job, |e| e.job), 1, "settled with two oracles of three");
    assert_count(&oracles, "verdicts_pass", 2.0);
    assert_eq!(net.world.total_tokens(), total);
}

#[test]
fn one_lying_oracle_changes_no_outcome() {
    for cheat in [None, Some(Cheat::SkipWork)] {
        let params = always_sampled_params();
        let net = Network::new(params, cheat.clone());
        let total = net.world.total_tokens();
        let liar = net.oracle_keys()[2];
        let lying = Arc::new(HookedChain::lying(net.world.chain.clone(), liar));
        let _oracles = [net.start_oracle(0), net.start_oracle(1), start_oracle(net.oracle_config(2), lying).unwrap()];
        let job = net.submitted_job(BUDGET);
        run_to_the_end(&net, &job, &params);
        let world = &net.world;
        match cheat {
            None => assert_eq!(world.count_events::<JobSettled>(&job, |e| e.job), 1, "honest work is still paid"),
            Some(_) => assert_eq!(world.count_events::<JobSlashed>(&job, |e| e.job), 1, "cheating is still slashed"),
        }
        // Whatever the liar cast said the opposite of the truth.
        let lies: Vec<bool> = world
            .chain
            .lock()
            .history()
            .iter()
            .flat_map(|tx| spotcheck_client::events::decode_all::<JobVerdictVoted>(&tx.logs))
            .filter(|e| e.job == job && e.oracle == liar)
            .map(|e| e.pass)
            .collect();
        assert!(lies.iter().all(|pass| *pass == cheat.is_some()), "{lies:?}");
        assert_eq!(world.total_tokens(), total);
    }
}

#[test]
fn an_oracle_without_the_model_abstains_and_the_others_decide() {
    let params = always_sampled_params();
    let net = Network::new(params, None);
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.gguf");
    std::fs::write(&other, smaller_model_bytes()).unwrap();
    let mut config = net.oracle_config(2);
    config.models = vec![other];
    let lacking = start_oracle(config, net.chain()).unwrap();
    let _oracles = [net.start_oracle(0), net.start_oracle(1)];
    let job = net.submitted_job(BUDGET);
    run_to_the_end(&net, &job, &params);
    assert_eq!(net.world.count_events::<JobSettled>(&job, |e| e.job), 1);
    assert!(metric(&lacking, "abstained{kind=\"model_not_loaded\"}") >= 1.0);
    lacking.stop().unwrap();
    assert!(net.oracle_store(2).votes().unwrap().is_empty(), "no vote it cannot justify");
}

#[test]
fn start_up_refuses_a_key_outside_the_oracle_set_and_a_missing_market() {
    let net = Network::new(rarely_sampled_params(), None);
    let mut config = net.oracle_config(0);
    config.oracle = Arc::new(solana_keypair::Keypair::new());
    match start_oracle(config, net.chain()) {
        Err(err @ spotcheck_oracle::OracleError::NotAnOracle { .. }) => {
            assert!(err.to_string().contains("market_set_oracles"), "{err}");
            assert!(!err.is_retryable());
        }
        other => panic!("expected NotAnOracle, got {:?}", other.err()),
    }
    let mut config = net.oracle_config(0);
    config.market = Pubkey::new_unique();
    assert!(matches!(start_oracle(config, net.chain()), Err(spotcheck_oracle::OracleError::MarketNotFound { .. })));
    // Two oracles on one data directory would each send what the other sent.
    let running = net.start_oracle(1);
    match start_oracle(net.oracle_config(1), net.chain()) {
        Err(err @ spotcheck_oracle::OracleError::DataDirInUse { .. }) => {
            assert!(err.to_string().contains("--data-dir of its own"), "{err}")
        }
        other => panic!("expected DataDirInUse, got {:?}", other.err()),
    }
    running.stop().unwrap();
}

#[test]
fn votes_are_recorded_before_and_after_they_land() {
    let params = rarely_sampled_params();
    let net = Network::new(params, None);
    let oracles = net.start_oracles();
    let job = net.submitted_job(BUDGET);
    run_to_the_end(&net, &job, &params);
    for oracle in oracles {
        oracle.stop().unwrap();
    }
    let landed: usize = (0..3)
        .map(|i| {
            net.oracle_store(i)
                .votes()
                .unwrap()
                .iter()
                .filter(|v| v.job == job && v.round == Round::Attest && v.state == VoteState::Landed)
                .count()
        })
        .sum();
    assert_eq!(landed, 2, "two attestations landed, each recorded with its signature");
}

#[test]
fn a_verdict_reads_a_peers_mirror_once_the_provider_has_vanished() {
    let params = always_sampled_params();
    let net = Network::new(params, None);
    let world = &net.world;
    let total = world.total_tokens();
    // Oracle 2 is away while 0 and 1 attest (and mirror) the output.
    let first = net.start_oracle(0);
    let second = net.start_oracle(1);
    let job = net.submitted_job(BUDGET);
    wait_until("attestation", WAIT, || world.job(&job).is_some_and(|j| j.status == JobStatus::Attested));
    // The provider vanishes (its endpoint answers no more), oracle 1 goes
    // down, and oracle 2 comes back knowing its peers.
    world.set_endpoint("http://127.0.0.1:9");
    let dead_peer = format!("http://{}", second.addr);
    second.stop().unwrap();
    let mut config = net.oracle_config(2);
    config.peers = vec![dead_peer, format!("http://{}", first.addr)];
    let back = start_oracle(config, net.chain()).unwrap();
    world.chain.advance_slots(params.challenge_window_slots + 2);
    wait_until("the job's end", WAIT, || world.job(&job).is_none());
    assert_eq!(world.count_events::<JobSettled>(&job, |e| e.job), 1, "verified by oracles 0 and 2");
    assert_count(std::slice::from_ref(&back), "verdicts_pass", 1.0);
    assert_eq!(metric(&back, "attested_complete"), 0.0, "it never attested: the peer's copy only served the verdict");
    assert_eq!(world.total_tokens(), total, "tokens appeared or vanished");
}
