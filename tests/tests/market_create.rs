//! `market_create` against the SBF build: the vaults it makes, the event it
//! emits, and every parameter it refuses.

use solana_instruction_error::InstructionError;
use solana_signer::Signer;
use solana_transaction_error::TransactionError;
use spotcheck::state::{Market, MarketParams};
use spotcheck_client::instructions::{self as ix, MarketTokens};
use spotcheck_localchain::tokens::{TOKEN, TOKEN_2022};
use spotcheck_tests::fixtures::{MarketFixture, default_params};
use spotcheck_tests::{SpotcheckError, TestEnv, expect_anchor_error, expect_error};

#[test]
fn creates_market_with_vaults_owned_by_the_market() {
    for (stake_program, payment_program) in [(TOKEN, TOKEN), (TOKEN, TOKEN_2022), (TOKEN_2022, TOKEN_2022)] {
        let mut env = TestEnv::new();
        let fixture = env.create_market(stake_program, payment_program, default_params());

        let market: Market = env.account(&fixture.market);
        assert_eq!(market.authority, fixture.authority.pubkey());
        assert_eq!(market.market_id, fixture.market_id);
        assert_eq!(market.stake_mint, fixture.stake.mint);
        assert_eq!(market.payment_mint, fixture.payment.mint);
        assert_eq!(market.stake_token_program, stake_program);
        assert_eq!(market.payment_token_program, payment_program);
        assert_eq!(market.stake_vault, fixture.stake_vault);
        assert_eq!(market.escrow_vault, fixture.escrow_vault);
        assert_eq!(market.params, default_params());
        assert!(market.oracles.is_empty() && market.quorum == 0 && !market.paused);
        assert_eq!((market.job_count, market.total_staked, market.total_escrowed), (0, 0, 0));
        assert_eq!((market.treasury_payment, market.treasury_stake), (0, 0));

        for (vault, mint) in [(fixture.stake_vault, fixture.stake), (fixture.escrow_vault, fixture.payment)] {
            let account = env.svm.get_account(&vault).expect("vault exists");
            assert_eq!(account.owner, mint.program, "vault belongs to its mint's token program");
            assert_eq!(account.data[0..32], mint.mint.to_bytes(), "vault mint");
            assert_eq!(account.data[32..64], fixture.market.to_bytes(), "vault authority is the market PDA");
        }
        env.assert_conservation(&fixture);
    }
}

#[test]
fn emits_market_created() {
    let mut env = TestEnv::new();
    let fixture = env.market_setup(TOKEN, TOKEN);
    let create = ix::market_create(&fixture.authority.pubkey(), fixture.market_id, &fixture.tokens(), default_params());
    let meta = env.send("market_create", &[create], &[&fixture.authority]).expect("market_create");
    let event: spotcheck::events::MarketCreated = spotcheck_tests::events::single(&meta.logs);
    assert_eq!(event.market, fixture.market);
    assert_eq!(event.authority, fixture.authority.pubkey());
    assert_eq!(event.params, default_params());
}

/// Sends market_create with `params` and checks it fails with `expected` and creates nothing.
fn refuses(params: MarketParams, expected: SpotcheckError) {
    let mut env = TestEnv::new();
    let fixture = env.market_setup(TOKEN, TOKEN);
    let lamports_before = env.lamports(&fixture.authority.pubkey());
    let create = ix::market_create(&fixture.authority.pubkey(), fixture.market_id, &fixture.tokens(), params);
    expect_error(env.send(&format!("market_create refused: {expected:?}"), &[create], &[&fixture.authority]), expected);
    assert_nothing_created(&env, &fixture, lamports_before);
}

fn assert_nothing_created(env: &TestEnv, fixture: &MarketFixture, lamports_before: u64) {
    assert!(!env.account_exists(&fixture.market), "market must not exist");
    assert!(!env.account_exists(&fixture.stake_vault), "stake vault must not exist");
    assert!(!env.account_exists(&fixture.escrow_vault), "escrow vault must not exist");
    assert_eq!(env.lamports(&fixture.authority.pubkey()), lamports_before, "authority paid nothing");
}

/// The least collateral ratio (bps) under which cheating loses for sample
/// rate `s` and challenger share `h`: the smallest r with
/// p x (1 + (1 - h) x r) > 1, found by bisection in u128, independently of the
/// program's u64 arithmetic. None if no u32 ratio is enough.
fn least_safe_ratio(s: u16, h: u16) -> Option<u32> {
    let loses = |r: u32| {
        let (s, kept, r) = (u128::from(s), 10_000 - u128::from(h), u128::from(r));
        s * (100_000_000 + kept * r) > 1_000_000_000_000
    };
    if !loses(u32::MAX) {
        return None;
    }
    let (mut lo, mut hi) = (0u32, u32::MAX); // loses(hi); lo = 0 or !loses(lo)
    if loses(lo) {
        return Some(0);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if loses(mid) { hi = mid } else { lo = mid }
    }
    Some(hi)
}

#[test]
fn refuses_collateral_at_or_below_the_cheating_boundary() {
    let p = default_params();
    for (sample_rate_bps, challenger_bps) in [(500, 3_000), (500, 0), (5_000, 3_000), (1, 3_000), (2_000, 3_000)] {
        let least = least_safe_ratio(sample_rate_bps, challenger_bps).expect("a safe ratio exists");
        let mut slash_split = p.slash_split;
        slash_split.challenger_bps = challenger_bps;
        slash_split.treasury_bps = 10_000 - slash_split.client_bps - challenger_bps;
        let params = MarketParams { sample_rate_bps, slash_split, ..p };
        // Equality is refused: at the boundary cheating breaks even, it must lose.
        refuses(MarketParams { collateral_ratio_bps: least - 1, ..params }, SpotcheckError::CollateralRatioTooLow);
        let mut env = TestEnv::new();
        let accepted = MarketParams { collateral_ratio_bps: least, ..params };
        let fixture = env.create_market(TOKEN, TOKEN, accepted);
        assert_eq!(env.account::<Market>(&fixture.market).params, accepted);
    }
    // The figures the README quotes: 5 % with a 30 % challenger share needs
    // more than 27.14x; without a challenger share, more than 19x (exactly 19x
    // used to pass).
    assert_eq!(least_safe_ratio(500, 3_000), Some(271_429));
    assert_eq!(least_safe_ratio(500, 0), Some(190_001));
    refuses(MarketParams { collateral_ratio_bps: 190_000, ..p }, SpotcheckError::CollateralRatioTooLow);
}

#[test]
fn refuses_a_challenger_share_that_makes_self_challenge_free() {
    // With the whole collateral to the challenger, a cheat that challenges
    // itself gets all of it back: no collateral ratio can make that lose.
    let p = default_params();
    let split = spotcheck::state::SlashSplit { client_bps: 0, challenger_bps: 10_000, treasury_bps: 0 };
    for collateral_ratio_bps in [300_000, u32::MAX] {
        refuses(MarketParams { slash_split: split, collateral_ratio_bps, ..p }, SpotcheckError::CollateralRatioTooLow);
    }
    assert_eq!(least_safe_ratio(500, 10_000), None);
}

#[test]
fn refuses_out_of_range_parameters() {
    let p = default_params();
    refuses(MarketParams { fee_bps: 10_001, ..p }, SpotcheckError::FeeTooHigh);
    refuses(MarketParams { sample_rate_bps: 0, ..p }, SpotcheckError::SampleRateOutOfRange);
    refuses(MarketParams { sample_rate_bps: 10_001, ..p }, SpotcheckError::SampleRateOutOfRange);
    let mut split = p.slash_split;
    split.treasury_bps += 1;
    refuses(MarketParams { slash_split: split, ..p }, SpotcheckError::SlashSplitNotWhole);
    refuses(MarketParams { liveness_slash_bps: 10_001, ..p }, SpotcheckError::LivenessSlashOutOfRange);
    // A withheld output or an abandoned claim must cost something.
    refuses(MarketParams { liveness_slash_bps: 0, ..p }, SpotcheckError::LivenessSlashOutOfRange);
    refuses(MarketParams { claim_timeout_slots: 0, ..p }, SpotcheckError::ZeroDuration);
    refuses(MarketParams { challenge_window_slots: 0, ..p }, SpotcheckError::ZeroDuration);
    refuses(MarketParams { min_provider_stake: 0, ..p }, SpotcheckError::ZeroMinStake);
    refuses(MarketParams { challenge_bond: 0, ..p }, SpotcheckError::ZeroChallengeBond);
    refuses(MarketParams { max_faults: 0, ..p }, SpotcheckError::ZeroMaxFaults);
    refuses(MarketParams { claim_timeout_slots: u64::MAX, ..p }, SpotcheckError::DurationTooLong);
    refuses(MarketParams { attestation_deadline_slots: 1_512_001, ..p }, SpotcheckError::DurationTooLong);
}

#[test]
fn refuses_unbonding_not_longer_than_the_longest_job() {
    let p = default_params();
    let longest =
        p.claim_timeout_slots + p.attestation_deadline_slots + p.challenge_window_slots + p.verdict_timeout_slots;
    refuses(MarketParams { unbonding_slots: longest, ..p }, SpotcheckError::UnbondingTooShort);
    let mut env = TestEnv::new();
    env.create_market(TOKEN, TOKEN, MarketParams { unbonding_slots: longest + 1, ..p });
}

#[test]
fn refuses_an_unbonding_period_that_traps_stake() {
    // 2^63 slots would trap every provider's free stake for good.
    let p = default_params();
    refuses(MarketParams { unbonding_slots: 1 << 63, ..p }, SpotcheckError::UnbondingTooLong);
    refuses(MarketParams { unbonding_slots: 6_480_001, ..p }, SpotcheckError::UnbondingTooLong);
    let mut env = TestEnv::new();
    env.create_market(TOKEN, TOKEN, MarketParams { unbonding_slots: 6_480_000, ..p });
}

#[test]
fn refuses_token_2022_mints_that_can_move_vault_tokens() {
    for role in ["stake", "payment"] {
        let mut env = TestEnv::new();
        let mut fixture = env.market_setup(TOKEN_2022, TOKEN_2022);
        let fee_mint = env.create_transfer_fee_mint();
        if role == "stake" {
            fixture.stake = fee_mint;
        } else {
            fixture.payment = fee_mint;
        }
        let lamports_before = env.lamports(&fixture.authority.pubkey());
        let create =
            ix::market_create(&fixture.authority.pubkey(), fixture.market_id, &fixture.tokens(), default_params());
        expect_error(
            env.send(&format!("market_create transfer-fee {role} mint"), &[create], &[&fixture.authority]),
            SpotcheckError::UnsupportedMintExtension,
        );
        assert_nothing_created(&env, &fixture, lamports_before);
    }
}

#[test]
fn refuses_a_mint_under_the_wrong_token_program() {
    let mut env = TestEnv::new();
    let fixture = env.market_setup(TOKEN, TOKEN);
    let tokens = MarketTokens { stake_token_program: TOKEN_2022, ..fixture.tokens() };
    let lamports_before = env.lamports(&fixture.authority.pubkey());
    let create = ix::market_create(&fixture.authority.pubkey(), fixture.market_id, &tokens, default_params());
    // Anchor creates `init` vaults before it checks the other accounts'
    // constraints, so the named token program refuses the vault first.
    let err = spotcheck_tests::expect_failure(env.send(
        "market_create wrong token program",
        &[create],
        &[&fixture.authority],
    ));
    assert_eq!(
        err,
        TransactionError::InstructionError(0, InstructionError::IncorrectProgramId),
        "the token program refuses a mint it doesn't own"
    );
    assert_nothing_created(&env, &fixture, lamports_before);
}

#[test]
fn refuses_an_authority_that_did_not_sign() {
    let mut env = TestEnv::new();
    let fixture = env.market_setup(TOKEN, TOKEN);
    let mut create =
        ix::market_create(&fixture.authority.pubkey(), fixture.market_id, &fixture.tokens(), default_params());
    create.accounts[0].is_signer = false;
    let lamports_before = env.lamports(&fixture.authority.pubkey());
    expect_anchor_error(
        env.send("market_create unsigned", &[create], &[]),
        anchor_lang::error::ErrorCode::AccountNotSigner,
    );
    assert_nothing_created(&env, &fixture, lamports_before);
}

#[test]
fn refuses_creating_the_same_market_twice() {
    let mut env = TestEnv::new();
    let fixture = env.create_market(TOKEN, TOKEN, default_params());
    let before: Market = env.account(&fixture.market);
    let again = ix::market_create(
        &fixture.authority.pubkey(),
        fixture.market_id,
        &fixture.tokens(),
        MarketParams { fee_bps: 0, ..default_params() },
    );
    spotcheck_tests::expect_failure(env.send("market_create twice", &[again], &[&fixture.authority]));
    let after: Market = env.account(&fixture.market);
    assert_eq!(before.params, after.params, "the first market is untouched");
    env.assert_conservation(&fixture);
}
