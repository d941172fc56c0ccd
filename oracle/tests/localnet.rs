//! End to end on a real local node (Surfpool, `scripts/localnet.sh`) with
//! every party a separate process: two `spotcheck-worker` daemons (one
//! honest, one `--cheat skip-work`, each serving its own model) and three
//! `spotcheck-oracle` daemons (quorum 2), over JSON-RPC and PubSub. The
//! honest job is attested and settled; the cheat is attested, challenged,
//! re-executed, failed and slashed; tokens are conserved. Skips, saying
//! why, when the node is not built — unless `SPOTCHECK_REQUIRE_LOCALNET=1`
//! (CI), where it fails.

#[path = "../../client/tests/conformance/localnet.rs"]
mod localnet;
#[path = "../../worker/tests/rpc_market/mod.rs"]
mod rpc_market;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use rpc_market::{PRICE_PER_TOKEN, RpcMarket, params, send};
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck::instructions::JobSubmitArgs;
use spotcheck::state::{Job, JobStatus};
use spotcheck_client::chain::filters::program_account;
use spotcheck_client::instructions as ix;
use spotcheck_client::pda;
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::model::tiny::{TinySpec, tiny_gguf};

const BUDGET: u32 = 16;

/// A daemon process, killed when the guard drops (the test passing or not);
/// its log is printed if the test fails.
struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn spawn(binary: &Path, name: &str, args: &[String], dir: &Path) -> Daemon {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(binary)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));
        Daemon { name: name.to_string(), child, log }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!("--- {} (last lines) ---\n{}", self.name, tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        }
    }
}

/// The worker's binary, built beside this test's (by `cargo test --workspace`,
/// or `cargo build -p spotcheck-worker`).
fn worker_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let binary = exe.parent()?.parent()?.join("spotcheck-worker");
    binary.exists().then_some(binary)
}

fn keypair_file(dir: &Path, name: &str, key: &Keypair) -> String {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, format!("{:?}", key.to_bytes().to_vec())).unwrap();
    path.to_string_lossy().into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_job_settles_and_a_cheat_is_slashed_with_every_party_a_process() {
    let Some(worker_bin) = worker_binary() else {
        if localnet::required() {
            panic!(
                "SPOTCHECK_REQUIRE_LOCALNET=1 but target/*/spotcheck-worker is not built: cargo build -p spotcheck-worker"
            );
        }
        println!("skipped: the spotcheck-worker binary is not built (cargo build -p spotcheck-worker)");
        return;
    };
    let Some(node) = localnet::Localnet::start() else { return };
    let chain = rpc_market::connect(&node.rpc_url, &node.ws_url).await;
    let dir = tempfile::tempdir().unwrap();
    let honest_model = tiny_gguf(&TinySpec::default(), GgmlType::F32);
    let other_model = tiny_gguf(&TinySpec { seed: 7, n_layers: 1, ..TinySpec::default() }, GgmlType::F32);
    let mut paths = Vec::new();
    let mut ids = Vec::new();
    for (name, bytes) in [("honest.gguf", &honest_model), ("other.gguf", &other_model)] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        paths.push(path.to_string_lossy().into_owned());
        ids.push(spotcheck_engine::model::model_id(bytes));
    }
    let world = RpcMarket::create(chain.clone(), params(), &ids, 2).await;
    let market = world.market.to_string();
    let challenger = Keypair::new();
    chain.request_airdrop(&challenger.pubkey(), rpc_market::SOL).await.unwrap();
    let challenger_token = world.token_account(&challenger.pubkey(), 1_000_000).await;

    let node_args = |args: &mut Vec<String>| {
        args.extend(["--url".into(), node.rpc_url.clone(), "--ws-url".into(), node.ws_url.clone()]);
        args.extend([
            "--market".into(),
            market.clone(),
            "--device".into(),
            "cpu".into(),
            "--threads".into(),
            "1".into(),
        ]);
    };
    // Provider 0 serves the honest model honestly; provider 1 serves the other one and skips the work.
    let mut daemons = Vec::new();
    for (i, provider) in world.providers.iter().enumerate() {
        let port = free_port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let set = ix::provider_set_endpoint(&provider.stake_wallet.pubkey(), &world.market, &endpoint);
        send(&chain, "provider_set_endpoint", &[set], &[&provider.stake_wallet]).await;
        let mut args = vec![
            "--keypair".into(),
            keypair_file(dir.path(), &format!("worker-{i}"), &provider.worker),
            "--provider".into(),
            provider.account.to_string(),
            "--model".into(),
            paths[i].clone(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--payout".into(),
            provider.payout.to_string(),
            "--data-dir".into(),
            dir.path().join(format!("worker-{i}")).to_string_lossy().into_owned(),
        ];
        if i == 1 {
            args.extend(["--cheat".into(), "skip-work".into()]);
        }
        node_args(&mut args);
        daemons.push(Daemon::spawn(&worker_bin, &format!("worker-{i}"), &args, dir.path()));
    }
    for (i, oracle) in world.oracles.iter().enumerate() {
        let mut args = vec![
            "--keypair".into(),
            keypair_file(dir.path(), &format!("oracle-{i}"), oracle),
            "--model".into(),
            format!("{},{}", paths[0], paths[1]),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data-dir".into(),
            dir.path().join(format!("oracle-{i}")).to_string_lossy().into_owned(),
        ];
        node_args(&mut args);
        daemons.push(Daemon::spawn(
            Path::new(env!("CARGO_BIN_EXE_spotcheck-oracle")),
            &format!("oracle-{i}"),
            &args,
            dir.path(),
        ));
    }

    let mut in_play =
        vec![pda::stake_vault(&world.market), pda::escrow_vault(&world.market), world.client_token, challenger_token];
    for provider in &world.providers {
        in_play.extend([provider.stake_source, provider.payout, world.associated(&provider.stake_wallet.pubkey())]);
    }
    in_play.extend([world.associated(&world.client.pubkey()), world.associated(&challenger.pubkey())]);
    let total = world.balances(&in_play).await;

    let submitted_at = Instant::now();
    let mut jobs = Vec::new();
    for (nonce, model_id) in ids.iter().enumerate() {
        let args = JobSubmitArgs {
            prompt: "Hello there, what is in the sea?".into(),
            token_budget: BUDGET,
            max_price: u64::MAX,
        };
        let model = pda::model(&world.market, model_id);
        let submit =
            ix::job_submit(&world.client.pubkey(), &world.keys, &model, nonce as u64, &world.client_token, args);
        send(&chain, "job_submit", &[submit], &[&world.client]).await;
        jobs.push(pda::job(&world.market, &world.client.pubkey(), nonce as u64));
    }
    let read = |job: Pubkey| {
        let chain = chain.clone();
        async move { program_account::<Job>(&*chain, &job).await.unwrap() }
    };

    // The cheat's output is attested (its commitment is consistent): challenge it in its window.
    let deadline = Instant::now() + Duration::from_secs(180);
    let cheat = loop {
        match read(jobs[1]).await {
            Some(job) if job.status == JobStatus::Attested => break job,
            Some(_) => {}
            None => panic!("the cheat's job ended before it could be challenged"),
        }
        assert!(Instant::now() < deadline, "the cheat's job was not attested within 180 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let attested_after = submitted_at.elapsed();
    let challenge = ix::job_challenge(&challenger.pubkey(), &world.keys, &jobs[1], &challenger_token);
    send(&chain, "job_challenge", &[challenge], &[&challenger]).await;

    let deadline = Instant::now() + Duration::from_secs(180);
    while read(jobs[0]).await.is_some() || read(jobs[1]).await.is_some() {
        assert!(Instant::now() < deadline, "jobs not ended within 180 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "local node {}: cheat attested {attested_after:?} after submission; both jobs ended {:?} after submission",
        node.rpc_url,
        submitted_at.elapsed()
    );

    let price = PRICE_PER_TOKEN * u64::from(BUDGET);
    let fee = (price * u64::from(params().fee_bps)).div_ceil(10_000);
    let honest = &world.providers[0];
    let paid = world.balances(&[honest.payout, world.associated(&honest.stake_wallet.pubkey())]).await;
    assert_eq!(paid, price - fee, "the honest provider is paid price minus fee");
    let split = params().slash_split;
    let to_client = cheat.collateral * u64::from(split.client_bps) / 10_000;
    let to_challenger = cheat.collateral * u64::from(split.challenger_bps) / 10_000;
    assert_eq!(
        world.balances(&[world.associated(&world.client.pubkey())]).await,
        cheat.price + to_client,
        "the client's refund and share"
    );
    assert_eq!(
        world.balances(&[world.associated(&challenger.pubkey())]).await,
        params().challenge_bond + to_challenger,
        "the challenger's bond back and its reward"
    );
    let cheater: spotcheck::state::Provider =
        program_account(&*chain, &world.providers[1].account).await.unwrap().unwrap();
    assert_eq!(cheater.jobs_slashed, 1);
    assert_eq!(world.balances(&in_play).await, total, "tokens appeared or vanished");
    drop(daemons);
}
