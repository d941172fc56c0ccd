//! The daemon against a real local node (Surfpool, started by
//! `scripts/localnet.sh` on free ports) over JSON-RPC and PubSub: one honest
//! job from submission to settlement, every transaction a real one. Skips,
//! saying why, when the node is not built — unless
//! `SPOTCHECK_REQUIRE_LOCALNET=1` (CI), where it fails.

#[path = "../../client/tests/conformance/localnet.rs"]
mod localnet;
mod rpc_market;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rpc_market::{RpcMarket, params, send};
use solana_signer::Signer;
use spotcheck::instructions::JobSubmitArgs;
use spotcheck::state::{Job, JobStatus};
use spotcheck_client::chain::filters::program_account;
use spotcheck_client::chain::{Chain, FeedConfig};
use spotcheck_client::instructions as ix;
use spotcheck_client::pda;
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::model::tiny::{TinySpec, tiny_gguf};
use spotcheck_worker::{Config, Worker};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_honest_job_on_a_real_local_node() {
    let Some(node) = localnet::Localnet::start() else { return };
    let chain = rpc_market::connect(&node.rpc_url, &node.ws_url).await;
    let dir = tempfile::tempdir().unwrap();
    let model_bytes = tiny_gguf(&TinySpec::default(), GgmlType::F32);
    let model_path = dir.path().join("tiny.gguf");
    std::fs::write(&model_path, &model_bytes).unwrap();
    let model_id = spotcheck_engine::model::model_id(&model_bytes);
    let world = RpcMarket::create(chain.clone(), params(), &[model_id], 1).await;
    let (market, keys, oracles, client, client_token) =
        (world.market, world.keys, &world.oracles, &world.client, world.client_token);
    let provider = &world.providers[0];
    let (worker, payout, stake_source) = (provider.worker.clone(), provider.payout, provider.stake_source);

    let mut config = Config::new(market, provider.account, worker.clone(), vec![model_path], dir.path().join("data"));
    config.device = spotcheck_engine::DeviceChoice::Cpu;
    config.threads = 1;
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.payout = Some(payout);
    config.tick = Duration::from_millis(200);
    config.feed = FeedConfig { poll_interval: Duration::from_millis(500), ..FeedConfig::default() };
    let worker_chain: Arc<dyn Chain> = chain.clone();
    let started = Worker::start(config, worker_chain).await.unwrap_or_else(|err| panic!("{err}"));
    let addr = started.local_addr();
    let shutdown = CancellationToken::new();
    let daemon = tokio::spawn(started.run(shutdown.clone()));

    let in_play = vec![pda::stake_vault(&market), pda::escrow_vault(&market), stake_source, payout, client_token];
    let total = world.balances(&in_play).await;

    let args = JobSubmitArgs { prompt: "Hello there, what is in the sea?".into(), token_budget: 16, max_price: 160 };
    let submit = ix::job_submit(&client.pubkey(), &keys, &pda::model(&market, &model_id), 0, &client_token, args);
    let submitted_at = Instant::now();
    send(&chain, "job_submit", &[submit], &[client]).await;
    let job = pda::job(&market, &client.pubkey(), 0);

    let read = || {
        let chain = chain.clone();
        async move { program_account::<Job>(&*chain, &job).await.unwrap() }
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let account = loop {
        if let Some(account) = read().await
            && account.status == JobStatus::Submitted
        {
            break account;
        }
        assert!(Instant::now() < deadline, "no result within 120 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let to_result = submitted_at.elapsed();

    // Served at the daemon's endpoint, as the oracles will fetch it.
    let url = format!("http://{addr}/v1/outputs/{}", spotcheck_engine::commit::hex(&account.output_hash));
    let body: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(body["token_count"].as_u64(), Some(u64::from(account.token_count)));

    for oracle in &oracles[..2] {
        send(&chain, "job_attest", &[ix::job_attest(&oracle.pubkey(), &market, &job, true)], &[oracle]).await;
    }
    // The worker reveals the draw after the window and settles.
    let deadline = Instant::now() + Duration::from_secs(120);
    while read().await.is_some() {
        assert!(Instant::now() < deadline, "not settled within 120 s of attestation");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "local node {}: job result {to_result:?} after submission; settled {:?} after submission",
        node.rpc_url,
        submitted_at.elapsed()
    );
    let fee = (160 * u64::from(params().fee_bps)).div_ceil(10_000);
    assert_eq!(world.balances(&[payout]).await, 160 - fee, "the provider is paid price minus fee");
    assert_eq!(world.balances(&in_play).await, total, "tokens appeared or vanished");
    shutdown.cancel();
    daemon.await.unwrap().unwrap();
}
