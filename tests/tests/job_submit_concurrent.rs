//! Many clients at once (issue 10 §3, SPEC §2 "A job's address must not
//! depend on shared mutable state"). On a real cluster, clients build their
//! `job_submit` from whatever chain state they last saw, and several build
//! from the same one. A job's address is `[JOB_SEED, market, client, nonce]`,
//! so nothing they build depends on what the others do.

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_message::Message;
use solana_signer::Signer;
use solana_transaction::Transaction;
use spotcheck::instructions::JobSubmitArgs;
use spotcheck::state::{Job, Market};
use spotcheck_client::instructions as ix;
use spotcheck_client::pda;
use spotcheck_tests::TestEnv;
use spotcheck_tests::jobs::{BUDGET, CLIENT_FUNDS, JobWorld, PRICE, rarely_sampled_params};

/// A signed `job_submit` for `client`, built from `blockhash` alone: no
/// account is read.
fn signed_submit(
    env: &TestEnv,
    world: &JobWorld,
    client: &Keypair,
    client_token: &Pubkey,
    nonce: u64,
    blockhash: solana_hash::Hash,
) -> Transaction {
    let submit = ix::job_submit(
        &client.pubkey(),
        &world.market.keys(),
        &world.model,
        nonce,
        client_token,
        JobSubmitArgs { prompt: format!("question {nonce}"), token_budget: BUDGET, max_price: PRICE },
    );
    let message = Message::new(&[submit], Some(&env.payer.pubkey()));
    Transaction::new(&[&env.payer, client], message, blockhash)
}

#[test]
fn clients_submitting_from_the_same_chain_state_all_land() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(90, rarely_sampled_params());
    let mut clients = vec![(world.client.insecure_clone(), world.client_token)];
    for _ in 0..4 {
        let client = env.wallet();
        let token = env.funded_token_account(world.market.payment, &client.pubkey(), CLIENT_FUNDS);
        clients.push((client, token));
    }
    let jobs_before = env.account::<Market>(&world.market.market).job_count;

    // Everyone builds from one snapshot (one blockhash, no reads); the first
    // client also sends a second job with another nonce in the same block.
    let blockhash = env.svm.latest_blockhash();
    let mut transactions = Vec::new();
    let mut expected = Vec::new();
    for (i, (client, token)) in clients.iter().enumerate() {
        let nonce = 1_000 + i as u64;
        transactions.push(signed_submit(&env, &world, client, token, nonce, blockhash));
        expected.push((pda::job(&world.market.market, &client.pubkey(), nonce), client.pubkey(), nonce));
    }
    let (first, first_token) = &clients[0];
    transactions.push(signed_submit(&env, &world, first, first_token, 7, blockhash));
    expected.push((pda::job(&world.market.market, &first.pubkey(), 7), first.pubkey(), 7));

    for tx in transactions {
        env.svm.send_transaction(tx).unwrap_or_else(|failed| panic!("a submission collided: {:?}", failed.err));
    }
    for (job, client, nonce) in &expected {
        let stored: Job = env.account(job);
        assert_eq!((stored.client, stored.nonce, stored.price), (*client, *nonce, PRICE));
    }
    let market: Market = env.account(&world.market.market);
    assert_eq!(market.job_count, jobs_before + expected.len() as u64);
    assert_eq!(env.balance(&world.market.escrow_vault), PRICE * expected.len() as u64);
    env.assert_conservation(&world.market);
}

#[test]
fn a_client_reusing_a_nonce_is_refused_and_pays_nothing() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(91, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let first = TestEnv::submit_job_ix_at(&world, 5, "first", BUDGET, PRICE);
    env.send("job_submit", &[first], &[&world.client]).expect("first");
    let before = env.balances(&world.token_accounts());
    let again = TestEnv::submit_job_ix_at(&world, 5, "second", BUDGET, PRICE);
    spotcheck_tests::expect_failure(env.send("job_submit same nonce", &[again], &[&world.client]));
    assert_eq!(env.balances(&world.token_accounts()), before, "no second escrow");
    assert_eq!(env.account::<Job>(&world.job_address(5)).prompt, "first", "the first job is untouched");
    // Another client may use the same nonce: the address is its own.
    let other = env.wallet();
    let other_token = env.funded_token_account(world.market.payment, &other.pubkey(), CLIENT_FUNDS);
    let blockhash = env.svm.latest_blockhash();
    let tx = signed_submit(&env, &world, &other, &other_token, 5, blockhash);
    env.svm.send_transaction(tx).expect("another client's nonce 5");
    env.assert_conservation(&world.market);
    assert_eq!(env.total_tokens(&world) + env.balance(&other_token), total + CLIENT_FUNDS);
}
