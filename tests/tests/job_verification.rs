//! Verification (issue 5): completion proofs by oracle quorum, the sampling
//! draw from SlotHashes, challenges with bonds, verdicts, slashing, and the
//! no-fault unwind when the oracles stay silent. Every refusal checks that
//! nothing moved; every test ends with conservation.

use solana_signer::Signer;
use spotcheck::events::{
    JobAttested, JobExpired, JobSampleRevealed, JobSettled, JobSlashed, JobUnwound, JobVerdictReached, JobWithheld,
    ProviderJailed,
};
use spotcheck::state::{Job, JobStatus, Provider, ProviderStatus, SampleDraw};
use spotcheck_client::instructions as ix;
use spotcheck_localchain::MAX_SLOT_HASHES;
use spotcheck_localchain::tokens::{TOKEN, TOKEN_2022};
use spotcheck_tests::jobs::{
    JobWorld, PRICE, PROVIDER_STAKE, RARELY_SAMPLED_RATIO_BPS, always_sampled_params, rarely_sampled_params,
};
use spotcheck_tests::{SpotcheckError, TestEnv, events, expect_anchor_error, expect_error, swap_account};

const COLLATERAL: u64 = PRICE * 30; // 30x (always_sampled_params)
const BOND: u64 = 50_000; // default_params().challenge_bond
const FEE: u64 = (PRICE * 250).div_ceil(10_000); // fees round up

fn provider(env: &TestEnv, world: &JobWorld) -> Provider {
    env.account(&world.provider.provider)
}

fn market(env: &TestEnv, world: &JobWorld) -> spotcheck::state::Market {
    env.account(&world.market.market)
}

fn status(env: &TestEnv, job: &anchor_lang::prelude::Pubkey) -> JobStatus {
    env.account::<Job>(job).status
}

// --- attestation ---------------------------------------------------------------

#[test]
fn attestation_takes_a_quorum_of_the_markets_oracles() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(31, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.submit_job(&world);
    // No attestation before a result.
    expect_error(env.attest(&world, &job, 0, true), SpotcheckError::WrongJobStatus);
    env.claim(&world, &job).expect("claim");
    env.submit_result(&world, &job).expect("result");

    let outsider = env.wallet();
    let vote = ix::job_attest(&outsider.pubkey(), &world.market.market, &job, true);
    expect_error(env.send("job_attest by non-oracle", &[vote], &[&outsider]), SpotcheckError::NotOracle);
    env.attest(&world, &job, 1, true).expect("first vote");
    expect_error(env.attest(&world, &job, 1, true), SpotcheckError::AlreadyVoted);
    expect_error(env.attest(&world, &job, 1, false), SpotcheckError::AlreadyVoted);
    assert_eq!(status(&env, &job), JobStatus::Submitted);
    let meta = env.attest(&world, &job, 2, true).expect("quorum");
    let event: JobAttested = events::single(&meta.logs);
    assert_eq!(event.challenge_window_end, env.slot() + 300);
    assert_eq!(status(&env, &job), JobStatus::Attested);
    // A vote after the quorum has nothing to decide.
    expect_error(env.attest(&world, &job, 0, true), SpotcheckError::WrongJobStatus);
    env.assert_job_conservation(&world, total);
}

#[test]
fn attestation_votes_after_the_deadline_are_refused_and_the_job_unwinds_without_fault() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(32, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let client_before = env.balance(&world.client_token);
    let job = env.submit_job(&world);
    env.claim(&world, &job).expect("claim");
    env.submit_result(&world, &job).expect("result");
    env.attest(&world, &job, 0, true).expect("one vote");

    expect_error(env.unwind(&world, &job, false), SpotcheckError::OraclesNotLate);
    env.warp_slots(151);
    expect_error(env.attest(&world, &job, 1, true), SpotcheckError::VoteDeadlinePassed);
    let meta = env.unwind(&world, &job, false).expect("unwind");
    let event: JobUnwound = events::single(&meta.logs);
    assert_eq!((event.refund, event.bond_refund), (PRICE, 0));
    assert_eq!(env.balance(&world.client_token), client_before, "the client got everything back");
    let stored = provider(&env, &world);
    assert_eq!((stored.staked, stored.locked, stored.faults), (PROVIDER_STAKE, 0, 0), "no fault, nothing slashed");
    assert!(!env.account_exists(&job));
    env.assert_job_conservation(&world, total);
}

#[test]
fn a_quorum_of_withheld_votes_is_a_liveness_fault() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(33, always_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.submit_job(&world);
    env.claim(&world, &job).expect("claim");
    env.submit_result(&world, &job).expect("result");
    env.attest(&world, &job, 0, false).expect("withheld");
    env.attest(&world, &job, 1, true).expect("complete");
    let meta = env.attest(&world, &job, 2, false).expect("withheld quorum");
    let _: JobWithheld = events::single(&meta.logs);
    assert_eq!(status(&env, &job), JobStatus::Withheld);
    // Nothing else applies to a withheld job.
    expect_error(env.challenge(&world, &job), SpotcheckError::WrongJobStatus);
    expect_error(env.settle(&world, &job), SpotcheckError::WrongJobStatus);
    let meta = env.expire(&world, &job).expect("expire");
    let event: JobExpired = events::single(&meta.logs);
    let slashed = COLLATERAL / 10;
    assert!(event.withheld);
    assert_eq!((event.to_client, event.to_treasury), (slashed / 2, slashed - slashed / 2));
    let stored = provider(&env, &world);
    assert_eq!((stored.jobs_failed, stored.faults, stored.staked), (1, 1, PROVIDER_STAKE - slashed));
    env.assert_job_conservation(&world, total);
}

#[test]
fn a_change_of_oracle_set_discards_the_rounds_votes() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(34, rarely_sampled_params());
    let job = env.submit_job(&world);
    env.claim(&world, &job).expect("claim");
    env.submit_result(&world, &job).expect("result");
    env.attest(&world, &job, 0, true).expect("vote under set 1");
    // Same keys, new version: the vote cast under the old set no longer counts.
    let keys = world.oracles.iter().map(|o| o.pubkey()).collect();
    let set = ix::market_set_oracles(&world.market.authority.pubkey(), &world.market.market, keys, 2);
    env.send("market_set_oracles", &[set], &[&world.market.authority]).expect("new set");
    env.attest(&world, &job, 1, true).expect("vote under set 2");
    assert_eq!(status(&env, &job), JobStatus::Submitted, "one vote under the current set");
    env.attest(&world, &job, 0, true).expect("oracle 0 votes again under set 2");
    assert_eq!(status(&env, &job), JobStatus::Attested);
}

// --- sampling ---------------------------------------------------------------------

#[test]
fn the_draw_waits_for_the_end_of_the_challenge_window_and_happens_once() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(35, always_sampled_params());
    let job = env.submit_job(&world);
    let reveal_now = |env: &mut TestEnv, label: &str| env.send(label, &[ix::job_reveal_sample(&job)], &[]);
    expect_error(reveal_now(&mut env, "reveal open"), SpotcheckError::WrongJobStatus);
    env.claim(&world, &job).expect("claim");
    expect_error(reveal_now(&mut env, "reveal claimed"), SpotcheckError::WrongJobStatus);
    env.submit_result(&world, &job).expect("result");
    // While the result awaits attestation there is no draw to learn: the
    // provider decides whether to serve its output without knowing it.
    env.warp_slots(5);
    expect_error(reveal_now(&mut env, "reveal submitted"), SpotcheckError::WrongJobStatus);
    env.attest(&world, &job, 0, true).expect("attest");
    env.attest(&world, &job, 1, true).expect("attest");
    let sample_slot = env.account::<Job>(&job).sample_slot;
    assert_eq!(sample_slot, env.slot() + 300, "the first slot after the challenge window");
    // Nor while anyone can still challenge, nor in the sample slot itself.
    env.warp_slots(299);
    expect_error(reveal_now(&mut env, "reveal in the last challenge slot"), SpotcheckError::SampleSlotNotReached);
    env.warp_slots(1);
    expect_error(reveal_now(&mut env, "reveal at the sample slot"), SpotcheckError::SampleSlotNotReached);
    // By the time the draw can be known, nobody can challenge any more.
    expect_error(env.challenge(&world, &job), SpotcheckError::ChallengeWindowClosed);
    let meta = env.reveal(&job).expect("reveal");
    let event: JobSampleRevealed = events::single(&meta.logs);
    assert!(event.sampled && !event.slot_hash_expired);
    assert_eq!(env.account::<Job>(&job).sample, SampleDraw::Selected);
    expect_error(env.reveal(&job), SpotcheckError::SampleAlreadyRevealed);
    // The wrong sysvar is refused.
    let mut fake = ix::job_reveal_sample(&job);
    swap_account(&mut fake, solana_sdk_ids::sysvar::slot_hashes::ID, solana_sdk_ids::sysvar::clock::ID);
    expect_anchor_error(
        env.send("reveal wrong sysvar", &[fake], &[]),
        anchor_lang::error::ErrorCode::ConstraintAddress,
    );
}

#[test]
fn a_reveal_too_late_for_the_slot_hash_counts_as_sampled() {
    let mut env = TestEnv::new();
    // p = 0.01 %: the draw itself would almost surely skip this job.
    let world = env.default_job_world(36, rarely_sampled_params());
    let job = env.attested_job(&world);
    let sample_slot = env.account::<Job>(&job).sample_slot;
    env.warp_to(sample_slot + MAX_SLOT_HASHES + 1);
    let meta = env.reveal(&job).expect("late reveal");
    let event: JobSampleRevealed = events::single(&meta.logs);
    assert!(event.sampled && event.slot_hash_expired);
    // A provider can't escape by waiting: the job now needs a verdict.
    expect_error(env.settle(&world, &job), SpotcheckError::VerdictPending);
}

// --- challenges -----------------------------------------------------------------

#[test]
fn challenges_need_an_attested_job_inside_the_window() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(37, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.submit_job(&world);
    env.claim(&world, &job).expect("claim");
    env.submit_result(&world, &job).expect("result");
    let before = env.balances(&world.token_accounts());
    expect_error(env.challenge(&world, &job), SpotcheckError::WrongJobStatus);
    env.attest(&world, &job, 0, true).expect("attest");
    env.attest(&world, &job, 1, true).expect("attest");
    env.warp_slots(300);
    expect_error(env.challenge(&world, &job), SpotcheckError::ChallengeWindowClosed);
    assert_eq!(env.balances(&world.token_accounts()), before, "no bond moved");
    env.assert_job_conservation(&world, total);
}

#[test]
fn one_challenge_per_job_with_the_bond_from_the_challengers_own_tokens() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(38, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.attested_job(&world);
    let foreign = ix::job_challenge(&world.challenger.pubkey(), &world.market.keys(), &job, &world.client_token);
    expect_error(
        env.send("job_challenge with the client's tokens", &[foreign], &[&world.challenger]),
        SpotcheckError::WrongTokenOwner,
    );
    env.warp_slots(299);
    env.challenge(&world, &job).expect("challenge in the last slot of the window");
    assert_eq!(env.balance(&world.market.escrow_vault), PRICE + BOND);
    expect_error(env.challenge(&world, &job), SpotcheckError::AlreadyChallenged);
    env.assert_job_conservation(&world, total);
}

// --- verdicts ---------------------------------------------------------------------

#[test]
fn verdicts_only_on_sampled_or_challenged_jobs_from_oracles_once() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(39, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let skipped = env.attested_job(&world);
    expect_error(env.verdict(&world, &skipped, 0, false), SpotcheckError::NothingToJudge);
    env.reveal(&skipped).expect("reveal");
    assert_eq!(env.account::<Job>(&skipped).sample, SampleDraw::Skipped);
    expect_error(env.verdict(&world, &skipped, 0, false), SpotcheckError::NothingToJudge);

    let job = env.attested_job(&world);
    env.challenge(&world, &job).expect("challenge");
    let outsider = env.wallet();
    let vote = ix::job_post_verdict(&outsider.pubkey(), &world.market.market, &job, false, [1; 32]);
    expect_error(env.send("verdict by non-oracle", &[vote], &[&outsider]), SpotcheckError::NotOracle);
    env.verdict(&world, &job, 0, true).expect("vote");
    expect_error(env.verdict(&world, &job, 0, false), SpotcheckError::AlreadyVoted);
    env.verdict(&world, &job, 2, true).expect("quorum");
    expect_error(env.verdict(&world, &job, 1, true), SpotcheckError::WrongJobStatus);
    expect_error(env.challenge(&world, &job), SpotcheckError::WrongJobStatus);
    env.assert_job_conservation(&world, total);
}

#[test]
fn a_sampled_job_that_passes_settles_as_verified() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(40, always_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.attested_job(&world);
    env.reveal(&job).expect("reveal");
    expect_error(env.settle(&world, &job), SpotcheckError::VerdictPending);
    env.verdict(&world, &job, 0, true).expect("pass");
    env.verdict(&world, &job, 1, false).expect("fail");
    let meta = env.verdict(&world, &job, 2, true).expect("pass quorum");
    let event: JobVerdictReached = events::single(&meta.logs);
    assert!(event.pass);
    // Verified: no need to wait for the challenge window.
    let meta = env.settle(&world, &job).expect("settle");
    let event: JobSettled = events::single(&meta.logs);
    assert!(event.verified);
    assert_eq!(env.balance(&world.provider_payout), PRICE - FEE);
    let stored = provider(&env, &world);
    assert_eq!((stored.jobs_completed, stored.jobs_verified, stored.locked), (1, 1, 0));
    env.assert_job_conservation(&world, total);
}

#[test]
fn a_failed_challenge_forfeits_the_bond_to_provider_and_treasury() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(41, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let challenger_before = env.balance(&world.challenger_token);
    let job = env.attested_job(&world);
    env.challenge(&world, &job).expect("challenge");
    env.verdict(&world, &job, 0, true).expect("pass");
    env.verdict(&world, &job, 1, true).expect("pass quorum");
    let meta = env.settle(&world, &job).expect("settle");
    let event: JobSettled = events::single(&meta.logs);
    assert_eq!((event.bond_to_provider, event.bond_to_treasury), (BOND / 2, BOND / 2));
    assert_eq!(env.balance(&world.challenger_token), challenger_before - BOND);
    assert_eq!(env.balance(&world.provider_payout), PRICE - FEE + BOND / 2);
    assert_eq!(market(&env, &world).treasury_payment, FEE + BOND / 2, "kept in the escrow vault");
    env.assert_job_conservation(&world, total);
}

/// A sampled job whose re-execution fails: slashed, no challenger.
fn sampled_and_failed(stake_program: anchor_lang::prelude::Pubkey, payment_program: anchor_lang::prelude::Pubkey) {
    let mut env = TestEnv::new();
    let world = env.job_world(42, stake_program, payment_program, always_sampled_params());
    let total = env.total_tokens(&world);
    let client_before = env.balances(&[world.client_token, world.client_stake_token]);
    let job = env.attested_job(&world);
    env.reveal(&job).expect("reveal");
    env.verdict(&world, &job, 0, false).expect("fail");
    env.verdict(&world, &job, 1, false).expect("fail quorum");
    assert_eq!(status(&env, &job), JobStatus::Rejected);
    expect_error(env.settle(&world, &job), SpotcheckError::WrongJobStatus);
    let meta = env.slash(&world, &job, false).expect("slash");
    let event: JobSlashed = events::single(&meta.logs);
    // 50 % of the collateral to the client, no challenger: 30 % + 20 % to the treasury.
    let to_client = COLLATERAL / 2;
    assert_eq!(
        (event.refund, event.to_client, event.to_challenger, event.to_treasury),
        (PRICE, to_client, 0, COLLATERAL - to_client)
    );
    assert_eq!(event.evidence_hash, [0xee; 32]);
    let client_after = env.balances(&[world.client_token, world.client_stake_token]);
    if world.client_token == world.client_stake_token {
        assert_eq!(client_after[0], client_before[0] + to_client, "price back plus compensation");
    } else {
        assert_eq!(client_after, vec![client_before[0], client_before[1] + to_client]);
    }
    assert_eq!(market(&env, &world).treasury_stake, COLLATERAL - to_client, "kept in the stake vault");
    let stored = provider(&env, &world);
    assert_eq!((stored.staked, stored.locked), (PROVIDER_STAKE - COLLATERAL, 0));
    assert_eq!((stored.jobs_slashed, stored.faults, stored.jobs_completed), (1, 1, 0));
    assert!(!env.account_exists(&job));
    env.assert_job_conservation(&world, total);
}

#[test]
fn a_sampled_job_that_fails_is_slashed_spl_token() {
    sampled_and_failed(TOKEN, TOKEN);
}

#[test]
fn a_sampled_job_that_fails_is_slashed_separate_stake_and_payment_mints() {
    sampled_and_failed(TOKEN_2022, TOKEN);
}

#[test]
fn a_successful_challenge_pays_the_challenger_back_with_a_reward() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(43, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let challenger_before = env.balance(&world.challenger_token);
    let client_before = env.balance(&world.client_token);
    let job = env.attested_job(&world);
    env.challenge(&world, &job).expect("challenge");
    env.verdict(&world, &job, 1, false).expect("fail");
    env.verdict(&world, &job, 2, false).expect("fail quorum");
    // The challenger's accounts are required when there is a challenger.
    expect_error(env.slash(&world, &job, false), SpotcheckError::ChallengerAccountsMissing);
    let meta = env.slash(&world, &job, true).expect("slash");
    let event: JobSlashed = events::single(&meta.logs);
    let collateral = PRICE * u64::from(RARELY_SAMPLED_RATIO_BPS) / 10_000;
    let (to_client, to_challenger) = (collateral / 2, collateral * 3 / 10);
    assert_eq!((event.to_client, event.to_challenger, event.bond_refund), (to_client, to_challenger, BOND));
    assert_eq!(env.balance(&world.challenger_token), challenger_before + to_challenger);
    assert_eq!(env.balance(&world.client_token), client_before + to_client);
    env.assert_job_conservation(&world, total);
}

#[test]
fn slashing_jails_at_the_fault_limit() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(44, always_sampled_params());
    let total = env.total_tokens(&world);
    for fault in 1..=3u16 {
        let job = env.attested_job(&world);
        env.reveal(&job).expect("reveal");
        env.verdict(&world, &job, 0, false).expect("fail");
        env.verdict(&world, &job, 1, false).expect("fail");
        let meta = env.slash(&world, &job, false).expect("slash");
        let jailed = spotcheck_client::events::decode_all::<ProviderJailed>(&meta.logs);
        assert_eq!(jailed.len(), usize::from(fault == 3), "jailed exactly at the third fault");
    }
    assert_eq!(provider(&env, &world).status, ProviderStatus::Jailed);
    let job = env.submit_job(&world);
    expect_error(env.claim(&world, &job), SpotcheckError::ProviderJailed);
    env.assert_job_conservation(&world, total);
}

#[test]
fn verdicts_after_their_deadline_are_refused_and_the_job_unwinds_with_the_bond_back() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(45, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let before = env.balances(&[world.client_token, world.challenger_token, world.provider_payout]);
    let job = env.attested_job(&world);
    env.challenge(&world, &job).expect("challenge");
    env.verdict(&world, &job, 0, false).expect("one vote");
    expect_error(env.unwind(&world, &job, true), SpotcheckError::OraclesNotLate);
    env.warp_slots(601);
    expect_error(env.verdict(&world, &job, 1, false), SpotcheckError::VoteDeadlinePassed);
    expect_error(env.unwind(&world, &job, false), SpotcheckError::ChallengerAccountsMissing);
    let meta = env.unwind(&world, &job, true).expect("unwind");
    let event: JobUnwound = events::single(&meta.logs);
    assert_eq!((event.refund, event.bond_refund), (PRICE, BOND));
    assert_eq!(env.balances(&[world.client_token, world.challenger_token, world.provider_payout]), before);
    let stored = provider(&env, &world);
    assert_eq!((stored.locked, stored.faults, stored.staked), (0, 0, PROVIDER_STAKE));
    env.assert_job_conservation(&world, total);
}

#[test]
fn slash_refuses_a_job_without_a_fail_verdict() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(46, always_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.attested_job(&world);
    expect_error(env.slash(&world, &job, false), SpotcheckError::WrongJobStatus);
    env.reveal(&job).expect("reveal");
    env.verdict(&world, &job, 0, true).expect("pass");
    env.verdict(&world, &job, 1, true).expect("pass");
    expect_error(env.slash(&world, &job, false), SpotcheckError::WrongJobStatus);
    env.settle(&world, &job).expect("settle");
    env.assert_job_conservation(&world, total);
}
