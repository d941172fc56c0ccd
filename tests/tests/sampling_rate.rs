//! The sampling rate, measured: many jobs through the real draw
//! (`job_reveal_sample` on the SBF build, SlotHashes filled by the local
//! chain), and the fraction selected must match the market's rate.

use spotcheck::state::{Job, MarketParams, SampleDraw};
use spotcheck_tests::TestEnv;
use spotcheck_tests::fixtures::default_params;

#[test]
fn the_selected_fraction_matches_the_markets_rate() {
    let mut env = TestEnv::new();
    // p = 20 %, with 6x collateral (cheating loses above 5.71x with a 30 % challenger share).
    let params = MarketParams { sample_rate_bps: 2_000, collateral_ratio_bps: 60_000, ..default_params() };
    let world = env.default_job_world(50, params);
    let jobs = 400;
    let mut selected = 0;
    for i in 0..jobs {
        let job = env.attested_job(&world);
        env.reveal(&job).expect("reveal");
        if env.account::<Job>(&job).sample == SampleDraw::Selected {
            selected += 1;
        }
        // Spread the results over slots, as a live market would.
        env.warp_slots(1 + i % 3);
    }
    // Binomial(400, 0.2): mean 80, sd 8. Four standard deviations either side.
    println!("sampled {selected} of {jobs} jobs at a 20 % rate");
    assert!((48..=112).contains(&selected), "sampled {selected} of {jobs}, expected about 80");
}
