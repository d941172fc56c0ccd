//! The authority's instructions after creation: `market_update`,
//! `market_set_paused`, `market_set_oracles`.

use anchor_lang::prelude::Pubkey;
use solana_signer::Signer;
use spotcheck::events::{MarketPausedSet, MarketUpdated, OraclesSet};
use spotcheck::state::{Market, MarketParams};
use spotcheck_client::instructions as ix;
use spotcheck_tests::fixtures::default_params;
use spotcheck_tests::{SpotcheckError, TestEnv, events, expect_error};

fn keys(n: usize) -> Vec<Pubkey> {
    (0..n).map(|_| Pubkey::new_unique()).collect()
}

#[test]
fn authority_updates_parameters() {
    let mut env = TestEnv::new();
    let fixture = env.create_default_market();
    let params =
        MarketParams { fee_bps: 100, sample_rate_bps: 1_000, collateral_ratio_bps: 130_000, ..default_params() };
    let update = ix::market_update(&fixture.authority.pubkey(), &fixture.market, params);
    let meta = env.send("market_update", &[update], &[&fixture.authority]).expect("market_update");

    let market: Market = env.account(&fixture.market);
    assert_eq!(market.params, params);
    let event: MarketUpdated = events::single(&meta.logs);
    assert_eq!((event.market, event.params), (fixture.market, params));
    env.assert_conservation(&fixture);
}

#[test]
fn update_refuses_bad_parameters_and_changes_nothing() {
    let mut env = TestEnv::new();
    let fixture = env.create_default_market();
    let before: Market = env.account(&fixture.market);
    let p = default_params();
    let longest =
        p.claim_timeout_slots + p.attestation_deadline_slots + p.challenge_window_slots + p.verdict_timeout_slots;
    let mut split = p.slash_split;
    split.client_bps -= 1;
    for (params, expected) in [
        // 5 %, 30 % challenger share: 27.14x is the boundary, and equality is refused too.
        (MarketParams { collateral_ratio_bps: 271_428, ..p }, SpotcheckError::CollateralRatioTooLow),
        (MarketParams { collateral_ratio_bps: 190_000, ..p }, SpotcheckError::CollateralRatioTooLow),
        (MarketParams { unbonding_slots: longest, ..p }, SpotcheckError::UnbondingTooShort),
        (MarketParams { unbonding_slots: u64::MAX / 2, ..p }, SpotcheckError::UnbondingTooLong),
        (
            MarketParams { claim_timeout_slots: 1_512_001, unbonding_slots: 6_000_000, ..p },
            SpotcheckError::DurationTooLong,
        ),
        (MarketParams { verdict_timeout_slots: u64::MAX, ..p }, SpotcheckError::DurationTooLong),
        (MarketParams { liveness_slash_bps: 0, ..p }, SpotcheckError::LivenessSlashOutOfRange),
        (MarketParams { fee_bps: 10_001, ..p }, SpotcheckError::FeeTooHigh),
        (MarketParams { slash_split: split, ..p }, SpotcheckError::SlashSplitNotWhole),
    ] {
        let update = ix::market_update(&fixture.authority.pubkey(), &fixture.market, params);
        expect_error(
            env.send(&format!("market_update refused: {expected:?}"), &[update], &[&fixture.authority]),
            expected,
        );
    }
    let after: Market = env.account(&fixture.market);
    assert_eq!(before.params, after.params);
    env.assert_conservation(&fixture);
}

#[test]
fn update_refuses_a_stranger() {
    let mut env = TestEnv::new();
    let fixture = env.create_default_market();
    let stranger = env.wallet();
    let update =
        ix::market_update(&stranger.pubkey(), &fixture.market, MarketParams { fee_bps: 0, ..default_params() });
    expect_error(env.send("market_update by stranger", &[update], &[&stranger]), SpotcheckError::NotMarketAuthority);
    assert_eq!(env.account::<Market>(&fixture.market).params, default_params());
    env.assert_conservation(&fixture);
}

#[test]
fn authority_pauses_and_unpauses() {
    let mut env = TestEnv::new();
    let fixture = env.create_default_market();
    for paused in [true, false] {
        let set = ix::market_set_paused(&fixture.authority.pubkey(), &fixture.market, paused);
        let meta = env.send("market_set_paused", &[set], &[&fixture.authority]).expect("market_set_paused");
        assert_eq!(env.account::<Market>(&fixture.market).paused, paused);
        let event: MarketPausedSet = events::single(&meta.logs);
        assert_eq!(event.paused, paused);
    }
    let stranger = env.wallet();
    let set = ix::market_set_paused(&stranger.pubkey(), &fixture.market, true);
    expect_error(env.send("market_set_paused by stranger", &[set], &[&stranger]), SpotcheckError::NotMarketAuthority);
    assert!(!env.account::<Market>(&fixture.market).paused);
}

#[test]
fn authority_sets_the_oracle_set() {
    let mut env = TestEnv::new();
    let fixture = env.create_default_market();
    for (count, quorum, version) in [(3, 2, 1), (8, 5, 2), (1, 1, 3)] {
        let oracles = keys(count);
        let set = ix::market_set_oracles(&fixture.authority.pubkey(), &fixture.market, oracles.clone(), quorum);
        let meta = env.send(&format!("market_set_oracles ({count} keys)"), &[set], &[&fixture.authority]).expect("set");
        let market: Market = env.account(&fixture.market);
        assert_eq!(
            (market.oracles.clone(), market.quorum, market.oracle_set_version),
            (oracles.clone(), quorum, version)
        );
        let event: OraclesSet = events::single(&meta.logs);
        assert_eq!((event.oracles, event.quorum, event.version), (oracles, quorum, version));
    }
}

#[test]
fn oracle_set_refuses_bad_sets_and_strangers() {
    let mut env = TestEnv::new();
    let fixture = env.create_default_market();
    let good = keys(3);
    let set = ix::market_set_oracles(&fixture.authority.pubkey(), &fixture.market, good.clone(), 2);
    env.send("market_set_oracles", &[set], &[&fixture.authority]).expect("set");

    let duplicate = vec![good[0], good[1], good[0]];
    let cases: Vec<(Vec<Pubkey>, u8, SpotcheckError)> = vec![
        (vec![], 0, SpotcheckError::OracleSetSize),
        (keys(9), 5, SpotcheckError::OracleSetSize),
        (duplicate, 2, SpotcheckError::DuplicateOracle),
        (vec![good[0], Pubkey::default()], 2, SpotcheckError::OracleKeyInvalid),
        (keys(4), 2, SpotcheckError::QuorumNotMajority), // half is not a majority
        (keys(3), 4, SpotcheckError::QuorumNotMajority),
        (keys(3), 0, SpotcheckError::QuorumNotMajority),
    ];
    for (oracles, quorum, expected) in cases {
        let set = ix::market_set_oracles(&fixture.authority.pubkey(), &fixture.market, oracles, quorum);
        expect_error(
            env.send(&format!("market_set_oracles refused: {expected:?}"), &[set], &[&fixture.authority]),
            expected,
        );
    }
    let stranger = env.next_keypair();
    env.airdrop(&stranger.pubkey(), 1_000_000_000).expect("airdrop");
    let set = ix::market_set_oracles(&stranger.pubkey(), &fixture.market, keys(3), 2);
    expect_error(env.send("market_set_oracles by stranger", &[set], &[&stranger]), SpotcheckError::NotMarketAuthority);

    let market: Market = env.account(&fixture.market);
    assert_eq!((market.oracles, market.quorum, market.oracle_set_version), (good, 2, 1), "set unchanged");
}
