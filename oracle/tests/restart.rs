//! Oracles killed (as kill -9 would: every task stops at its next await)
//! and restarted on the same data directory at seeded random points while
//! jobs move through attestation, sampling and verdicts: no vote is ever
//! sent twice, and once all run again no job is left undecided.

#[path = "../../worker/tests/common/mod.rs"]
mod common;
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::Discriminator;
use anchor_lang::prelude::Pubkey;
use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use spotcheck::events::{JobSettled, JobSlashed};
use spotcheck_client::chain::Chain;
use spotcheck_tests::jobs::always_sampled_params;
use support::*;

const JOBS: usize = 6;

/// Vote sends by (oracle, job, round).
type Sends = HashMap<(Pubkey, Pubkey, &'static str), usize>;

#[test]
fn kills_at_random_points_send_no_vote_twice_and_leave_no_job_undecided() {
    let params = always_sampled_params();
    let net = Network::new(params, None);
    let world = &net.world;
    let total = world.total_tokens();

    // Every vote send, counted by (oracle, job, round), simulation refusals included.
    let sends: Arc<Mutex<Sends>> = Arc::default();
    let counted = sends.clone();
    let hook: SendHook = Box::new(move |_, instructions, phase| {
        if phase == HangAt::Before {
            for instruction in instructions {
                let round = if instruction.data.starts_with(spotcheck::instruction::JobAttest::DISCRIMINATOR) {
                    "attest"
                } else if instruction.data.starts_with(spotcheck::instruction::JobPostVerdict::DISCRIMINATOR) {
                    "verdict"
                } else {
                    continue;
                };
                let key = (instruction.accounts[0].pubkey, instruction.accounts[2].pubkey, round);
                *counted.lock().unwrap().entry(key).or_default() += 1;
            }
        }
        false
    });
    let chain: Arc<dyn Chain> = Arc::new(HookedChain { hook, ..HookedChain::plain(world.chain.clone()) });
    let start = |i: usize| start_oracle(net.oracle_config(i), chain.clone()).unwrap();
    let mut oracles: Vec<Option<OracleRunning>> = (0..3).map(|i| Some(start(i))).collect();

    let jobs: Vec<Pubkey> = (0..JOBS).map(|i| world.submit(&format!("{PROMPT} ({i})"), 12)).collect();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while jobs.iter().any(|job| world.job(job).is_some()) {
        assert!(
            Instant::now() < deadline,
            "jobs left undecided: {:?}",
            jobs.iter().filter_map(|j| world.job(j).map(|a| a.status)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(rng.random_range(5..80)));
        if kills < 25 {
            let victim = rng.random_range(0..3);
            if let Some(running) = oracles[victim].take() {
                running.kill();
                kills += 1;
            }
            std::thread::sleep(Duration::from_millis(rng.random_range(0..40)));
            oracles[victim] = Some(start(victim));
        }
        // Time passes: windows close, draws become revealable.
        world.chain.advance_slots(rng.random_range(0..30));
    }
    assert!(kills >= 5, "the test killed oracles {kills} times");

    let sends = sends.lock().unwrap();
    let twice: Vec<_> = sends.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "votes sent more than once: {twice:?}");
    assert!(sends.values().count() >= 2 * JOBS, "each job had its votes");
    for job in &jobs {
        assert_eq!(world.count_events::<JobSlashed>(job, |e| e.job), 0, "an honest provider is never slashed");
    }
    let settled: usize = jobs.iter().map(|job| world.count_events::<JobSettled>(job, |e| e.job)).sum();
    println!(
        "{kills} kills; {} vote sends; {settled} of {JOBS} jobs settled, the rest unwound",
        sends.values().sum::<usize>()
    );
    assert!(settled >= 1, "honest jobs were paid ({settled} of {JOBS}; the rest unwound past a deadline)");
    assert_eq!(world.total_tokens(), total, "tokens appeared or vanished");
}
