//! Cheating never pays (issue 10, SPEC §2 "Economics that the program
//! enforces"), checked with real transactions on the SBF build.
//!
//! A cheating provider skips the work and commits to output it made up. Each
//! strategy open to it runs many times on a market whose parameters sit just
//! inside what `market_create` accepts (p = 50 %, the least collateral the
//! check allows), and the cheater's average profit in tokens must be
//! negative. Doing no work costs it nothing, so a negative token profit also
//! means it is worse off than an honest provider, whose profit is at least 0
//! on any job worth taking. README, "Why cheating never pays", has the
//! arithmetic path by path.
//!
//! The last test goes the other way: over a grid of parameters, the market
//! refuses exactly those under which some path (at its worst case) pays.

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck::state::{Job, MarketParams, Provider, SampleDraw, SlashSplit};
use spotcheck_client::instructions::{self as ix, JobRecipients};
use spotcheck_localchain::tokens::TOKEN;
use spotcheck_tests::fixtures::default_params;
use spotcheck_tests::jobs::{CLIENT_FUNDS, JobWorld, PRICE};
use spotcheck_tests::{SpotcheckError, TestEnv, expect_error};

/// The tightest accepted market at p = 50 % with a 30 % challenger share:
/// cheating loses only above 1.4286x collateral, and 14 286 bps is the least
/// ratio `market_create` takes (14 285 is refused). The fault limit is out of
/// reach, so jailing doesn't end a strategy early.
fn tight_params() -> MarketParams {
    MarketParams { sample_rate_bps: 5_000, collateral_ratio_bps: 14_286, max_faults: u16::MAX, ..default_params() }
}

/// Collateral of a default job: ceil(160 x 1.4286) = ceil(228.576) = 229.
const COLLATERAL: i128 = 229;
/// ceil(229 x 10 %): the liveness slash.
const LIVENESS: i128 = 23;
/// ceil(160 x 2.5 %).
const FEE: i128 = 4;

/// What the cheater owns, in the market's one mint: its stake (in the
/// vault), its payout account, and an accomplice's wallet if it has one.
fn wealth(env: &TestEnv, world: &JobWorld, accomplice_token: Option<Pubkey>) -> i128 {
    let provider: Provider = env.account(&world.provider.provider);
    let accomplice = accomplice_token.map_or(0, |token| env.balance(&token));
    i128::from(provider.staked) + i128::from(env.balance(&world.provider_payout)) + i128::from(accomplice)
}

/// Tries to learn the draw while the choice to serve or withhold is still
/// open (the job awaits attestation): the program must refuse.
fn peek_at_the_draw(env: &mut TestEnv, job: &Pubkey) {
    expect_error(env.send("peek at the draw", &[ix::job_reveal_sample(job)], &[]), SpotcheckError::WrongJobStatus);
}

/// The tally of one strategy's runs.
#[derive(Default, Debug)]
struct Tally {
    jobs: i128,
    profit: i128,
    caught: i128,
}

impl Tally {
    fn record(&mut self, profit: i128, caught: bool) {
        self.jobs += 1;
        self.profit += profit;
        self.caught += i128::from(caught);
    }

    #[track_caller]
    fn assert_loses(&self, strategy: &str) {
        println!(
            "{strategy}: {} jobs, caught {}, total profit {} ({:.1} per job)",
            self.jobs,
            self.caught,
            self.profit,
            self.profit as f64 / self.jobs as f64
        );
        assert!(self.profit < 0, "{strategy} paid: {self:?}");
    }
}

#[test]
fn skipping_the_work_and_serving_made_up_output_loses() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(70, tight_params());
    let total = env.total_tokens(&world);
    let mut tally = Tally::default();
    for _ in 0..200 {
        let before = wealth(&env, &world, None);
        let job = env.submit_job(&world);
        env.claim(&world, &job).expect("claim");
        env.submit_result(&world, &job).expect("made-up result");
        // "Withhold once sampled": the cheater would withhold if it could
        // learn the draw now, but it can't, so it must serve blind.
        peek_at_the_draw(&mut env, &job);
        env.attest(&world, &job, 0, true).expect("attest");
        env.attest(&world, &job, 1, true).expect("attest");
        env.reveal(&job).expect("reveal");
        let sampled = env.account::<Job>(&job).sample == SampleDraw::Selected;
        if sampled {
            // The oracles re-execute: the made-up tokens are not the model's.
            env.verdict(&world, &job, 0, false).expect("fail");
            env.verdict(&world, &job, 1, false).expect("fail");
            env.slash(&world, &job, false).expect("slash");
        } else {
            env.settle(&world, &job).expect("settle");
        }
        let profit = wealth(&env, &world, None) - before;
        assert_eq!(profit, if sampled { -COLLATERAL } else { i128::from(PRICE) - FEE });
        tally.record(profit, sampled);
    }
    env.assert_job_conservation(&world, total);
    tally.assert_loses("skip work, serve (and withhold if the draw were known)");
}

#[test]
fn challenging_itself_from_another_wallet_loses() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(71, tight_params());
    let accomplice = env.wallet();
    let accomplice_token = env.funded_token_account(world.market.payment, &accomplice.pubkey(), CLIENT_FUNDS);
    let total = env.total_tokens(&world) + CLIENT_FUNDS;
    let recipients = JobRecipients {
        client_token: world.client_token,
        client_stake_token: world.client_stake_token,
        challenger: Some((accomplice_token, accomplice_token)),
    };
    let mut tally = Tally::default();
    for _ in 0..30 {
        let before = wealth(&env, &world, Some(accomplice_token));
        let job = env.attested_job(&world);
        challenge_from(&mut env, &world, &job, &accomplice, &accomplice_token);
        env.verdict(&world, &job, 0, false).expect("fail");
        env.verdict(&world, &job, 2, false).expect("fail");
        let slash = ix::job_slash(&world.market.keys(), &env.job_keys(&job), &recipients);
        env.send("job_slash", &[slash], &[]).expect("slash");
        let profit = wealth(&env, &world, Some(accomplice_token)) - before;
        // It gets the challenger's 30 % (rounded down) of its own collateral back, and no more.
        assert_eq!(profit, -(COLLATERAL - COLLATERAL * 3 / 10));
        tally.record(profit, true);
    }
    env.assert_conservation(&world.market);
    assert_eq!(env.total_tokens(&world) + env.balance(&accomplice_token), total);
    tally.assert_loses("skip work, challenge itself");
}

fn challenge_from(env: &mut TestEnv, world: &JobWorld, job: &Pubkey, who: &Keypair, token: &Pubkey) {
    let challenge = ix::job_challenge(&who.pubkey(), &world.market.keys(), job, token);
    env.send("job_challenge", &[challenge], &[who]).expect("challenge");
}

#[test]
fn withholding_the_output_loses() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(72, tight_params());
    let total = env.total_tokens(&world);
    let mut tally = Tally::default();
    for _ in 0..30 {
        let before = wealth(&env, &world, None);
        let job = env.submit_job(&world);
        env.claim(&world, &job).expect("claim");
        env.submit_result(&world, &job).expect("made-up result");
        peek_at_the_draw(&mut env, &job);
        env.attest(&world, &job, 0, false).expect("withheld");
        env.attest(&world, &job, 1, false).expect("withheld");
        env.expire(&world, &job).expect("expire");
        let profit = wealth(&env, &world, None) - before;
        assert_eq!(profit, -LIVENESS, "the liveness share, rounded up");
        tally.record(profit, true);
    }
    env.assert_job_conservation(&world, total);
    tally.assert_loses("skip work, withhold the output");
}

#[test]
fn claiming_and_letting_the_job_expire_loses() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(73, tight_params());
    let total = env.total_tokens(&world);
    let mut tally = Tally::default();
    for _ in 0..30 {
        let before = wealth(&env, &world, None);
        let job = env.submit_job(&world);
        env.claim(&world, &job).expect("claim");
        env.warp_slots(default_params().claim_timeout_slots + 1);
        env.expire(&world, &job).expect("expire");
        let profit = wealth(&env, &world, None) - before;
        assert_eq!(profit, -LIVENESS);
        tally.record(profit, true);
    }
    env.assert_job_conservation(&world, total);
    tally.assert_loses("claim, let it expire");
}

/// Each path's expected profit for a cheater on a job of price `price`, in
/// exact integers scaled by 10^4 (the sample rate's denominator), computed
/// from the payoffs the tests above measured: caught → loses the collateral
/// less what an accomplice challenger recovers; not caught → paid price − fee;
/// withheld or expired → loses the liveness share. The draw-aware variants
/// are the worst case: a cheater that somehow knew the draw and challenged
/// itself only when sampled. Fee 0 is the cheater's best case.
fn some_path_pays(params: &MarketParams, price: u128) -> bool {
    let (s, h) = (u128::from(params.sample_rate_bps), u128::from(params.slash_split.challenger_bps));
    let collateral = (price * u128::from(params.collateral_ratio_bps)).div_ceil(10_000);
    let recovered = collateral * h / 10_000;
    let liveness = (collateral * u128::from(params.liveness_slash_bps)).div_ceil(10_000);
    // profit x 10^4 >= 0  <=>  the path pays (or breaks even).
    let paid_if_skipped = (10_000 - s) * price;
    let serve = paid_if_skipped as i128 - (s * collateral) as i128;
    let serve_and_challenge_when_sampled = paid_if_skipped as i128 - (s * (collateral - recovered)) as i128;
    let challenge_always = -(((collateral - recovered) * 10_000) as i128);
    let withhold_or_expire = -((liveness * 10_000) as i128);
    [serve, serve_and_challenge_when_sampled, challenge_always, withhold_or_expire].iter().any(|&profit| profit >= 0)
}

#[test]
fn the_market_refuses_exactly_the_parameters_under_which_some_path_pays() {
    // At a price of 10^8 every share below is a whole number, so no rounding
    // helps either side and the paths' arithmetic is the ratio-level one the
    // program checks.
    let price = 100_000_000u128;
    let mut env = TestEnv::new();
    let mut accepted = 0;
    let mut refused = 0;
    for (sample_rate_bps, challenger_bps) in
        [(500u16, 3_000u16), (500, 0), (2_000, 3_000), (5_000, 5_000), (10_000, 9_000)]
    {
        for liveness_slash_bps in [0u16, 1, 1_000] {
            for collateral_ratio_bps in [0u32, 1, 14_285, 14_286, 19_999, 20_001, 57_142, 57_143, 190_000, 190_001]
                .into_iter()
                .chain([271_428, 271_429, 300_000])
            {
                let split = SlashSplit { client_bps: 10_000 - challenger_bps, challenger_bps, treasury_bps: 0 };
                let params = MarketParams {
                    sample_rate_bps,
                    collateral_ratio_bps,
                    liveness_slash_bps,
                    slash_split: split,
                    ..default_params()
                };
                let fixture = env.market_setup(TOKEN, TOKEN);
                let create =
                    ix::market_create(&fixture.authority.pubkey(), fixture.market_id, &fixture.tokens(), params);
                let result = env.send_unrecorded(&[create], &[&fixture.authority]);
                let pays = some_path_pays(&params, price);
                assert_eq!(result.is_err(), pays, "{params:?}: some path pays = {pays}, refused = {}", result.is_err());
                if pays {
                    refused += 1;
                } else {
                    accepted += 1;
                }
            }
        }
    }
    println!("{accepted} parameter sets accepted, {refused} refused");
    assert!(accepted > 20 && refused > 20, "the grid must straddle the boundary");
}
