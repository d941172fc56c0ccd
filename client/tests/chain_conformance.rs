//! The conformance body (`conformance/mod.rs`) against both implementations
//! of `Chain`: the embedded LiteSVM chain, and a real local node (Surfpool,
//! started by `scripts/localnet.sh`) over JSON-RPC and PubSub. The RPC tier
//! adds what only a network has: a wrong cluster, a node that goes down and
//! comes back, re-sends of one signed transaction.

mod conformance;

use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use conformance::localnet::Localnet;
use conformance::proxy::Proxy;
use conformance::{FUNDS, Faucet, Follower, Report, program};
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck_client::chain::{Backoff, Chain, ChainError, Cluster, FeedConfig, RpcChain, RpcChainConfig};
use spotcheck_localchain::{LocalChain, SharedLocalChain};

fn local_chain() -> SharedLocalChain {
    let program = spotcheck_localchain::default_program_path();
    SharedLocalChain::new(LocalChain::new(&program).unwrap_or_else(|err| panic!("{err}")))
}

#[tokio::test]
async fn the_embedded_chain_conforms() {
    let chain = local_chain();
    let faucet_chain = chain.clone();
    let fund: Faucet = Box::new(move |to: Pubkey| {
        let chain = faucet_chain.clone();
        Box::pin(async move { chain.lock().airdrop(&to, FUNDS).unwrap_or_else(|err| panic!("{err}")) })
    });
    let report = conformance::run(Arc::new(chain), fund).await;
    assert_eq!(report.max_sends, 1, "in-process, every transaction is sent once");
}

#[tokio::test]
async fn embedded_slots_advance_on_demand() {
    let chain = local_chain();
    let before = chain.slot().await.unwrap();
    chain.advance_slots(25);
    assert_eq!(chain.slot().await.unwrap(), before + 25);
}

/// RPC-tier settings: quick re-sends, so that a send meets its own copies
/// (the node must drop them), and a short backoff, so outages are tested fast.
fn rpc_config(cluster: Cluster) -> RpcChainConfig {
    let mut config = RpcChainConfig::new(cluster);
    config.send.resend_interval = Duration::from_millis(40);
    config.send.poll_interval = Duration::from_millis(20);
    config.request_timeout = Duration::from_secs(10);
    config.backoff = Backoff { first: Duration::from_millis(50), max: Duration::from_millis(400), attempts: 4 };
    config
}

async fn connect(rpc_url: &str, ws_url: &str) -> RpcChain {
    let cluster = Cluster::custom(rpc_url, ws_url).unwrap();
    RpcChain::connect(rpc_config(cluster)).await.unwrap_or_else(|err| panic!("{err}"))
}

fn airdrops(chain: Arc<RpcChain>) -> Faucet {
    Box::new(move |to: Pubkey| {
        let chain = chain.clone();
        Box::pin(async move {
            chain.request_airdrop(&to, FUNDS).await.unwrap_or_else(|err| panic!("airdrop: {err}"));
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_node_over_rpc_conforms() {
    let Some(node) = Localnet::start() else { return };
    let chain = Arc::new(connect(&node.rpc_url, &node.ws_url).await);
    let report: Report = conformance::run(chain.clone(), airdrops(chain.clone())).await;
    println!(
        "local node ({}): {} sends, median confirm {:?}, at most {} copies of one transaction sent",
        node.rpc_url,
        report.send_times.len(),
        report.median_send(),
        report.max_sends
    );
    assert!(report.max_sends > 1, "with a 40 ms re-send interval, some send should have re-sent its transaction");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_without_the_program_is_a_clear_fatal_error() {
    let Some(node) = Localnet::start() else { return };
    let elsewhere = Keypair::new().pubkey();
    let mut config = rpc_config(Cluster::custom(&node.rpc_url, &node.ws_url).unwrap());
    config.program_id = elsewhere;
    let err = RpcChain::connect(config).await.err().expect("the program is not deployed at a fresh address");
    assert!(matches!(err, ChainError::ProgramNotDeployed { .. }), "{err}");
    assert!(!err.is_retryable());
    let message = err.to_string();
    assert!(message.contains(&elsewhere.to_string()) && message.contains(&node.rpc_url), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_goes_down_gives_retryable_errors_and_the_feed_recovers() {
    let Some(node) = Localnet::start() else { return };
    let direct = Arc::new(connect(&node.rpc_url, &node.ws_url).await);
    let rpc_proxy = Proxy::start(address_of(&node.rpc_url)).await;
    let ws_proxy = Proxy::start(address_of(&node.ws_url)).await;
    let proxied = Arc::new(connect(&format!("http://{}", rpc_proxy.addr), &format!("ws://{}", ws_proxy.addr)).await);

    let authority = Keypair::new();
    direct.request_airdrop(&authority.pubkey(), FUNDS).await.unwrap();
    let (market, _) = program::create_market(&*direct, &authority).await.unwrap();
    let start = direct.latest_cursor().await.unwrap();
    let feed_config = FeedConfig { poll_interval: Duration::from_millis(300), ..FeedConfig::default() };
    let mut feed = Follower::start(proxied.clone(), start, feed_config);
    feed.expect_rescan().await;
    // An event through the feed: by then it has subscribed (a failed
    // subscription would have come out as an error first).
    let mut report = Report::default();
    let before =
        conformance::send(&*direct, &[program::set_paused(&authority, &market, false)], &[&authority], &mut report)
            .await;
    assert_eq!(feed.events(1).await[0].signature, before);

    // Down: every call is a typed, retryable error; the feed says so too.
    rpc_proxy.cut();
    ws_proxy.cut();
    let err = proxied.slot().await.expect_err("the node is unreachable");
    assert!(err.is_retryable(), "{err}");
    let mut outage = Vec::new();
    for _ in 0..2 {
        match feed.item(Duration::from_secs(10)).await {
            Some(Err(err)) => outage.push(err),
            other => panic!("expected the feed to report the outage, got {other:?}"),
        }
    }
    assert!(outage.iter().all(ChainError::is_retryable), "{outage:?}");
    assert!(outage.iter().any(|err| matches!(err, ChainError::WebsocketClosed { .. })), "{outage:?}");

    // While it is down, the chain moves on.
    let missed =
        conformance::send(&*direct, &[program::set_paused(&authority, &market, true)], &[&authority], &mut report)
            .await;

    // Back: the feed reconnects and catches up by itself.
    rpc_proxy.restore();
    ws_proxy.restore();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let events = loop {
        assert!(tokio::time::Instant::now() < deadline, "the feed did not recover");
        match feed.item(Duration::from_secs(30)).await {
            Some(Ok(spotcheck_client::chain::FeedItem::Events(page))) if !page.events.is_empty() => break page.events,
            Some(Ok(_)) => {}
            Some(Err(err)) => assert!(err.is_retryable(), "only retryable errors while recovering: {err}"),
            None => panic!("the feed stopped"),
        }
    };
    assert_eq!(events.iter().map(|event| event.signature).collect::<Vec<_>>(), vec![missed]);
    assert!(proxied.slot().await.is_ok());
    feed.stop().await;
}

fn address_of(url: &str) -> std::net::SocketAddr {
    let url = url::Url::parse(url).unwrap();
    let host = url.host_str().unwrap();
    let port = url.port().unwrap();
    format!("{host}:{port}").parse().expect("the node listens on an IP address")
}

/// A transaction whose first instruction emits an event and whose second
/// fails: the whole transaction rolled back, so the event never happened.
/// (Surfpool's logs notifications carry no error for it: only the
/// transaction's status says so.)
fn emits_then_fails(
    authority: &Keypair,
    market: &Pubkey,
) -> Vec<anchor_lang::solana_program::instruction::Instruction> {
    vec![program::set_paused(authority, market, true), program::set_oracles(authority, market, program::oracles(3), 1)]
}

#[tokio::test]
async fn the_embedded_chain_drops_the_events_of_a_failed_transaction() {
    let chain = local_chain();
    let authority = Keypair::new();
    chain.lock().airdrop(&authority.pubkey(), FUNDS).unwrap();
    let (market, _) = program::create_market(&chain, &authority).await.unwrap();
    let cursor = chain.latest_cursor().await.unwrap();
    let failed = chain.lock().send_unrecorded(&emits_then_fails(&authority, &market), &[&authority]);
    assert!(failed.is_err());
    let page = chain.events_after(cursor.as_ref(), 10).await.unwrap();
    assert!(page.events.is_empty(), "{page:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_transactions_events_are_dropped_over_rpc() {
    use solana_rpc_client_api::config::RpcSendTransactionConfig;
    let Some(node) = Localnet::start() else { return };
    let chain = connect(&node.rpc_url, &node.ws_url).await;
    let authority = Keypair::new();
    chain.request_airdrop(&authority.pubkey(), FUNDS).await.unwrap();
    let (market, _) = program::create_market(&chain, &authority).await.unwrap();
    let cursor = chain.latest_cursor().await.unwrap();

    // Sent without simulation, as a careless client would: it lands and fails.
    let rpc = chain.rpc_client();
    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let tx = solana_transaction::Transaction::new_signed_with_payer(
        &emits_then_fails(&authority, &market),
        Some(&authority.pubkey()),
        &[&authority],
        blockhash,
    );
    let skip = RpcSendTransactionConfig { skip_preflight: true, ..RpcSendTransactionConfig::default() };
    let failed = rpc.send_transaction_with_config(&tx, skip).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status = rpc.get_signature_statuses(&[failed]).await.unwrap().value.remove(0);
        if let Some(status) = status.filter(|status| status.satisfies_commitment(chain.config().commitment)) {
            assert!(status.err.is_some(), "the second instruction must fail: {status:?}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the failed transaction never landed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut report = Report::default();
    let good =
        conformance::send(&chain, &[program::set_paused(&authority, &market, true)], &[&authority], &mut report).await;

    let page = chain.events_after(cursor.as_ref(), 10).await.unwrap();
    let signatures: Vec<_> = page.events.iter().map(|event| event.signature).collect();
    assert_eq!(signatures, vec![good], "the failed transaction's logged event is dropped");
    assert_eq!(page.cursor.map(|cursor| cursor.signature), Some(good));
}

#[test]
fn ready_lines_parse() {
    assert_eq!(
        conformance::localnet::parse_ready("READY rpc=http://127.0.0.1:1 ws=ws://127.0.0.1:2"),
        Some(("http://127.0.0.1:1".into(), "ws://127.0.0.1:2".into()))
    );
    assert_eq!(conformance::localnet::parse_ready("surfhost: loaded"), None);
    assert_eq!(conformance::localnet::parse_ready("READY rpc=http://x"), None);
}
