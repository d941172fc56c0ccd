//! `market_create` against the SBF build: the vaults it makes, the event it
//! emits, and every parameter it refuses.

use anchor_lang::prelude::Pubkey;
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
        assert_eq!(market.treasury, fixture.treasury);
        assert_eq!(market.params, default_params());
        assert!(market.oracles.is_empty() && market.quorum == 0 && !market.paused);
        assert_eq!((market.job_count, market.total_staked, market.total_escrowed), (0, 0, 0));

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

#[test]
fn refuses_collateral_too_low_for_the_sample_rate() {
    // p = 5 % needs ratio >= 19x: 18.99x is refused, 19x passes (default_params).
    refuses(MarketParams { collateral_ratio_bps: 189_999, ..default_params() }, SpotcheckError::CollateralRatioTooLow);
    // p = 50 % needs 1x.
    refuses(
        MarketParams { sample_rate_bps: 5_000, collateral_ratio_bps: 9_999, ..default_params() },
        SpotcheckError::CollateralRatioTooLow,
    );
}

#[test]
fn accepts_the_exact_proof_of_sampling_boundary() {
    for (sample_rate_bps, collateral_ratio_bps) in [(5_000, 10_000), (10_000, 0), (1, 99_990_000)] {
        let mut env = TestEnv::new();
        let params = MarketParams { sample_rate_bps, collateral_ratio_bps, ..default_params() };
        let fixture = env.create_market(TOKEN, TOKEN, params);
        assert_eq!(env.account::<Market>(&fixture.market).params, params);
    }
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
    refuses(MarketParams { liveness_slash_bps: 10_001, ..p }, SpotcheckError::LivenessSlashTooHigh);
    refuses(MarketParams { claim_timeout_slots: 0, ..p }, SpotcheckError::ZeroDuration);
    refuses(MarketParams { challenge_window_slots: 0, ..p }, SpotcheckError::ZeroDuration);
    refuses(MarketParams { min_provider_stake: 0, ..p }, SpotcheckError::ZeroMinStake);
    refuses(MarketParams { challenge_bond: 0, ..p }, SpotcheckError::ZeroChallengeBond);
    refuses(MarketParams { max_faults: 0, ..p }, SpotcheckError::ZeroMaxFaults);
    refuses(MarketParams { claim_timeout_slots: u64::MAX, ..p }, SpotcheckError::MathOverflow);
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
fn refuses_a_treasury_of_another_mint() {
    let mut env = TestEnv::new();
    let fixture = env.market_setup(TOKEN, TOKEN);
    let other = env.create_mint(TOKEN);
    let wrong_treasury = env.create_token_account(other, &Pubkey::new_unique());
    let tokens = MarketTokens { treasury: wrong_treasury, ..fixture.tokens() };
    let lamports_before = env.lamports(&fixture.authority.pubkey());
    let create = ix::market_create(&fixture.authority.pubkey(), fixture.market_id, &tokens, default_params());
    expect_error(
        env.send("market_create wrong treasury", &[create], &[&fixture.authority]),
        SpotcheckError::WrongTreasuryMint,
    );
    assert_nothing_created(&env, &fixture, lamports_before);
}

#[test]
fn refuses_token_2022_mints_that_can_move_vault_tokens() {
    for role in ["stake", "payment"] {
        let mut env = TestEnv::new();
        let mut fixture = env.market_setup(TOKEN_2022, TOKEN_2022);
        let fee_mint = env.create_transfer_fee_mint();
        if role == "stake" {
            fixture.stake = fee_mint;
            fixture.stake_treasury = env.create_token_account(fee_mint, &Pubkey::new_unique());
        } else {
            fixture.payment = fee_mint;
            fixture.treasury = env.create_token_account(fee_mint, &Pubkey::new_unique());
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
