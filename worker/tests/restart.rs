//! Kill and restart: the daemon is killed at each point between claim and
//! settlement (its runtime dropped mid-send, as a kill -9 would stop the
//! process) and started again on the same data directory. Every job still
//! ends with exactly one claim and one result, is settled, and no token is
//! lost.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anchor_lang::Discriminator;
use common::*;
use spotcheck::events::{JobClaimed, JobResultSubmitted, JobSettled};
use spotcheck::state::JobStatus;
use spotcheck_client::chain::Chain;

const WAIT: Duration = Duration::from_secs(60);

fn killed_then_restarted(discriminator: &'static [u8], at: HangAt) {
    let world = World::new(params(), STAKE);
    let total = world.total_tokens();
    let hung = Arc::new(AtomicBool::new(false));
    let hanging: Arc<dyn Chain> = Arc::new(HookedChain::hanging(world.chain.clone(), discriminator, at, hung.clone()));
    let first = Running::start(world.config("data"), hanging).unwrap();
    let job = world.submit(PROMPT, 16);
    wait_until("the daemon to reach the kill point", WAIT, || hung.load(Ordering::SeqCst));
    first.kill();
    let status = world.job(&job).map(|j| j.status);

    let second = Running::start(world.config("data"), Arc::new(world.chain.clone())).unwrap();
    wait_until("the result after the restart", WAIT, || {
        world.job(&job).is_some_and(|j| j.status == JobStatus::Submitted)
    });
    world.attest(&job);
    world.chain.advance_slots(params().challenge_window_slots + 2);
    wait_until("settlement", WAIT, || world.job(&job).is_none());
    // Give a duplicate every chance to be sent before counting.
    std::thread::sleep(Duration::from_millis(300));
    second.stop().unwrap();

    let what =
        format!("killed {at:?} {:?} (job status at the kill: {status:?})", String::from_utf8_lossy(discriminator));
    assert_eq!(world.count_events::<JobClaimed>(&job, |e| e.job), 1, "one claim: {what}");
    assert_eq!(world.count_events::<JobResultSubmitted>(&job, |e| e.job), 1, "one result: {what}");
    assert_eq!(world.count_events::<JobSettled>(&job, |e| e.job), 1, "settled once: {what}");
    assert_eq!(world.total_tokens(), total, "tokens appeared or vanished: {what}");
}

#[test]
fn killed_before_the_claim_lands() {
    killed_then_restarted(spotcheck::instruction::JobClaim::DISCRIMINATOR, HangAt::Before);
}

/// The claim landed, nothing was generated or stored yet.
#[test]
fn killed_after_the_claim_lands_before_the_output_is_stored() {
    killed_then_restarted(spotcheck::instruction::JobClaim::DISCRIMINATOR, HangAt::After);
}

/// The output is stored; the result was about to be sent.
#[test]
fn killed_after_the_output_is_stored_before_the_result_lands() {
    killed_then_restarted(spotcheck::instruction::JobSubmitResult::DISCRIMINATOR, HangAt::Before);
}

#[test]
fn killed_after_the_result_lands() {
    killed_then_restarted(spotcheck::instruction::JobSubmitResult::DISCRIMINATOR, HangAt::After);
}

/// Killed while settling: the restarted daemon settles (or sees it settled) once.
#[test]
fn killed_after_the_settlement_lands() {
    killed_then_restarted_late(spotcheck::instruction::JobSettle::DISCRIMINATOR);
}

fn killed_then_restarted_late(discriminator: &'static [u8]) {
    let world = World::new(params(), STAKE);
    let total = world.total_tokens();
    let hung = Arc::new(AtomicBool::new(false));
    let hanging: Arc<dyn Chain> =
        Arc::new(HookedChain::hanging(world.chain.clone(), discriminator, HangAt::After, hung.clone()));
    let first = Running::start(world.config("data"), hanging).unwrap();
    let job = world.submit(PROMPT, 16);
    wait_until("the result", WAIT, || world.job(&job).is_some_and(|j| j.status == JobStatus::Submitted));
    world.attest(&job);
    world.chain.advance_slots(params().challenge_window_slots + 2);
    wait_until("the daemon to reach the kill point", WAIT, || hung.load(Ordering::SeqCst));
    first.kill();
    assert!(world.job(&job).is_none(), "the settlement landed before the kill");

    let second = Running::start(world.config("data"), Arc::new(world.chain.clone())).unwrap();
    let store = world.store("data");
    wait_until("the outcome recorded after the restart", WAIT, || {
        store.job(&job).unwrap().is_some_and(|row| row.outcome.as_deref() == Some("settled"))
    });
    second.stop().unwrap();
    assert_eq!(world.count_events::<JobSettled>(&job, |e| e.job), 1);
    assert_eq!(world.total_tokens(), total);
}
