//! `RpcChain` against a scripted fake node on port 0: a node that is down,
//! rate-limits, hangs, errs, or lacks the program; and the send loop's
//! promises (re-send the same signed transaction until its blockhash
//! expires, only then re-sign; `AlreadyProcessed` is success; a refusal
//! sends nothing) checked call by call.

mod fake_node;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use fake_node::{FakeNode, Reply, program_account, signature_and_blockhash, with_context};
use serde_json::{Value, json};
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck_client::chain::{Backoff, Chain, ChainError, Cluster, Confirmed, RpcChain, RpcChainConfig};

fn config(url: &str) -> RpcChainConfig {
    let mut config = RpcChainConfig::new(url.parse::<Cluster>().unwrap());
    config.backoff = Backoff { first: Duration::from_millis(40), max: Duration::from_secs(1), attempts: 4 };
    config.request_timeout = Duration::from_secs(5);
    config.send.resend_interval = Duration::from_millis(5);
    config.send.poll_interval = Duration::from_millis(1);
    config.send.confirm_timeout = Duration::from_secs(10);
    config
}

/// A node with the program that answers `getSlot` with `slot`.
fn serving_slot(method: &str, slot: Value) -> Reply {
    match method {
        "getAccountInfo" => Reply::Result(program_account()),
        "getSlot" => Reply::Result(slot),
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn a_node_that_is_down_is_unreachable_and_retryable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let err = RpcChain::connect(config(&url)).await.err().expect("nothing listens there");
    assert!(matches!(err, ChainError::Unreachable { .. }), "{err}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains(&url), "{err}");
}

#[tokio::test]
async fn rate_limiting_is_retried_with_backoff_then_reported_as_retryable() {
    let node = FakeNode::start(|method, _| match method {
        "getSlot" => Reply::Status { code: 429, retry_after: None },
        other => serving_slot(other, json!(0)),
    })
    .await;
    let chain = RpcChain::connect(config(&node.url())).await.unwrap();
    let started = std::time::Instant::now();
    let err = chain.slot().await.expect_err("always 429");
    assert!(matches!(err, ChainError::RateLimited { .. }) && err.is_retryable(), "{err}");
    assert_eq!(node.count("getSlot"), 4, "the configured four attempts, no hidden retries");
    // Jittered waits of at least 20 + 40 + 80 ms.
    assert!(started.elapsed() >= Duration::from_millis(140), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_rate_limit_that_lifts_is_invisible_to_the_caller() {
    let calls = AtomicUsize::new(0);
    let node = FakeNode::start(move |method, _| match method {
        "getSlot" if calls.fetch_add(1, Ordering::SeqCst) < 2 => Reply::Status { code: 429, retry_after: Some(0) },
        other => serving_slot(other, json!(4242)),
    })
    .await;
    let chain = RpcChain::connect(config(&node.url())).await.unwrap();
    assert_eq!(chain.slot().await.unwrap(), 4242);
    assert_eq!(node.count("getSlot"), 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let node = FakeNode::start(|method, _| match method {
        "getSlot" => Reply::Status { code: 429, retry_after: Some(1) },
        other => serving_slot(other, json!(0)),
    })
    .await;
    let mut config = config(&node.url());
    config.backoff.attempts = 2;
    let chain = RpcChain::connect(config).await.unwrap();
    let started = std::time::Instant::now();
    let err = chain.slot().await.expect_err("always 429");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
}

#[tokio::test(start_paused = true)]
async fn a_node_that_hangs_times_out_retryably() {
    let node = FakeNode::start(|_, _| Reply::Hang).await;
    let started = tokio::time::Instant::now();
    let err = RpcChain::connect(config(&node.url())).await.err().expect("no answer");
    assert!(matches!(err, ChainError::Timeout { .. }) && err.is_retryable(), "{err}");
    // Four attempts of 5 s each, plus the waits between them (virtual time).
    assert!(started.elapsed() >= Duration::from_secs(20), "{:?}", started.elapsed());
}

#[tokio::test]
async fn server_errors_are_retryable_and_client_errors_are_not() {
    let node = FakeNode::start(|method, _| match method {
        "getSlot" => Reply::Status { code: 503, retry_after: None },
        "getSignaturesForAddress" => Reply::Status { code: 403, retry_after: None },
        "getMultipleAccounts" => {
            Reply::Error { code: -32005, message: "Node is behind".into(), data: json!({"numSlotsBehind": 12}) }
        }
        other => serving_slot(other, json!(0)),
    })
    .await;
    let chain = RpcChain::connect(config(&node.url())).await.unwrap();
    let err = chain.slot().await.expect_err("503");
    assert!(matches!(err, ChainError::NodeUnhealthy { .. }) && err.is_retryable(), "{err}");
    assert_eq!(node.count("getSlot"), 4);

    let forbidden = chain.latest_cursor().await.expect_err("403");
    assert!(matches!(forbidden, ChainError::Rpc { code: 403, .. }) && !forbidden.is_retryable(), "{forbidden}");
    assert_eq!(node.count("getSignaturesForAddress"), 1, "a fatal error is not retried");

    let behind = chain.accounts(&[Pubkey::new_unique()]).await.expect_err("behind");
    assert!(matches!(behind, ChainError::NodeUnhealthy { .. }) && behind.is_retryable(), "{behind}");
    assert!(behind.to_string().contains("12 slots behind"), "{behind}");
}

#[tokio::test]
async fn a_cluster_without_the_program_is_fatal_and_named() {
    let node = FakeNode::start(|_, _| Reply::Result(with_context(Value::Null))).await;
    let err = RpcChain::connect(config(&node.url())).await.err().expect("no program there");
    assert!(matches!(err, ChainError::ProgramNotDeployed { .. }) && !err.is_retryable(), "{err}");
    let message = err.to_string();
    assert!(message.contains(&node.url()) && message.contains(&spotcheck_client::PROGRAM_ID.to_string()), "{message}");

    let node = FakeNode::start(|_, _| {
        Reply::Result(with_context(json!({
            "data": ["", "base64"], "executable": false, "lamports": 1,
            "owner": "11111111111111111111111111111111", "rentEpoch": 0, "space": 0,
        })))
    })
    .await;
    let err = RpcChain::connect(config(&node.url())).await.err().expect("not a program");
    assert!(matches!(err, ChainError::ProgramNotDeployed { .. }), "{err}");
}

// --- the send loop -------------------------------------------------------

fn blockhash(n: u8) -> String {
    solana_hash::Hash::new_from_array([n + 1; 32]).to_string()
}

fn confirmed_status(slot: u64) -> Value {
    json!({"slot": slot, "confirmations": 1, "err": null, "status": {"Ok": null}, "confirmationStatus": "confirmed"})
}

/// What the scripted node knows; `on` decides the answers that differ per test.
#[derive(Default)]
struct Script {
    /// `getLatestBlockhash` calls so far: the n-th call hands out `blockhash(n)`.
    blockhashes_given: u8,
    /// `(signature, blockhash)` of every `sendTransaction`, in order.
    sent: Vec<(String, String)>,
    /// Answer every send after the first with "already processed".
    already_processed: bool,
    /// What `simulateTransaction` reports as the error, if anything.
    simulation_error: Option<Value>,
    /// The node has said that the first blockhash is no longer valid.
    expiry_told: bool,
}

const LAST_VALID: u64 = 100;

/// The answers every send-loop test shares; `None` lets the test decide.
fn common(script: &Mutex<Script>, method: &str, params: &Value) -> Option<Reply> {
    let mut script = script.lock().unwrap();
    Some(match method {
        "getAccountInfo" => Reply::Result(program_account()),
        "getRecentPrioritizationFees" => Reply::Result(json!([{"slot": 1, "prioritizationFee": 500}])),
        "getLatestBlockhash" => {
            let n = script.blockhashes_given;
            script.blockhashes_given += 1;
            Reply::Result(with_context(json!({"blockhash": blockhash(n), "lastValidBlockHeight": LAST_VALID})))
        }
        "simulateTransaction" => Reply::Result(with_context(json!({
            "err": script.simulation_error,
            "logs": ["Program log: AnchorError occurred. Error Code: QuorumNotMajority. Error Number: 6012. Error Message: no majority."],
            "accounts": null, "unitsConsumed": 5_000, "returnData": null,
        }))),
        "sendTransaction" => {
            let (signature, blockhash) = signature_and_blockhash(params);
            script.sent.push((signature.clone(), blockhash));
            if script.already_processed && script.sent.len() > 1 {
                return Some(Reply::Error {
                    code: -32002,
                    message: "Transaction simulation failed: This transaction has already been processed".into(),
                    data: json!({"err": "AlreadyProcessed", "logs": [], "accounts": null, "unitsConsumed": 0}),
                });
            }
            Reply::Result(json!(signature))
        }
        _ => return None,
    })
}

async fn scripted(
    on: impl Fn(&mut Script, &str, &Value) -> Reply + Send + Sync + 'static,
) -> (FakeNode, Arc<Mutex<Script>>) {
    scripted_from(Script::default(), on).await
}

async fn scripted_from(
    script: Script,
    on: impl Fn(&mut Script, &str, &Value) -> Reply + Send + Sync + 'static,
) -> (FakeNode, Arc<Mutex<Script>>) {
    let script = Arc::new(Mutex::new(script));
    let state = script.clone();
    let node = FakeNode::start(move |method, params| {
        common(&state, method, params).unwrap_or_else(|| on(&mut state.lock().unwrap(), method, params))
    })
    .await;
    (node, script)
}

fn an_instruction(payer: &Keypair) -> anchor_lang::solana_program::instruction::Instruction {
    spotcheck_client::instructions::market_set_paused(&payer.pubkey(), &Pubkey::new_unique(), true)
}

/// Connects to `config`'s node and sends one transaction through it.
async fn send_one(config: RpcChainConfig) -> Result<Confirmed, ChainError> {
    let chain = RpcChain::connect(config).await?;
    let payer = Keypair::new();
    chain.send(&[an_instruction(&payer)], &[&payer]).await
}

/// A `getSignatureStatuses` answer: the status, or "unknown".
fn status_reply(status: Option<Value>) -> Reply {
    Reply::Result(with_context(json!([status.unwrap_or(Value::Null)])))
}

#[tokio::test]
async fn the_same_transaction_is_resent_until_its_blockhash_expires_and_only_then_re_signed() {
    let (node, script) = scripted(|script, method, params| {
        let first_hash_sends = script.sent.iter().filter(|(_, hash)| *hash == blockhash(0)).count();
        match method {
            // The chain passes the first blockhash's last valid height after its third send.
            "getBlockHeight" => {
                Reply::Result(json!(if first_hash_sends >= 3 { LAST_VALID + 1 } else { LAST_VALID - 10 }))
            }
            "isBlockhashValid" => {
                Reply::Result(with_context(json!(params[0] != json!(blockhash(0)) || first_hash_sends < 3)))
            }
            // Only the second signing ever lands.
            "getSignatureStatuses" => {
                let asked = params[0][0].clone();
                let lands =
                    script.sent.iter().any(|(signature, hash)| json!(signature) == asked && *hash == blockhash(1));
                status_reply(lands.then(|| confirmed_status(77)))
            }
            other => panic!("unexpected {other}"),
        }
    })
    .await;
    let confirmed = send_one(config(&node.url())).await.unwrap_or_else(|err| panic!("{err}"));

    let sent = script.lock().unwrap().sent.clone();
    let first: Vec<&(String, String)> = sent.iter().filter(|(_, hash)| *hash == blockhash(0)).collect();
    let second: Vec<&(String, String)> = sent.iter().filter(|(_, hash)| *hash == blockhash(1)).collect();
    assert!(first.len() >= 3, "re-sent while the blockhash was valid: {sent:?}");
    assert!(first.iter().all(|(signature, _)| *signature == first[0].0), "always the same signed bytes");
    assert!(!second.is_empty() && second.iter().all(|(signature, _)| *signature == second[0].0));
    assert_ne!(first[0].0, second[0].0);
    let switch = sent.iter().position(|(_, hash)| *hash == blockhash(1)).unwrap();
    assert!(sent[switch..].iter().all(|(_, hash)| *hash == blockhash(1)), "never back to the expired one: {sent:?}");
    assert_eq!(confirmed.signature.to_string(), second[0].0);
    assert_eq!((confirmed.slot, confirmed.signings, confirmed.sends as usize), (77, 2, sent.len()));

    // Re-signed only after the node said the first blockhash is gone.
    let methods = node.methods();
    let second_hash = methods.iter().enumerate().filter(|(_, m)| *m == "getLatestBlockhash").nth(1).unwrap().0;
    assert!(methods[..second_hash].contains(&"isBlockhashValid".to_string()), "{methods:?}");
    assert_eq!(node.count("simulateTransaction"), 2, "each signing is simulated before it is sent");
}

#[tokio::test]
async fn a_copy_that_lands_in_the_last_valid_block_is_not_signed_again() {
    let (node, _script) = scripted(|script, method, _| {
        let sends = script.sent.len();
        match method {
            "getBlockHeight" => Reply::Result(json!(if sends >= 2 { LAST_VALID + 1 } else { LAST_VALID })),
            "isBlockhashValid" => {
                script.expiry_told |= sends >= 2;
                Reply::Result(with_context(json!(sends < 2)))
            }
            // Unknown while it is being re-sent; found right after the node said the blockhash expired.
            "getSignatureStatuses" => status_reply(script.expiry_told.then(|| confirmed_status(99))),
            other => panic!("unexpected {other}"),
        }
    })
    .await;
    let confirmed = send_one(config(&node.url())).await.unwrap_or_else(|err| panic!("{err}"));
    assert_eq!((confirmed.signings, confirmed.slot), (1, 99));
    assert_eq!(node.count("getLatestBlockhash"), 1, "no second signing");
}

#[tokio::test]
async fn already_processed_means_an_earlier_copy_landed() {
    let script = Script { already_processed: true, ..Script::default() };
    let (node, script) = scripted_from(script, |script, method, _| match method {
        "getBlockHeight" => Reply::Result(json!(1)),
        "isBlockhashValid" => Reply::Result(with_context(json!(true))),
        "getSignatureStatuses" => {
            let landed = script.sent.len() >= 3;
            status_reply(landed.then(|| confirmed_status(5)))
        }
        other => panic!("unexpected {other}"),
    })
    .await;
    let confirmed = send_one(config(&node.url())).await.unwrap_or_else(|err| panic!("{err}"));
    let sent = script.lock().unwrap().sent.clone();
    assert_eq!(confirmed.signings, 1);
    assert_eq!(confirmed.sends as usize, sent.len());
    assert!(sent.len() >= 3 && sent.iter().all(|(signature, _)| *signature == sent[0].0), "{sent:?}");
}

#[tokio::test]
async fn a_simulation_refusal_is_typed_and_sends_nothing() {
    let script =
        Script { simulation_error: Some(json!({"InstructionError": [1, {"Custom": 6012}]})), ..Script::default() };
    let (node, script) = scripted_from(script, |_, method, _| panic!("unexpected {method}")).await;
    let err = send_one(config(&node.url())).await.expect_err("refused");
    let refusal = err.refusal().expect("a refusal");
    // The price instruction in front is not counted: the caller's first instruction failed.
    assert_eq!((refusal.instruction, refusal.program_error, refusal.landed), (Some(0), Some(6012), None));
    assert!(refusal.message.as_deref().is_some_and(|message| message.contains("QuorumNotMajority")));
    assert!(!err.is_retryable());
    assert_eq!(node.count("sendTransaction"), 0);
    assert!(script.lock().unwrap().sent.is_empty());
}

#[tokio::test]
async fn the_priority_fee_comes_from_recent_fees_within_bounds() {
    let (node, script) = scripted(|_, method, _| match method {
        "getSignatureStatuses" => status_reply(Some(confirmed_status(3))),
        other => panic!("unexpected {other}"),
    })
    .await;
    let mut config = config(&node.url());
    config.send.priority_fee.max_micro_lamports = 300;
    send_one(config).await.unwrap();
    let wire = {
        use base64::Engine;
        let params = node.params_of("sendTransaction");
        base64::engine::general_purpose::STANDARD.decode(params[0][0].as_str().unwrap()).unwrap()
    };
    // SetComputeUnitPrice (tag 3) of 300: the node's 500 clamped to the bound.
    let mut price = vec![3u8];
    price.extend_from_slice(&300u64.to_le_bytes());
    assert!(wire.windows(price.len()).any(|window| window == price), "no clamped price instruction");
    // SetComputeUnitLimit (tag 2) of 5,000 simulated units + 20 % + 1,000.
    let mut limit = vec![2u8];
    limit.extend_from_slice(&7_000u32.to_le_bytes());
    assert!(wire.windows(limit.len()).any(|window| window == limit), "no unit limit from the simulation");
    assert_eq!(script.lock().unwrap().sent.len(), 1);
}

#[tokio::test]
async fn a_transaction_that_lands_and_fails_is_a_refusal_with_its_fee_paid() {
    let (node, _script) = scripted(|_, method, _| match method {
        "getSignatureStatuses" => Reply::Result(with_context(json!([{
            "slot": 8, "confirmations": 1, "err": {"InstructionError": [2, {"Custom": 6001}]},
            "status": {"Err": {"InstructionError": [2, {"Custom": 6001}]}}, "confirmationStatus": "confirmed",
        }]))),
        "getTransaction" => Reply::Result(Value::Null),
        other => panic!("unexpected {other}"),
    })
    .await;
    let err = send_one(config(&node.url())).await.expect_err("failed on chain");
    let refusal = err.refusal().expect("a refusal");
    assert!(refusal.landed.is_some(), "{err}");
    // Two budget instructions (limit, price) in front of the caller's one.
    assert_eq!((refusal.instruction, refusal.program_error), (Some(0), Some(6001)));
    assert!(err.to_string().contains("fee was paid"), "{err}");
    assert_eq!(node.count("getLatestBlockhash"), 1, "a landed failure is never re-signed");
}

#[tokio::test]
async fn losing_the_node_after_sending_is_in_doubt_never_a_blind_retry() {
    let (node, _script) = scripted(|_, method, _| match method {
        "getSignatureStatuses" | "getBlockHeight" | "isBlockhashValid" => {
            Reply::Status { code: 503, retry_after: None }
        }
        other => panic!("unexpected {other}"),
    })
    .await;
    let mut config = config(&node.url());
    config.send.confirm_timeout = Duration::from_millis(200);
    let err = send_one(config).await.expect_err("never confirmed");
    assert!(matches!(err, ChainError::InDoubt { .. }), "{err}");
    assert!(!err.is_retryable(), "re-sending blindly could post twice");
    assert_eq!(node.count("getLatestBlockhash"), 1, "no second signing while the first may still land");
}
