//! The daemon against a real local node (Surfpool, started by
//! `scripts/localnet.sh` on free ports) over JSON-RPC and PubSub: one honest
//! job from submission to settlement, every transaction a real one. Skips,
//! saying why, when the node is not built — unless
//! `SPOTCHECK_REQUIRE_LOCALNET=1` (CI), where it fails.

#[path = "../../client/tests/conformance/localnet.rs"]
mod localnet;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::{Pubkey, Rent};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token_2022::spl_token_2022;
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck::instructions::JobSubmitArgs;
use spotcheck::state::{Job, JobStatus, MarketParams, ModelTerms};
use spotcheck_client::chain::filters::program_account;
use spotcheck_client::chain::{Backoff, Chain, Cluster, FeedConfig, RpcChain, RpcChainConfig};
use spotcheck_client::instructions::{self as ix, MarketKeys, MarketTokens};
use spotcheck_client::pda;
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::model::tiny::{TinySpec, tiny_gguf};
use spotcheck_worker::{Config, Worker};
use tokio_util::sync::CancellationToken;

const TOKEN: Pubkey = anchor_spl::token::ID;
const SOL: u64 = 1_000_000_000;

/// Short windows, so the job settles within seconds at 4 slots a second;
/// p = 0.01 % sampling with the collateral that makes cheating lose.
fn params() -> MarketParams {
    MarketParams {
        claim_timeout_slots: 150,
        attestation_deadline_slots: 150,
        challenge_window_slots: 8,
        verdict_timeout_slots: 150,
        ..spotcheck_tests::jobs::rarely_sampled_params()
    }
}

fn token(built: Result<Instruction, anchor_lang::prelude::ProgramError>) -> Instruction {
    built.unwrap_or_else(|err| panic!("token instruction: {err}"))
}

async fn send(chain: &RpcChain, what: &str, ixs: &[Instruction], signers: &[&Keypair]) {
    chain.send(ixs, signers).await.unwrap_or_else(|err| panic!("{what}: {err}"));
}

/// A token account of `owner` for `mint`, paid by `payer`, holding `amount`.
async fn token_account(chain: &RpcChain, payer: &Keypair, mint: &Pubkey, owner: &Pubkey, amount: u64) -> Pubkey {
    let account = Keypair::new();
    let len = spl_token_2022::state::Account::LEN;
    let mut ixs = vec![
        system_instruction::create_account(
            &payer.pubkey(),
            &account.pubkey(),
            Rent::default().minimum_balance(len),
            len as u64,
            &TOKEN,
        ),
        token(spl_token_2022::instruction::initialize_account3(&TOKEN, &account.pubkey(), mint, owner)),
    ];
    if amount > 0 {
        ixs.push(token(spl_token_2022::instruction::mint_to(
            &TOKEN,
            mint,
            &account.pubkey(),
            &payer.pubkey(),
            &[],
            amount,
        )));
    }
    send(chain, "token account", &ixs, &[payer, &account]).await;
    account.pubkey()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_honest_job_on_a_real_local_node() {
    let Some(node) = localnet::Localnet::start() else { return };
    let mut rpc = RpcChainConfig::new(Cluster::custom(&node.rpc_url, &node.ws_url).unwrap());
    rpc.send.resend_interval = Duration::from_millis(200);
    rpc.backoff = Backoff { first: Duration::from_millis(50), max: Duration::from_millis(400), attempts: 6 };
    let chain = Arc::new(RpcChain::connect(rpc).await.unwrap_or_else(|err| panic!("{err}")));

    // The market's authority pays for everything and holds the mint.
    let authority = Keypair::new();
    let worker = Arc::new(Keypair::new());
    let stake_wallet = Keypair::new();
    let client = Keypair::new();
    for who in [&authority.pubkey(), &worker.pubkey(), &stake_wallet.pubkey(), &client.pubkey()] {
        chain.request_airdrop(who, 10 * SOL).await.unwrap_or_else(|err| panic!("airdrop: {err}"));
    }
    let mint = Keypair::new();
    let mint_len = spl_token_2022::state::Mint::LEN;
    let create_mint = [
        system_instruction::create_account(
            &authority.pubkey(),
            &mint.pubkey(),
            Rent::default().minimum_balance(mint_len),
            mint_len as u64,
            &TOKEN,
        ),
        token(spl_token_2022::instruction::initialize_mint2(&TOKEN, &mint.pubkey(), &authority.pubkey(), None, 6)),
    ];
    send(&chain, "mint", &create_mint, &[&authority, &mint]).await;
    let mint = mint.pubkey();
    let tokens =
        MarketTokens { stake_mint: mint, stake_token_program: TOKEN, payment_mint: mint, payment_token_program: TOKEN };
    let keys = MarketKeys {
        market: pda::market(&authority.pubkey(), 1),
        stake_mint: mint,
        stake_token_program: TOKEN,
        payment_mint: mint,
        payment_token_program: TOKEN,
    };
    let market = keys.market;
    send(&chain, "market_create", &[ix::market_create(&authority.pubkey(), 1, &tokens, params())], &[&authority]).await;
    let oracles: Vec<Keypair> = (0..3).map(|_| Keypair::new()).collect();
    for oracle in &oracles {
        chain.request_airdrop(&oracle.pubkey(), SOL).await.unwrap();
    }
    let set = ix::market_set_oracles(&authority.pubkey(), &market, oracles.iter().map(|o| o.pubkey()).collect(), 2);
    send(&chain, "market_set_oracles", &[set], &[&authority]).await;

    let dir = tempfile::tempdir().unwrap();
    let model_bytes = tiny_gguf(&TinySpec::default(), GgmlType::F32);
    let model_path = dir.path().join("tiny.gguf");
    std::fs::write(&model_path, &model_bytes).unwrap();
    let model_id = spotcheck_engine::model::model_id(&model_bytes);
    let terms = ModelTerms { price_per_token: 10, max_tokens: 64, uri: "test:tiny".into() };
    send(
        &chain,
        "model_register",
        &[ix::model_register(&authority.pubkey(), &market, model_id, "llama", terms)],
        &[&authority],
    )
    .await;

    let register = ix::provider_register(&stake_wallet.pubkey(), &market, &worker.pubkey(), "http://127.0.0.1:0");
    send(&chain, "provider_register", &[register], &[&stake_wallet]).await;
    let stake_source = token_account(&chain, &authority, &mint, &stake_wallet.pubkey(), 100_000_000).await;
    send(
        &chain,
        "provider_stake",
        &[ix::provider_stake(&stake_wallet.pubkey(), &keys, &stake_source, 50_000_000)],
        &[&stake_wallet],
    )
    .await;
    let payout = token_account(&chain, &authority, &mint, &stake_wallet.pubkey(), 0).await;
    let client_token = token_account(&chain, &authority, &mint, &client.pubkey(), 10_000_000).await;

    let provider = pda::provider(&market, &stake_wallet.pubkey());
    let mut config = Config::new(market, provider, worker.clone(), vec![model_path], dir.path().join("data"));
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

    let balances = |accounts: Vec<Pubkey>| {
        let chain = chain.clone();
        async move {
            let mut total = 0u64;
            for account in chain.accounts(&accounts).await.unwrap().into_iter().flatten() {
                total += spl_token_2022::state::Account::unpack(&account.data[..spl_token_2022::state::Account::LEN])
                    .unwrap()
                    .amount;
            }
            total
        }
    };
    let in_play = vec![pda::stake_vault(&market), pda::escrow_vault(&market), stake_source, payout, client_token];
    let total = balances(in_play.clone()).await;

    let args = JobSubmitArgs { prompt: "Hello there, what is in the sea?".into(), token_budget: 16, max_price: 160 };
    let submit = ix::job_submit(&client.pubkey(), &keys, &pda::model(&market, &model_id), 0, &client_token, args);
    let submitted_at = Instant::now();
    send(&chain, "job_submit", &[submit], &[&client]).await;
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
    assert_eq!(balances(vec![payout]).await, 160 - fee, "the provider is paid price minus fee");
    assert_eq!(balances(in_play).await, total, "tokens appeared or vanished");
    shutdown.cancel();
    daemon.await.unwrap().unwrap();
}
