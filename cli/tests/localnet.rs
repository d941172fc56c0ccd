//! The read commands over real JSON-RPC: a market on a local node
//! (`scripts/localnet.sh`, Surfpool) with a staked provider and a job,
//! read back by the `spotcheck` binary with `--output json`. Skips, saying
//! why, when the node is not built — unless `SPOTCHECK_REQUIRE_LOCALNET=1`
//! (CI), where it fails.

#[path = "../../client/tests/conformance/localnet.rs"]
mod localnet;
#[path = "../../worker/tests/rpc_market/mod.rs"]
mod rpc_market;

use std::process::Command;

use rpc_market::{RpcMarket, params, send};
use solana_signer::Signer;
use spotcheck::instructions::JobSubmitArgs;
use spotcheck_client::instructions as ix;
use spotcheck_client::pda;

fn spotcheck(args: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_spotcheck")).args(args).output().unwrap();
    let (out, err) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "spotcheck {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_commands_over_rpc() {
    let Some(node) = localnet::Localnet::start() else { return };
    let chain = rpc_market::connect(&node.rpc_url, &node.ws_url).await;
    let model_id = [0x5a; 32];
    let world = RpcMarket::create(chain.clone(), params(), &[model_id], 1).await;
    let args = JobSubmitArgs { prompt: "What is 2+2?".into(), token_budget: 16, max_price: 160 };
    let submit = ix::job_submit(
        &world.client.pubkey(),
        &world.keys,
        &pda::model(&world.market, &model_id),
        0,
        &world.client_token,
        args,
    );
    send(&chain, "job_submit", &[submit], &[&world.client]).await;
    let job = pda::job(&world.market, &world.client.pubkey(), 0);

    let (market, provider) = (world.market.to_string(), world.providers[0].account.to_string());
    let rpc = ["--url", node.rpc_url.as_str(), "--ws-url", node.ws_url.as_str(), "--output", "json"];
    let with = |head: &[&str]| -> Vec<String> { head.iter().chain(rpc.iter()).map(|s| s.to_string()).collect() };
    let run = |args: Vec<String>| spotcheck(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let m = run(with(&["market", "show", &market]));
    assert_eq!((m["quorum"].as_u64(), m["job_count"].as_u64()), (Some(2), Some(1)), "{m}");
    let p = run(with(&["provider", "list", "--market", &market]));
    assert_eq!(p["providers"][0]["address"], provider, "{p}");
    assert_eq!(p["providers"][0]["staked"].as_u64(), Some(50_000_000));
    let j = run(with(&["job", "show", &job.to_string()]));
    assert_eq!((j["status"].as_str(), j["prompt"].as_str()), (Some("open"), Some("What is 2+2?")), "{j}");
    let open = run(with(&["job", "list", "--market", &market, "--status", "open"]));
    assert_eq!(open["jobs"].as_array().map(Vec::len), Some(1), "{open}");
    let none = run(with(&["job", "list", "--market", &market, "--status", "claimed"]));
    assert_eq!(none["jobs"].as_array().map(Vec::len), Some(0), "{none}");
}
