//! Nobody can block anybody else's payout (issue 10, SPEC §2 "Nobody can
//! block anybody else"): whatever a party does to its own accounts —
//! reassigns or empties its wallet, closes or gets frozen its token
//! accounts, lets the draw's slot hash age out — every instruction that ends
//! a job still runs for the others. Each case runs on the SBF build and ends
//! with conservation.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token_2022::spl_token_2022;
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck::events::{JobSampleRevealed, JobSettled, JobSlashed};
use spotcheck::state::{Job, SampleDraw};
use spotcheck_client::instructions::{self as ix, JobRecipients};
use spotcheck_localchain::MAX_SLOT_HASHES;
use spotcheck_localchain::tokens::{DECIMALS, LocalMint};
use spotcheck_tests::fixtures::default_params;
use spotcheck_tests::jobs::{JobWorld, PRICE, always_sampled_params, rarely_sampled_params};
use spotcheck_tests::{SpotcheckError, TestEnv, events, expect_error, expect_failure};

/// A program the client hands its wallet to: any program id will do.
const SOME_PROGRAM: Pubkey = Pubkey::new_from_array([0x42; 32]);

/// The client gives its wallet to another program (system `assign`): the
/// account is no longer a system account, which an owner check would refuse.
fn reassign_wallet(env: &mut TestEnv, wallet: &Keypair) {
    let assign = system_instruction::assign(&wallet.pubkey(), &SOME_PROGRAM);
    env.send_unrecorded(&[assign], &[wallet]).expect("assign");
    assert_eq!(env.svm.get_account(&wallet.pubkey()).expect("wallet").owner, SOME_PROGRAM);
}

/// Moves every token out of `account` (to a fresh account of the same owner,
/// so nothing leaves the party) and closes it.
fn empty_and_close(env: &mut TestEnv, mint: LocalMint, account: &Pubkey, owner: &Keypair) -> Pubkey {
    let elsewhere = env.create_token_account(mint, &owner.pubkey());
    let amount = env.balance(account);
    let transfer = spl_token_2022::instruction::transfer_checked(
        &mint.program,
        account,
        &mint.mint,
        &elsewhere,
        &owner.pubkey(),
        &[],
        amount,
        DECIMALS,
    )
    .expect("transfer");
    let close =
        spl_token_2022::instruction::close_account(&mint.program, account, &owner.pubkey(), &owner.pubkey(), &[])
            .expect("close");
    env.send_unrecorded(&[transfer, close], &[owner]).expect("empty and close");
    assert!(!env.account_exists(account));
    elsewhere
}

/// A job sampled and failed by the oracles, ready for `job_slash`.
fn rejected_job(env: &mut TestEnv, world: &JobWorld, challenged: bool) -> Pubkey {
    let job = env.attested_job(world);
    if challenged {
        env.challenge(world, &job).expect("challenge");
    } else {
        env.reveal(&job).expect("reveal");
    }
    env.verdict(world, &job, 0, false).expect("fail");
    env.verdict(world, &job, 1, false).expect("fail");
    job
}

// --- the client's wallet ------------------------------------------------------------

#[test]
fn a_client_that_reassigns_its_wallet_cannot_block_settlement() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(80, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.attested_job(&world);
    let rent = env.lamports(&job);
    reassign_wallet(&mut env, &world.client);
    let client_lamports = env.lamports(&world.client.pubkey());
    env.reveal(&job).expect("reveal");
    let meta = env.settle(&world, &job).expect("settle pays the provider whatever the client did");
    let _: JobSettled = events::single(&meta.logs);
    assert!(!env.account_exists(&job));
    assert_eq!(env.lamports(&world.client.pubkey()), client_lamports + rent, "the rent still reaches the client");
    env.assert_job_conservation(&world, total);
}

#[test]
fn a_client_that_reassigns_its_wallet_cannot_block_a_slash_an_expiry_or_an_unwind() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(81, always_sampled_params());
    let total = env.total_tokens(&world);
    let client_before = env.balance(&world.client_token);
    let slashed = rejected_job(&mut env, &world, false);
    let expired = env.submit_job(&world);
    env.claim(&world, &expired).expect("claim");
    let unwound = env.submit_job(&world);
    env.claim(&world, &unwound).expect("claim");
    env.submit_result(&world, &unwound).expect("result");
    // A client colluding with the cheat hands its wallet away before the crank.
    reassign_wallet(&mut env, &world.client);
    let meta = env.slash(&world, &slashed, false).expect("the slash goes through");
    let event: JobSlashed = events::single(&meta.logs);
    env.warp_slots(default_params().claim_timeout_slots + 1);
    env.expire(&world, &expired).expect("the expiry goes through");
    env.unwind(&world, &unwound, false).expect("the unwind goes through");
    for job in [slashed, expired, unwound] {
        assert!(!env.account_exists(&job));
    }
    let liveness = (PRICE * 30).div_ceil(10);
    assert_eq!(env.balance(&world.client_token), client_before + event.to_client + liveness / 2);
    env.assert_job_conservation(&world, total);
}

#[test]
fn a_client_that_empties_its_wallet_still_gets_the_rent() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(82, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.attested_job(&world);
    let rent = env.lamports(&job);
    let client = world.client.pubkey();
    let drain = system_instruction::transfer(&client, &env.payer.pubkey(), env.lamports(&client));
    env.send_unrecorded(&[drain], &[&world.client]).expect("drain");
    assert!(!env.account_exists(&client), "the wallet is gone");
    env.reveal(&job).expect("reveal");
    env.settle(&world, &job).expect("settle");
    assert_eq!(env.lamports(&client), rent, "the rent recreates the wallet");
    env.assert_job_conservation(&world, total);
}

// --- the challenger's and the parties' token accounts ----------------------------------

#[test]
fn a_challenger_that_closes_its_bond_account_cannot_block_the_slash() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(83, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let challenger_before = env.balance(&world.challenger_token);
    let job = rejected_job(&mut env, &world, true);
    let moved = empty_and_close(&mut env, world.market.payment, &world.challenger_token, &world.challenger);
    // The account the bond came from is gone: the slash can't pay into it...
    expect_failure(env.slash(&world, &job, true));
    // ...nor into someone else's...
    let foreign =
        JobRecipients { challenger: Some((world.client_token, world.client_token)), ..world.recipients(true) };
    let slash = ix::job_slash(&world.market.keys(), &env.job_keys(&job), &foreign);
    expect_error(env.send("job_slash bond to the client", &[slash], &[]), SpotcheckError::WrongRecipient);
    // ...but any account of the challenger's will do; a cranker opens one if need be.
    let fresh = env.create_token_account(world.market.payment, &world.challenger.pubkey());
    let to = JobRecipients { challenger: Some((fresh, fresh)), ..world.recipients(true) };
    let slash = ix::job_slash(&world.market.keys(), &env.job_keys(&job), &to);
    let meta = env.send("job_slash", &[slash], &[]).expect("slash");
    let event: JobSlashed = events::single(&meta.logs);
    assert_eq!(env.balance(&fresh), event.bond_refund + event.to_challenger);
    assert_eq!(env.balance(&moved) + env.balance(&fresh), challenger_before + event.to_challenger);
    env.assert_conservation(&world.market);
    assert_eq!(env.total_tokens(&world) + env.balance(&moved) + env.balance(&fresh), total);
}

#[test]
fn a_challenger_that_closes_its_bond_account_cannot_block_an_unwind() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(84, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.attested_job(&world);
    env.challenge(&world, &job).expect("challenge");
    let moved = empty_and_close(&mut env, world.market.payment, &world.challenger_token, &world.challenger);
    env.warp_slots(default_params().verdict_timeout_slots + 1);
    let fresh = env.create_token_account(world.market.payment, &world.challenger.pubkey());
    let to = JobRecipients { challenger: Some((fresh, fresh)), ..world.recipients(true) };
    let mut foreign = to;
    foreign.challenger = Some((world.client_token, world.client_token));
    let unwind = ix::job_unwind(&world.market.keys(), &env.job_keys(&job), &foreign);
    expect_error(env.send("job_unwind bond to the client", &[unwind], &[]), SpotcheckError::WrongRecipient);
    let unwind = ix::job_unwind(&world.market.keys(), &env.job_keys(&job), &to);
    env.send("job_unwind", &[unwind], &[]).expect("unwind");
    assert_eq!(env.balance(&fresh), default_params().challenge_bond, "the bond came back");
    env.assert_conservation(&world.market);
    assert_eq!(env.total_tokens(&world) + env.balance(&moved) + env.balance(&fresh), total);
}

#[test]
fn a_frozen_account_blocks_only_payouts_into_it() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(85, always_sampled_params());
    let total = env.total_tokens(&world);
    let job = rejected_job(&mut env, &world, false);
    let passed = env.attested_job(&world);
    env.reveal(&passed).expect("reveal");
    env.verdict(&world, &passed, 0, true).expect("pass");
    env.verdict(&world, &passed, 1, true).expect("pass");
    // The mint's freeze authority (USDC has one) freezes the client's account.
    env.freeze(world.market.payment, &world.client_token).expect("freeze");
    expect_failure(env.slash(&world, &job, false));
    let fresh = env.create_token_account(world.market.payment, &world.client.pubkey());
    let to = JobRecipients { client_token: fresh, client_stake_token: fresh, challenger: None };
    let slash = ix::job_slash(&world.market.keys(), &env.job_keys(&job), &to);
    env.send("job_slash", &[slash], &[]).expect("slash");
    assert_eq!(env.balance(&fresh), PRICE + (PRICE * 30) / 2, "refund plus the client's share");

    // The provider's payout account frozen: the settlement goes to another of its accounts.
    env.freeze(world.market.payment, &world.provider_payout).expect("freeze");
    expect_failure(env.settle(&world, &passed));
    let payout = env.create_token_account(world.market.payment, &world.provider.stake_wallet.pubkey());
    let settle = ix::job_settle(&world.market.keys(), &env.job_keys(&passed), &payout);
    env.send("job_settle", &[settle], &[]).expect("settle");
    assert!(env.balance(&payout) > 0);
    env.assert_conservation(&world.market);
    assert_eq!(env.total_tokens(&world) + env.balance(&fresh) + env.balance(&payout), total);
}

#[test]
fn a_provider_that_closes_its_payout_account_is_paid_into_another() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(86, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.attested_job(&world);
    let stake_wallet = &world.provider.stake_wallet;
    let moved = empty_and_close(&mut env, world.market.payment, &world.provider_payout, stake_wallet);
    env.reveal(&job).expect("reveal");
    expect_failure(env.settle(&world, &job));
    let payout = env.create_token_account(world.market.payment, &stake_wallet.pubkey());
    let settle = ix::job_settle(&world.market.keys(), &env.job_keys(&job), &payout);
    let meta = env.send("job_settle", &[settle], &[]).expect("settle");
    let event: JobSettled = events::single(&meta.logs);
    assert_eq!(env.balance(&payout), event.to_provider);
    assert!(!env.account_exists(&job), "the client's rent came back too");
    env.assert_conservation(&world.market);
    assert_eq!(env.total_tokens(&world) + env.balance(&moved) + env.balance(&payout), total);
}

// --- the clock of the verdict -----------------------------------------------------------

#[test]
fn a_late_reveal_still_gives_the_oracles_their_whole_verdict_time() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(87, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let payout_before = env.balance(&world.provider_payout);
    let job = env.attested_job(&world);
    // Nobody reveals until the slot hash has aged out, and then past what
    // used to be the verdict deadline (window end + verdict timeout).
    let sample_slot = env.account::<Job>(&job).sample_slot;
    env.warp_to(sample_slot + MAX_SLOT_HASHES + default_params().verdict_timeout_slots + 1);
    let meta = env.reveal(&job).expect("late reveal");
    let event: JobSampleRevealed = events::single(&meta.logs);
    assert!(event.sampled && event.slot_hash_expired, "too late for the hash: counts as sampled");
    assert_eq!(event.verdict_deadline, env.slot() + default_params().verdict_timeout_slots);
    assert_eq!(env.account::<Job>(&job).sample, SampleDraw::Selected);
    // The oracles still have their whole timeout: no unwind of honest work.
    expect_error(env.unwind(&world, &job, false), SpotcheckError::OraclesNotLate);
    env.warp_slots(default_params().verdict_timeout_slots);
    env.verdict(&world, &job, 0, true).expect("pass in the last slot");
    env.verdict(&world, &job, 1, true).expect("pass");
    let meta = env.settle(&world, &job).expect("settle");
    let event: JobSettled = events::single(&meta.logs);
    assert!(event.verified);
    assert_eq!(env.balance(&world.provider_payout), payout_before + event.to_provider, "the provider is paid");
    env.assert_job_conservation(&world, total);
}

#[test]
fn silent_oracles_still_unwind_once_their_verdict_time_has_run_out() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(88, always_sampled_params());
    let total = env.total_tokens(&world);
    let client_before = env.balance(&world.client_token);
    let job = env.attested_job(&world);
    env.reveal(&job).expect("reveal");
    env.warp_slots(default_params().verdict_timeout_slots);
    expect_error(env.unwind(&world, &job, false), SpotcheckError::OraclesNotLate);
    env.warp_slots(1);
    expect_error(env.verdict(&world, &job, 0, true), SpotcheckError::VoteDeadlinePassed);
    env.unwind(&world, &job, false).expect("unwind");
    assert_eq!(env.balance(&world.client_token), client_before, "the client got its escrow back");
    env.assert_job_conservation(&world, total);
}

#[test]
fn a_client_whose_address_became_a_program_cannot_block_settlement() {
    // A client can deploy a program at its own wallet's address (the wallet
    // keypair as program id): the account turns executable. Crediting it the
    // job's rent must still work.
    let mut env = TestEnv::new();
    let world = env.default_job_world(89, rarely_sampled_params());
    let total = env.total_tokens(&world);
    let job = env.attested_job(&world);
    let client = world.client.pubkey();
    let program = std::fs::read(spotcheck_localchain::default_program_path()).expect("a program to deploy");
    env.svm.add_program(client, &program).expect("deploy a program at the client's address");
    assert!(env.svm.get_account(&client).expect("program").executable);
    env.reveal(&job).expect("reveal");
    env.settle(&world, &job).expect("settle");
    assert!(!env.account_exists(&job));
    env.assert_job_conservation(&world, total);
}
