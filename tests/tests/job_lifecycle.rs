//! Jobs (issue 4): submit with escrow, cancel, claim with collateral, results
//! before the deadline, expiry, settlement. Every test ends with conservation:
//! vaults equal what the accounts hold, and no token appeared or vanished.

use anchor_lang::prelude::Pubkey;
use solana_signer::Signer;
use spotcheck::events::{JobCancelled, JobClaimed, JobExpired, JobResultSubmitted, JobSettled, JobSubmitted};
use spotcheck::state::{Job, JobStatus, MarketParams, ModelTerms, Provider, ProviderStatus, SampleDraw};
use spotcheck_client::instructions as ix;
use spotcheck_client::pda;
use spotcheck_localchain::tokens::{TOKEN, TOKEN_2022};
use spotcheck_tests::fixtures::default_params;
use spotcheck_tests::jobs::{
    BUDGET, JobWorld, OUTPUT_HASH, PRICE, PROVIDER_STAKE, RARELY_SAMPLED_RATIO_BPS, TRACE_ROOT, rarely_sampled_params,
};
use spotcheck_tests::{SpotcheckError, TestEnv, events, expect_error, expect_failure, swap_account};

const COLLATERAL_RARE: u64 = PRICE * RARELY_SAMPLED_RATIO_BPS as u64 / 10_000; // 15 000x
const FEE: u64 = (PRICE * 250).div_ceil(10_000); // 2.5 %, rounded up

fn provider(env: &TestEnv, world: &JobWorld) -> Provider {
    env.account(&world.provider.provider)
}

/// The whole honest path on the given token programs, with every balance checked.
fn honest_lifecycle(stake_program: Pubkey, payment_program: Pubkey) {
    let mut env = TestEnv::new();
    let world = env.job_world(11, stake_program, payment_program, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let client_lamports = env.lamports(&world.client.pubkey());
    let client_before = env.balance(&world.client_token);

    // Submit: the price moves into escrow in the same transaction.
    let nonce = 0x5eed;
    let job = pda::job(&world.market.market, &world.client.pubkey(), nonce);
    let submit = TestEnv::submit_job_ix_at(&world, nonce, "What is the capital of France?", BUDGET, PRICE);
    let meta = env.send("job_submit", &[submit], &[&world.client]).expect("job_submit");
    let event: JobSubmitted = events::single(&meta.logs);
    assert_eq!((event.job, event.nonce, event.price, event.token_budget), (job, nonce, PRICE, BUDGET));
    let stored: Job = env.account(&job);
    assert_eq!(stored.status, JobStatus::Open);
    assert_eq!(stored.prompt, "What is the capital of France?");
    assert_eq!(stored.prompt_hash, solana_sha256_hasher::hash(b"What is the capital of France?").to_bytes());
    assert_eq!(env.balance(&world.client_token), client_before - PRICE);
    assert_eq!(env.balance(&world.market.escrow_vault), PRICE);
    env.assert_job_conservation(&world, total);

    // Claim: collateral = price x 15 000 locked out of free stake.
    let meta = env.claim(&world, &job).expect("job_claim");
    let event: JobClaimed = events::single(&meta.logs);
    assert_eq!((event.collateral, event.result_deadline), (COLLATERAL_RARE, env.slot() + 150));
    assert_eq!(provider(&env, &world).locked, COLLATERAL_RARE);
    env.assert_job_conservation(&world, total);

    // Result, attestation by 2 of 3 oracles.
    env.warp_slots(10);
    let meta = env.submit_result(&world, &job).expect("job_submit_result");
    let event: JobResultSubmitted = events::single(&meta.logs);
    assert_eq!((event.output_hash, event.trace_root, event.token_count), (OUTPUT_HASH, TRACE_ROOT, 12));
    env.attest(&world, &job, 0, true).expect("attest");
    assert_eq!(env.account::<Job>(&job).status, JobStatus::Submitted, "one vote is not a quorum");
    let meta = env.attest(&world, &job, 2, true).expect("attest");
    let event: spotcheck::events::JobAttested = events::single(&meta.logs);
    assert_eq!((event.challenge_window_end, event.sample_slot), (env.slot() + 300, env.slot() + 300));
    assert_eq!(env.account::<Job>(&job).status, JobStatus::Attested);

    // The challenge window must close, and the draw from the slot it ends at
    // be revealed, before settlement.
    expect_error(env.settle(&world, &job), SpotcheckError::ChallengeWindowOpen);
    env.warp_slots(300);
    expect_error(env.settle(&world, &job), SpotcheckError::SampleNotRevealed);
    env.reveal(&job).expect("reveal");
    assert_eq!(env.account::<Job>(&job).sample, SampleDraw::Skipped);
    let meta = env.settle(&world, &job).expect("job_settle");
    let event: JobSettled = events::single(&meta.logs);
    assert_eq!((event.to_provider, event.fee, event.verified), (PRICE - FEE, FEE, false));

    assert!(!env.account_exists(&job), "the job account is closed");
    assert_eq!(env.lamports(&world.client.pubkey()), client_lamports, "the client's rent came back");
    assert_eq!(env.balance(&world.client_token), client_before - PRICE);
    assert_eq!(env.balance(&world.provider_payout), PRICE - FEE);
    let market: spotcheck::state::Market = env.account(&world.market.market);
    assert_eq!(market.treasury_payment, FEE, "the fee stays in the escrow vault as the treasury's");
    assert_eq!(env.balance(&world.market.escrow_vault), FEE);
    let stored = provider(&env, &world);
    assert_eq!((stored.staked, stored.locked, stored.jobs_completed), (PROVIDER_STAKE, 0, 1));
    env.assert_job_conservation(&world, total);
}

#[test]
fn honest_lifecycle_spl_token() {
    honest_lifecycle(TOKEN, TOKEN);
}

#[test]
fn honest_lifecycle_token_2022() {
    honest_lifecycle(TOKEN_2022, TOKEN_2022);
}

#[test]
fn honest_lifecycle_spl_stake_token_2022_payments() {
    honest_lifecycle(TOKEN, TOKEN_2022);
}

#[test]
fn jobs_keep_the_terms_they_were_submitted_under() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(12, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.submit_job(&world);
    // The authority raises the fee and the model price after submission.
    let update = ix::market_update(
        &world.market.authority.pubkey(),
        &world.market.market,
        MarketParams { fee_bps: 5_000, ..rarely_sampled_params() },
    );
    env.send("market_update", &[update], &[&world.market.authority]).expect("update");
    env.claim(&world, &job).expect("claim");
    env.submit_result(&world, &job).expect("result");
    env.attest(&world, &job, 0, true).expect("attest");
    env.attest(&world, &job, 1, true).expect("attest");
    env.reveal(&job).expect("reveal");
    let meta = env.settle(&world, &job).expect("settle");
    let event: JobSettled = events::single(&meta.logs);
    assert_eq!(event.fee, FEE, "the fee of the job's terms, not the new one");
    env.assert_job_conservation(&world, total);
}

// --- submit -------------------------------------------------------------------

#[test]
fn submit_refuses_bad_requests_and_moves_nothing() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(13, default_params());
    let total = env.total_tokens(&world);
    let before = env.balances(&world.token_accounts());
    let long_prompt = "x".repeat(513);
    let cases: Vec<(&str, u32, u64, SpotcheckError)> = vec![
        ("", BUDGET, PRICE, SpotcheckError::PromptLength),
        (&long_prompt, BUDGET, PRICE, SpotcheckError::PromptLength),
        ("hi", 0, PRICE, SpotcheckError::TokenBudgetOutOfRange),
        ("hi", 257, u64::MAX, SpotcheckError::TokenBudgetOutOfRange),
        ("hi", BUDGET, PRICE - 1, SpotcheckError::PriceAboveMax),
    ];
    for (prompt, budget, max_price, expected) in cases {
        let submit = env.submit_job_ix(&world, prompt, budget, max_price);
        expect_error(env.send(&format!("job_submit refused: {expected:?}"), &[submit], &[&world.client]), expected);
    }
    // A 512-byte prompt is the longest allowed (and the transaction still fits).
    let submit = env.submit_job_ix(&world, &"y".repeat(512), BUDGET, PRICE);
    env.send("job_submit 512-byte prompt", &[submit], &[&world.client]).expect("512 bytes fit");
    let mut expected = before.clone();
    let client_index = world.token_accounts().iter().position(|a| *a == world.client_token).expect("client");
    let escrow_index = world.token_accounts().iter().position(|a| *a == world.market.escrow_vault).expect("escrow");
    expected[client_index] -= PRICE;
    expected[escrow_index] += PRICE;
    assert_eq!(env.balances(&world.token_accounts()), expected);
    env.assert_job_conservation(&world, total);
}

#[test]
fn submit_refuses_price_overflow_retired_models_pauses_and_foreign_models() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(14, default_params());
    let total = env.total_tokens(&world);
    let authority = world.market.authority.pubkey();

    let huge = ModelTerms { price_per_token: u64::MAX / 2, ..spotcheck_tests::fixtures::default_terms() };
    let update = ix::model_update(&authority, &world.market.market, &world.model, huge.clone(), true);
    env.send("model_update", &[update], &[&world.market.authority]).expect("update");
    let submit = env.submit_job_ix(&world, "hi", 3, u64::MAX);
    expect_error(env.send("job_submit price overflow", &[submit], &[&world.client]), SpotcheckError::PriceOverflow);

    let retire = ix::model_update(&authority, &world.market.market, &world.model, huge, false);
    env.send("model_update retire", &[retire], &[&world.market.authority]).expect("retire");
    let submit = env.submit_job_ix(&world, "hi", BUDGET, u64::MAX);
    expect_error(env.send("job_submit retired model", &[submit], &[&world.client]), SpotcheckError::ModelInactive);

    let restore = ix::model_update(
        &authority,
        &world.market.market,
        &world.model,
        spotcheck_tests::fixtures::default_terms(),
        true,
    );
    env.send("model_update restore", &[restore], &[&world.market.authority]).expect("restore");
    let pause = ix::market_set_paused(&authority, &world.market.market, true);
    env.send("pause", &[pause], &[&world.market.authority]).expect("pause");
    let submit = env.submit_job_ix(&world, "hi", BUDGET, PRICE);
    expect_error(env.send("job_submit paused", &[submit], &[&world.client]), SpotcheckError::MarketPaused);
    let unpause = ix::market_set_paused(&authority, &world.market.market, false);
    env.send("unpause", &[unpause], &[&world.market.authority]).expect("unpause");

    let other = env.create_default_market();
    let foreign_model = env.register_model(&other);
    let mut submit = env.submit_job_ix(&world, "hi", BUDGET, PRICE);
    swap_account(&mut submit, world.model, foreign_model);
    expect_error(env.send("job_submit foreign model", &[submit], &[&world.client]), SpotcheckError::WrongMarket);

    assert_eq!(env.job_count(&world), 0, "no job was created");
    env.assert_job_conservation(&world, total);
}

#[test]
fn submit_refuses_wrong_token_accounts() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(15, default_params());
    let total = env.total_tokens(&world);
    // Someone else's payment tokens.
    let mut submit = env.submit_job_ix(&world, "hi", BUDGET, PRICE);
    swap_account(&mut submit, world.client_token, world.challenger_token);
    expect_error(env.send("job_submit foreign source", &[submit], &[&world.client]), SpotcheckError::WrongTokenOwner);
    // Tokens of another mint.
    let other_mint = env.create_mint(TOKEN);
    let wrong = env.funded_token_account(other_mint, &world.client.pubkey(), PRICE);
    let mut submit = env.submit_job_ix(&world, "hi", BUDGET, PRICE);
    swap_account(&mut submit, world.client_token, wrong);
    expect_error(env.send("job_submit wrong mint", &[submit], &[&world.client]), SpotcheckError::WrongMint);
    // Another market's escrow vault.
    let other = env.create_default_market();
    let mut submit = env.submit_job_ix(&world, "hi", BUDGET, PRICE);
    swap_account(&mut submit, world.market.escrow_vault, other.escrow_vault);
    expect_error(env.send("job_submit foreign vault", &[submit], &[&world.client]), SpotcheckError::WrongVault);
    assert_eq!(env.balance(&wrong), PRICE);
    env.assert_job_conservation(&world, total);
}

// --- cancel -------------------------------------------------------------------

#[test]
fn the_client_cancels_an_unclaimed_job_for_a_full_refund() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(16, default_params());
    let total = env.total_tokens(&world);
    let lamports = env.lamports(&world.client.pubkey());
    let before = env.balance(&world.client_token);
    let job = env.submit_job(&world);

    let stranger = env.wallet();
    let mut by_stranger = ix::job_cancel(&world.client.pubkey(), &world.market.keys(), &job, &world.client_token);
    by_stranger.accounts[0].pubkey = stranger.pubkey();
    expect_error(env.send("job_cancel by stranger", &[by_stranger], &[&stranger]), SpotcheckError::NotJobClient);

    let cancel = ix::job_cancel(&world.client.pubkey(), &world.market.keys(), &job, &world.client_token);
    let meta = env.send("job_cancel", std::slice::from_ref(&cancel), &[&world.client]).expect("job_cancel");
    let event: JobCancelled = events::single(&meta.logs);
    assert_eq!(event.refund, PRICE);
    assert!(!env.account_exists(&job));
    assert_eq!(env.balance(&world.client_token), before);
    assert_eq!(env.lamports(&world.client.pubkey()), lamports, "rent refunded");
    expect_failure(env.send("job_cancel twice", &[cancel], &[&world.client]));
    env.assert_job_conservation(&world, total);
}

#[test]
fn a_claimed_job_cannot_be_cancelled() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(17, default_params());
    let total = env.total_tokens(&world);
    let job = env.submit_job(&world);
    env.claim(&world, &job).expect("claim");
    let cancel = ix::job_cancel(&world.client.pubkey(), &world.market.keys(), &job, &world.client_token);
    expect_error(env.send("job_cancel claimed", &[cancel], &[&world.client]), SpotcheckError::WrongJobStatus);
    assert_eq!(env.account::<Job>(&job).status, JobStatus::Claimed);
    env.assert_job_conservation(&world, total);
}

// --- claim ----------------------------------------------------------------------

#[test]
fn claim_refuses_twice_wrong_workers_and_foreign_providers() {
    let mut env = TestEnv::new();
    let mut world = env.default_job_world(18, default_params());
    let total = env.total_tokens(&world);
    let job = env.submit_job(&world);

    // The stake wallet is not the worker key.
    let by_stake_wallet =
        ix::job_claim(&world.provider.stake_wallet.pubkey(), &world.market.market, &world.provider.provider, &job);
    expect_error(
        env.send("job_claim by stake wallet", &[by_stake_wallet], &[&world.provider.stake_wallet]),
        SpotcheckError::NotJobWorker,
    );
    // A provider of another market.
    let mut other = env.create_default_market();
    let foreign = env.register_provider(&mut other);
    env.airdrop(&foreign.worker.pubkey(), 1_000_000_000).expect("airdrop");
    let foreign_claim = ix::job_claim(&foreign.worker.pubkey(), &world.market.market, &foreign.provider, &job);
    expect_error(
        env.send("job_claim foreign provider", &[foreign_claim], &[&foreign.worker]),
        SpotcheckError::WrongMarket,
    );

    env.claim(&world, &job).expect("claim");
    expect_error(env.claim(&world, &job), SpotcheckError::WrongJobStatus);
    // A second provider of this market can't take it either.
    let second = env.register_provider(&mut world.market);
    env.stake(&world.market, &second, PROVIDER_STAKE);
    env.airdrop(&second.worker.pubkey(), 1_000_000_000).expect("airdrop");
    let steal = ix::job_claim(&second.worker.pubkey(), &world.market.market, &second.provider, &job);
    expect_error(env.send("job_claim already claimed", &[steal], &[&second.worker]), SpotcheckError::WrongJobStatus);
    assert_eq!(env.account::<Job>(&job).provider, world.provider.provider);
    // The second provider's stake came from outside the world's accounts.
    env.assert_job_conservation(&world, total + PROVIDER_STAKE);
}

#[test]
fn claim_refuses_without_enough_free_stake_or_while_paused() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(19, rarely_sampled_params());
    let total = env.total_tokens(&world);
    // 15 000x collateral: 20 jobs need 48M of the 50M stake; the 21st doesn't fit.
    let jobs: Vec<Pubkey> = (0..21).map(|_| env.submit_job(&world)).collect();
    for job in &jobs[..20] {
        env.claim(&world, job).expect("claim");
    }
    expect_error(env.claim(&world, &jobs[20]), SpotcheckError::InsufficientStake);
    assert_eq!(provider(&env, &world).locked, 20 * COLLATERAL_RARE);

    // Unstaking what's free leaves less than the minimum bonded: no more claims.
    let free = provider(&env, &world).free_stake().expect("free");
    let request = ix::provider_request_unstake(&world.provider.stake_wallet.pubkey(), &world.market.market, free);
    env.send("provider_request_unstake", &[request], &[&world.provider.stake_wallet]).expect("unstake");

    let pause = ix::market_set_paused(&world.market.authority.pubkey(), &world.market.market, true);
    env.send("pause", &[pause], &[&world.market.authority]).expect("pause");
    expect_error(env.claim(&world, &jobs[20]), SpotcheckError::MarketPaused);
    assert_eq!(env.account::<Job>(&jobs[20]).status, JobStatus::Open);
    env.assert_job_conservation(&world, total);
}

// --- results --------------------------------------------------------------------

#[test]
fn results_come_from_the_claiming_worker_within_budget_and_deadline() {
    let mut env = TestEnv::new();
    let mut world = env.default_job_world(20, default_params());
    let total = env.total_tokens(&world);
    let job = env.submit_job(&world);
    // Out of order: no result before a claim (the job has no provider yet).
    expect_error(env.submit_result(&world, &job), SpotcheckError::WrongProvider);
    env.claim(&world, &job).expect("claim");

    // Another provider's worker, and this provider's stake wallet, can't submit.
    let other = env.register_provider(&mut world.market);
    env.airdrop(&other.worker.pubkey(), 1_000_000_000).expect("airdrop");
    let args = spotcheck::instructions::JobSubmitResultArgs {
        output_hash: OUTPUT_HASH,
        trace_root: TRACE_ROOT,
        token_count: 1,
    };
    let wrong_provider = ix::job_submit_result(&other.worker.pubkey(), &other.provider, &job, args.clone());
    expect_error(
        env.send("job_submit_result other provider", &[wrong_provider], &[&other.worker]),
        SpotcheckError::WrongProvider,
    );
    let mut by_stake_wallet = TestEnv::submit_result_ix(&world, &job, 1);
    by_stake_wallet.accounts[0].pubkey = world.provider.stake_wallet.pubkey();
    expect_error(
        env.send("job_submit_result by stake wallet", &[by_stake_wallet], &[&world.provider.stake_wallet]),
        SpotcheckError::NotJobWorker,
    );
    // More tokens than the budget.
    let over = TestEnv::submit_result_ix(&world, &job, BUDGET + 1);
    expect_error(
        env.send("job_submit_result over budget", &[over], &[&world.provider.worker]),
        SpotcheckError::TokenCountOverBudget,
    );
    // The full budget is fine, at the deadline exactly; a second result is not.
    env.warp_slots(150);
    let at_budget = TestEnv::submit_result_ix(&world, &job, BUDGET);
    env.send("job_submit_result", std::slice::from_ref(&at_budget), &[&world.provider.worker])
        .expect("at the deadline");
    expect_error(
        env.send("job_submit_result twice", &[at_budget], &[&world.provider.worker]),
        SpotcheckError::WrongJobStatus,
    );
    assert_eq!(env.account::<Job>(&job).token_count, BUDGET);
    env.assert_job_conservation(&world, total);
}

#[test]
fn a_rotated_out_worker_key_can_no_longer_submit() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(21, default_params());
    let job = env.submit_job(&world);
    env.claim(&world, &job).expect("claim");
    let rotate =
        ix::provider_rotate_worker(&world.provider.stake_wallet.pubkey(), &world.market.market, &Pubkey::new_unique());
    env.send("provider_rotate_worker", &[rotate], &[&world.provider.stake_wallet]).expect("rotate");
    expect_error(env.submit_result(&world, &job), SpotcheckError::NotJobWorker);
}

// --- expiry -----------------------------------------------------------------------

#[test]
fn a_result_after_the_deadline_is_refused_and_the_job_expires_with_a_liveness_slash() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(22, default_params());
    let total = env.total_tokens(&world);
    let client_before = env.balance(&world.client_token);
    let job = env.submit_job(&world);
    env.claim(&world, &job).expect("claim");
    let collateral = PRICE * 30;

    expect_error(env.expire(&world, &job), SpotcheckError::ResultDeadlineNotPassed);
    let keys = env.job_keys(&job);
    env.warp_slots(151);
    expect_error(env.submit_result(&world, &job), SpotcheckError::ResultDeadlinePassed);
    let meta = env.expire(&world, &job).expect("job_expire");

    // 10 % of the collateral (rounded up) is slashed: half to the client, the rest to the treasury.
    let slashed = collateral.div_ceil(10);
    let event: JobExpired = events::single(&meta.logs);
    assert_eq!(
        (event.withheld, event.refund, event.to_client, event.to_treasury),
        (false, PRICE, slashed / 2, slashed - slashed / 2)
    );
    assert_eq!(env.balance(&world.client_token), client_before + slashed / 2, "refund plus compensation");
    let market: spotcheck::state::Market = env.account(&world.market.market);
    assert_eq!(market.treasury_stake, slashed - slashed / 2, "kept in the stake vault");
    let stored = provider(&env, &world);
    assert_eq!((stored.staked, stored.locked), (PROVIDER_STAKE - slashed, 0));
    assert_eq!((stored.jobs_failed, stored.faults, stored.status), (1, 1, ProviderStatus::Active));
    assert!(!env.account_exists(&job));
    let again = ix::job_expire(&world.market.keys(), &keys, &world.recipients(false));
    expect_failure(env.send("job_expire twice", &[again], &[]));
    env.assert_job_conservation(&world, total);
}

#[test]
fn a_provider_is_jailed_after_the_markets_fault_limit() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(23, default_params());
    let total = env.total_tokens(&world);
    for fault in 1..=3u16 {
        let job = env.submit_job(&world);
        env.claim(&world, &job).expect("claim");
        env.warp_slots(151);
        env.expire(&world, &job).expect("expire");
        assert_eq!(provider(&env, &world).faults, fault);
    }
    assert_eq!(provider(&env, &world).status, ProviderStatus::Jailed);
    let job = env.submit_job(&world);
    expect_error(env.claim(&world, &job), SpotcheckError::ProviderJailed);
    env.assert_job_conservation(&world, total);
}

#[test]
fn expire_refuses_open_submitted_and_foreign_recipients() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(24, default_params());
    let total = env.total_tokens(&world);
    let open = env.submit_job(&world);
    let expire = ix::job_expire(
        &world.market.keys(),
        &spotcheck_client::instructions::JobKeys {
            job: open,
            client: world.client.pubkey(),
            provider: world.provider.provider,
        },
        &world.recipients(false),
    );
    expect_error(env.send("job_expire open", &[expire], &[]), SpotcheckError::WrongProvider);

    let job = env.submit_job(&world);
    env.claim(&world, &job).expect("claim");
    env.warp_slots(151);
    // The refund must go to the client's own account.
    let mut to_challenger = world.recipients(false);
    to_challenger.client_token = world.challenger_token;
    let expire = ix::job_expire(&world.market.keys(), &env.job_keys(&job), &to_challenger);
    expect_error(env.send("job_expire wrong recipient", &[expire], &[]), SpotcheckError::WrongRecipient);
    env.expire(&world, &job).expect("expire");
    env.assert_job_conservation(&world, total);
}

#[test]
fn settle_refuses_out_of_order_and_wrong_recipients() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(25, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.submit_job(&world);
    env.claim(&world, &job).expect("claim");
    expect_error(env.settle(&world, &job), SpotcheckError::WrongJobStatus);
    env.submit_result(&world, &job).expect("result");
    expect_error(env.settle(&world, &job), SpotcheckError::WrongJobStatus);
    env.attest(&world, &job, 0, true).expect("attest");
    env.attest(&world, &job, 1, true).expect("attest");
    env.warp_slots(300);
    expect_error(env.settle(&world, &job), SpotcheckError::SampleNotRevealed);
    env.reveal(&job).expect("reveal");

    // The provider's pay must go to an account of its stake wallet's.
    let keys = env.job_keys(&job);
    let to_client = ix::job_settle(&world.market.keys(), &keys, &world.client_token);
    expect_error(env.send("job_settle wrong payout", &[to_client], &[]), SpotcheckError::WrongRecipient);
    // The job's rent goes back to its client and nobody else.
    let mut wrong_client = ix::job_settle(&world.market.keys(), &keys, &world.provider_payout);
    swap_account(&mut wrong_client, world.client.pubkey(), world.challenger.pubkey());
    expect_error(env.send("job_settle wrong client", &[wrong_client], &[]), SpotcheckError::NotJobClient);

    env.settle(&world, &job).expect("settle");
    let again = ix::job_settle(&world.market.keys(), &keys, &world.provider_payout);
    expect_failure(env.send("job_settle twice", &[again], &[]));
    env.assert_job_conservation(&world, total);
}

#[test]
fn collateral_and_fees_round_up() {
    // A dust job: 3 tokens at 1 per token. At 1.4286x the collateral is
    // 4.2858, locked as 5 (rounding down would leave less at stake than the
    // market's cheating check assumes); a 2.5 % fee of 3 is 0.075, charged as
    // 1 (rounding down made dust jobs, and wash-traded reputation, free).
    let mut env = TestEnv::new();
    let params = MarketParams { sample_rate_bps: 5_000, collateral_ratio_bps: 14_286, ..default_params() };
    let world = env.default_job_world(26, params);
    let total = env.total_tokens(&world);
    let terms = ModelTerms { price_per_token: 1, ..spotcheck_tests::fixtures::default_terms() };
    let reprice = ix::model_update(&world.market.authority.pubkey(), &world.market.market, &world.model, terms, true);
    env.send("model_update", &[reprice], &[&world.market.authority]).expect("reprice");
    let nonce = world.next_nonce();
    let submit = TestEnv::submit_job_ix_at(&world, nonce, "hi", 3, 3);
    env.send("job_submit", &[submit], &[&world.client]).expect("dust job");
    let job = world.job_address(nonce);
    let meta = env.claim(&world, &job).expect("claim");
    let event: JobClaimed = events::single(&meta.logs);
    assert_eq!(event.collateral, 5);
    let result = TestEnv::submit_result_ix(&world, &job, 3);
    env.send("job_submit_result", &[result], &[&world.provider.worker]).expect("result");
    env.attest(&world, &job, 0, true).expect("attest");
    env.attest(&world, &job, 1, true).expect("attest");
    env.reveal(&job).expect("reveal");
    if env.account::<Job>(&job).sample == SampleDraw::Selected {
        env.verdict(&world, &job, 0, true).expect("pass");
        env.verdict(&world, &job, 1, true).expect("pass");
    }
    let meta = env.settle(&world, &job).expect("settle");
    let event: JobSettled = events::single(&meta.logs);
    assert_eq!((event.fee, event.to_provider), (1, 2));
    env.assert_job_conservation(&world, total);
}
