//! The worker daemon against the embedded chain with the tiny model:
//! claims, generates, serves, submits, settles; refuses what it cannot
//! serve; each cheating mode commits to what it claims to; start-up refuses
//! a wrong configuration; the HTTP errors.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use solana_signer::Signer;
use spotcheck::state::{JobStatus, ModelTerms};
use spotcheck_client::chain::Chain;
use spotcheck_client::instructions as ix;
use spotcheck_client::pda;
use spotcheck_engine::commit::hex;
use spotcheck_engine::{Completion, CpuBackend, Job, Model};
use spotcheck_worker::{Cheat, Outcome, WorkerError};

const WAIT: Duration = Duration::from_secs(60);

fn tiny() -> Model {
    Model::from_gguf_bytes(&tiny_model_bytes()).unwrap()
}

fn chain(world: &World) -> Arc<dyn Chain> {
    Arc::new(world.chain.clone())
}

fn metric(running: &Running, name: &str) -> f64 {
    let text = running.get_text("/metrics");
    text.lines()
        .find(|line| {
            line.starts_with(&format!("spotcheck_worker_{name} "))
                || line.starts_with(&format!("spotcheck_worker_{name}_total "))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn claims_generates_serves_submits_and_settles() {
    let world = World::new(params(), STAKE);
    let total = world.total_tokens();
    let running = Running::start(world.config("data"), chain(&world)).unwrap();
    let job = world.submit(PROMPT, 16);
    wait_until("the result", WAIT, || world.job(&job).is_some_and(|j| j.status == JobStatus::Submitted));

    // The commitment is the honest one: what the engine's job protocol computes.
    let account = world.job(&job).unwrap();
    let model = tiny();
    let spec = Job { model_id: model.id, prompt: PROMPT, token_budget: 16 };
    let honest = spec.run(&model, &CpuBackend::new(1).unwrap()).unwrap();
    assert_eq!(account.output_hash, honest.output_hash);
    assert_eq!(account.trace_root, honest.trace_root);
    assert_eq!(account.token_count, honest.token_count());
    assert_eq!(account.provider, world.provider);

    // Served: the tokens hash to the commitment; one trace leaf proves into the root.
    let (status, body) = running.get(&format!("/v1/outputs/{}", hex(&account.output_hash)));
    assert_eq!(status, 200, "{body}");
    let served: Vec<u32> = serde_json::from_value(body["tokens"].clone()).unwrap();
    assert_eq!(served, honest.tokens);
    assert_eq!(body["job"], job.to_string());
    assert_eq!(
        spec.check_served(&model, &account.output_hash, account.token_count, &served).unwrap(),
        Completion::Complete
    );
    let (status, proof) = running.get(&format!("/v1/outputs/{}/proof/3/1", hex(&account.output_hash)));
    assert_eq!(status, 200, "{proof}");
    let leaf: [u8; 32] = spotcheck_worker::store::parse_hash(proof["leaf"].as_str().unwrap()).unwrap();
    let siblings = proof["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| spotcheck_worker::store::parse_hash(s.as_str().unwrap()).unwrap())
        .collect();
    let inclusion = spotcheck_engine::commit::InclusionProof {
        index: proof["index"].as_u64().unwrap() as usize,
        leaf_count: proof["leaf_count"].as_u64().unwrap() as usize,
        siblings,
    };
    let layers = model.config().n_layers as u32;
    let positions = inclusion.leaf_count as u32 / layers;
    assert!(spotcheck_engine::commit::verify_proof(&leaf, &inclusion, positions, layers, &account.trace_root));
    let (status, body) = running.get(&format!("/v1/outputs/{}/proof/100000/0", hex(&account.output_hash)));
    assert_eq!(status, 404, "{body}");

    // The oracles attest; once the window has passed the worker reveals the draw and settles.
    world.attest(&job);
    world.chain.advance_slots(params().challenge_window_slots + 2);
    wait_until("settlement", WAIT, || world.job(&job).is_none());
    let price = PRICE_PER_TOKEN * 16;
    let fee = (price * u64::from(params().fee_bps)).div_ceil(10_000);
    assert_eq!(world.chain.lock().balance(&world.payout), price - fee, "the provider is paid price minus fee");
    assert_eq!(world.total_tokens(), total, "tokens appeared or vanished");
    wait_until("the outcome recorded", WAIT, || {
        running.runtime.as_ref().is_some() && metric(&running, "jobs_settled") == 1.0
    });
    assert_eq!(metric(&running, "jobs_claimed"), 1.0);
    assert_eq!(metric(&running, "jobs_submitted"), 1.0);
    assert_eq!(metric(&running, "tokens_generated"), honest.tokens.len() as f64);

    let (status, health) = running.get("/healthz");
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    running.stop().unwrap();

    // The database recorded the outcome, and outputs stay served after a restart.
    let store = world.store("data");
    let row = store.job(&job).unwrap().unwrap();
    assert_eq!(row.outcome.as_deref(), Some(Outcome::Settled.as_str()));
    drop(store);
    let again = Running::start(world.config("data"), chain(&world)).unwrap();
    let (status, _) = again.get(&format!("/v1/outputs/{}", hex(&account.output_hash)));
    assert_eq!(status, 200);
    again.stop().unwrap();
}

#[test]
fn http_errors_are_json() {
    let world = World::new(params(), STAKE);
    let running = Running::start(world.config("data"), chain(&world)).unwrap();
    let (status, body) = running.get(&format!("/v1/outputs/{}", "ab".repeat(32)));
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("no output"), "{body}");
    let (status, body) = running.get("/v1/outputs/not-a-hash");
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("64 hex digits"), "{body}");
    let (status, body) = running.get(&format!("/v1/outputs/{}/proof/x/1", "ab".repeat(32)));
    assert_eq!(status, 400, "{body}");
    let (status, body) = running.get("/nowhere");
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
    running.stop().unwrap();
}

#[test]
fn refuses_jobs_it_cannot_serve() {
    // 5 M staked: a 16-token job locks 2.4 M (15 000x its price), a 64-token one 9.6 M.
    let world = World::new(params(), 5_000_000);
    // Another model, registered but not served here.
    let other = {
        let terms = ModelTerms { price_per_token: PRICE_PER_TOKEN, max_tokens: 64, uri: "test:other".into() };
        let register = ix::model_register(&world.authority.pubkey(), &world.market, [0xcd; 32], "llama", terms);
        world.chain.lock().send("model_register", &[register], &[&world.authority]).unwrap();
        pda::model(&world.market, &[0xcd; 32])
    };
    let mut config = world.config("data");
    let unserved = world.submit_model(&other, PROMPT, 16);
    let too_big = world.submit(PROMPT, 64);
    let too_long = world.submit(&"the sea is wide and deep ".repeat(20), 16);
    config.min_price_per_token = PRICE_PER_TOKEN;
    let running = Running::start(config, chain(&world)).unwrap();
    let good = world.submit(PROMPT, 16);
    wait_until("the servable job's result", WAIT, || {
        world.job(&good).is_some_and(|j| j.status == JobStatus::Submitted)
    });
    for job in [unserved, too_big, too_long] {
        assert_eq!(world.job(&job).unwrap().status, JobStatus::Open, "{job} must not be claimed");
    }
    let text = running.get_text("/metrics");
    for reason in ["model_not_served", "insufficient_stake", "bad_prompt"] {
        assert!(text.contains(&format!("jobs_refused_total{{reason=\"{reason}\"}} 1")), "{reason} missing in:\n{text}");
    }
    running.stop().unwrap();

    // A worker asking more than the market price claims nothing (three open
    // jobs of its model are left: each is refused for its price, once).
    let mut picky = world.config("picky");
    picky.min_price_per_token = PRICE_PER_TOKEN + 1;
    let cheap = world.submit(PROMPT, 8);
    let running = Running::start(picky, chain(&world)).unwrap();
    wait_until("the refusal", WAIT, || running.get_text("/metrics").contains("reason=\"price_below_minimum\"} 3"));
    assert_eq!(world.job(&cheap).unwrap().status, JobStatus::Open);
    running.stop().unwrap();
}

#[test]
fn start_up_refuses_a_wrong_configuration() {
    let world = World::new(params(), STAKE);
    let refused = |config: spotcheck_worker::Config| match Running::start(config, chain(&world)) {
        Ok(_) => panic!("the worker started"),
        Err(err) => err,
    };
    // A model file whose id is not registered.
    let path = world.dir.path().join("smaller.gguf");
    std::fs::write(&path, smaller_model_bytes()).unwrap();
    let mut config = world.config("a");
    config.models = vec![path];
    let err = refused(config);
    assert!(matches!(err, WorkerError::NoServableModel { .. }), "{err}");
    assert!(err.to_string().contains("is not registered"), "{err}");
    // Someone else's key.
    let mut config = world.config("b");
    config.worker = Arc::new(solana_keypair::Keypair::new());
    let err = refused(config);
    assert!(matches!(err, WorkerError::NotTheWorker { .. }), "{err}");
    assert!(err.to_string().contains("rotate-worker"), "{err}");
    // A provider that does not exist, and a market that does not.
    let mut config = world.config("c");
    config.provider = pda::provider(&world.market, &world.client.pubkey());
    assert!(matches!(refused(config), WorkerError::ProviderNotFound { .. }));
    let mut config = world.config("d");
    config.market = pda::market(&world.client.pubkey(), 9);
    assert!(matches!(refused(config), WorkerError::MarketNotFound { .. }));
    // A model path that does not exist.
    let mut config = world.config("e");
    config.models = vec![world.dir.path().join("missing.gguf")];
    assert!(matches!(refused(config), WorkerError::Model { .. }));
    // A data directory another worker runs with.
    let running = Running::start(world.config("f"), chain(&world)).unwrap();
    let err = refused(world.config("f"));
    assert!(matches!(err, WorkerError::DataDirInUse { .. }), "{err}");
    assert!(err.to_string().contains("--data-dir of its own"), "{err}");
    running.stop().unwrap();
    // Nothing was sent by any of them.
    assert_eq!(
        world.chain.lock().history().iter().filter(|tx| tx.logs.iter().any(|l| l.contains("JobClaim"))).count(),
        0
    );
}

/// Each cheating mode commits consistently to what it serves (the
/// completion check passes, except withhold, which serves nothing), and
/// re-execution by the engine catches it.
#[test]
fn each_cheating_mode_commits_to_what_it_claims() {
    let model = tiny();
    let backend = CpuBackend::new(1).unwrap();
    for mode in ["skip-work", "smaller-model", "truncate", "withhold"] {
        let world = World::new(params(), STAKE);
        let smaller_path = world.dir.path().join("smaller.gguf");
        std::fs::write(&smaller_path, smaller_model_bytes()).unwrap();
        let mut config = world.config("data");
        config.cheat = Some(Cheat::parse(mode, Some(smaller_path)).unwrap());
        let running = Running::start(config, chain(&world)).unwrap();
        let job = world.submit(PROMPT, 16);
        wait_until("the result", WAIT, || world.job(&job).is_some_and(|j| j.status == JobStatus::Submitted));
        let account = world.job(&job).unwrap();
        let (status, body) = running.get(&format!("/v1/outputs/{}", hex(&account.output_hash)));
        let spec = Job { model_id: model.id, prompt: PROMPT, token_budget: 16 };
        if mode == "withhold" {
            assert_eq!(status, 404, "withhold serves nothing");
            let honest = spec.run(&model, &backend).unwrap();
            assert_eq!(account.output_hash, honest.output_hash, "withhold commits the honest result");
        } else {
            assert_eq!(status, 200, "{mode}: {body}");
            let served: Vec<u32> = serde_json::from_value(body["tokens"].clone()).unwrap();
            assert_eq!(
                spec.check_served(&model, &account.output_hash, account.token_count, &served).unwrap(),
                Completion::Complete,
                "{mode} commits to the tokens it serves"
            );
            let verdict =
                spec.re_execute(&model, &backend, &account.output_hash, &account.trace_root, &served).unwrap();
            assert!(!verdict.passed(), "{mode} must fail re-execution");
            if mode == "truncate" {
                assert_eq!(account.token_count, 8, "truncate stops at half the budget");
            }
        }
        running.stop().unwrap();
    }
    let _ = Cheat::parse("smaller-model", None).unwrap_err();
    assert!(Cheat::parse("lie", None).unwrap_err().to_string().contains("unknown cheat mode"));
}

/// Another provider claims the job just before this worker's claim lands:
/// the refusal is counted as a lost race, the job is left to the rival, and
/// nothing is generated or submitted for it.
#[test]
fn a_lost_race_is_counted_and_left_alone() {
    let world = World::new(params(), STAKE);
    let (rival_worker, rival) = world.rival();
    let racing = Arc::new(HookedChain::racing(world.chain.clone(), world.market, rival_worker, rival));
    let running = Running::start(world.config("data"), racing).unwrap();
    let job = world.submit(PROMPT, 16);
    wait_until("the lost race counted", WAIT, || metric(&running, "jobs_lost") == 1.0);
    // A later job is still claimed and served.
    let next = world.submit(PROMPT, 8);
    wait_until("the next job's result", WAIT, || world.job(&next).is_some_and(|j| j.status == JobStatus::Submitted));
    let account = world.job(&job).unwrap();
    assert_eq!((account.status, account.provider), (JobStatus::Claimed, rival), "the rival has it");
    // (The metric follows the confirmation the daemon reads after the chain has the result.)
    wait_until("the submission counted", WAIT, || metric(&running, "jobs_submitted") == 1.0);
    assert_eq!(metric(&running, "jobs_claimed"), 1.0);
    let store = world.store("data");
    assert!(store.job(&job).unwrap().is_none(), "a claim that did not land is forgotten");
    running.stop().unwrap();
}

/// A database that cannot grow (as on a full disk): the output cannot be
/// stored, so the result is not submitted; the error is counted, nothing
/// panics, and once there is room again the job is finished.
#[test]
fn a_full_disk_stops_the_result_not_the_daemon() {
    let world = World::new(params(), STAKE);
    // Room for the tables and a claim row, not for an output with its trace.
    let mut config = world.config("data");
    config.max_database_pages = Some(7);
    let running = Running::start(config, chain(&world)).unwrap();
    let job = world.submit(PROMPT, 64);
    wait_until("a store error", WAIT, || metric(&running, "store_errors") >= 1.0);
    let account = world.job(&job).unwrap();
    assert_eq!(account.status, JobStatus::Claimed, "claimed, but no result without a stored output");
    assert_eq!(metric(&running, "jobs_submitted"), 0.0);
    let (status, _) = running.get("/healthz");
    assert_eq!(status, 200, "still serving");
    running.kill();

    let running = Running::start(world.config("data"), chain(&world)).unwrap();
    wait_until("the result once there is room", WAIT, || {
        world.job(&job).is_some_and(|j| j.status == JobStatus::Submitted)
    });
    running.stop().unwrap();
    assert_eq!(world.count_events::<spotcheck::events::JobClaimed>(&job, |e| e.job), 1);
}

/// The binary: cheating is labelled in `--help`, and a missing setting is a
/// clear error and a failure exit, with nothing sent.
#[test]
fn the_binary_labels_cheating_and_refuses_missing_settings() {
    let bin = env!("CARGO_BIN_EXE_spotcheck-worker");
    let help = std::process::Command::new(bin).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("DISHONEST, FOR TESTS AND DEMOS ONLY") && text.contains("WILL be slashed"), "{text}");
    let run = std::process::Command::new(bin).env_clear().output().unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("--keypair is required"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = std::process::Command::new(bin)
        .args(["--keypair", dir.path().join("none.json").to_str().unwrap(), "--market", "x", "--provider", "y"])
        .env_clear()
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("cannot read the keypair file"), "{err}");
}

/// `rpc_errors_total{kind="<kind>"}` from the worker's metrics.
fn rpc_errors(running: &Running, kind: &str) -> f64 {
    let prefix = format!("spotcheck_worker_rpc_errors_total{{kind=\"{kind}\"}} ");
    let text = running.get_text("/metrics");
    text.lines().find_map(|line| line.strip_prefix(&prefix)?.parse().ok()).unwrap_or(0.0)
}

#[test]
fn an_rpc_outage_is_counted_claims_nothing_and_the_work_resumes() {
    use std::sync::atomic::Ordering;
    let world = World::new(params(), STAKE);
    let total = world.total_tokens();
    let flaky = Arc::new(HookedChain::plain(world.chain.clone()));
    let down = flaky.down.clone();
    // A start while the node is unreachable is refused, and says retrying can help.
    down.store(true, Ordering::SeqCst);
    let err = match Running::start(world.config("data"), flaky.clone()) {
        Ok(_) => panic!("the worker started without a node"),
        Err(err) => err,
    };
    assert!(err.is_retryable() && err.to_string().contains("cannot reach"), "{err}");
    // Up at start, then an outage: nothing is claimed, every failure counted.
    down.store(false, Ordering::SeqCst);
    let running = Running::start(world.config("data"), flaky).unwrap();
    down.store(true, Ordering::SeqCst);
    let job = world.submit(PROMPT, 16);
    wait_until("RPC errors counted", WAIT, || rpc_errors(&running, "Unreachable") >= 2.0);
    assert_eq!(world.job(&job).unwrap().status, JobStatus::Open, "nothing claimed while the node is unreachable");
    // The node is back: claimed, generated, submitted; attested and settled.
    down.store(false, Ordering::SeqCst);
    wait_until("the result", WAIT, || world.job(&job).is_some_and(|j| j.status == JobStatus::Submitted));
    assert_eq!(metric(&running, "jobs_claimed"), 1.0);
    world.attest(&job);
    world.chain.advance_slots(params().challenge_window_slots + 2);
    wait_until("settlement", WAIT, || world.job(&job).is_none());
    assert_eq!(world.total_tokens(), total, "tokens appeared or vanished");
    running.stop().unwrap();
}
