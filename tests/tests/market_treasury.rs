//! What a market earns — fees, failed challengers' bond shares, the
//! treasury's share of slashed collateral — stays in the program's own vaults
//! (`Market::treasury_payment`, `Market::treasury_stake`) until the authority
//! withdraws it with `market_withdraw_treasury`. No outside treasury account
//! takes part in any payout, so none can block one (issue 10 §2).

use anchor_lang::prelude::Pubkey;
use solana_signer::Signer;
use spotcheck::events::TreasuryWithdrawn;
use spotcheck::state::{Market, TreasurySide};
use spotcheck_client::instructions as ix;
use spotcheck_localchain::tokens::{TOKEN, TOKEN_2022};
use spotcheck_tests::jobs::{JobWorld, PRICE, always_sampled_params, rarely_sampled_params};
use spotcheck_tests::{SpotcheckError, TestEnv, events, expect_anchor_error, expect_error, swap_account};

fn market(env: &TestEnv, world: &JobWorld) -> Market {
    env.account(&world.market.market)
}

/// One honest job settled: its fee is the treasury's.
fn settled_job(env: &mut TestEnv, world: &JobWorld) {
    let job = env.attested_job(world);
    env.reveal(&job).expect("reveal");
    env.settle(world, &job).expect("settle");
}

fn withdraw(
    env: &mut TestEnv,
    world: &JobWorld,
    side: TreasurySide,
    amount: u64,
    to: &Pubkey,
) -> spotcheck_tests::TxResult {
    let withdraw =
        ix::market_withdraw_treasury(&world.market.authority.pubkey(), &world.market.keys(), side, amount, to);
    env.send("market_withdraw_treasury", &[withdraw], &[&world.market.authority])
}

#[test]
fn the_authority_withdraws_fees_and_slashed_stake_and_nothing_else() {
    for program in [TOKEN, TOKEN_2022] {
        let mut env = TestEnv::new();
        // One mint for both roles, then separate stake (Token-2022) and payment mints.
        let world = env.job_world(100, program, TOKEN, always_sampled_params());
        let total = env.total_tokens(&world);
        let job = env.attested_job(&world);
        env.reveal(&job).expect("reveal");
        env.verdict(&world, &job, 0, false).expect("fail");
        env.verdict(&world, &job, 1, false).expect("fail");
        env.slash(&world, &job, false).expect("slash");
        let passed = env.attested_job(&world);
        env.reveal(&passed).expect("reveal");
        env.verdict(&world, &passed, 0, true).expect("pass");
        env.verdict(&world, &passed, 1, true).expect("pass");
        env.settle(&world, &passed).expect("settle");
        let earned = market(&env, &world);
        let fee = (PRICE * 250).div_ceil(10_000);
        let collateral = PRICE * 30;
        assert_eq!((earned.treasury_payment, earned.treasury_stake), (fee, collateral - collateral / 2));

        let owner = Pubkey::new_unique();
        let payment_to = env.create_token_account(world.market.payment, &owner);
        let stake_to = env.create_token_account(world.market.stake, &owner);
        // More than the treasury holds is refused, though the vaults hold more (escrows, stakes).
        env.submit_job(&world); // an open escrow in the same vault
        assert!(env.balance(&world.market.escrow_vault) > fee);
        expect_error(
            withdraw(&mut env, &world, TreasurySide::Payment, fee + 1, &payment_to),
            SpotcheckError::TreasuryTooSmall,
        );
        expect_error(withdraw(&mut env, &world, TreasurySide::Payment, 0, &payment_to), SpotcheckError::ZeroAmount);
        let meta = withdraw(&mut env, &world, TreasurySide::Payment, fee, &payment_to).expect("payment side");
        let event: TreasuryWithdrawn = events::single(&meta.logs);
        assert_eq!(
            (event.side, event.amount, event.destination, event.remaining),
            (TreasurySide::Payment, fee, payment_to, 0)
        );
        let slashed_share = earned.treasury_stake;
        withdraw(&mut env, &world, TreasurySide::Stake, slashed_share, &stake_to).expect("stake side");
        assert_eq!(env.balances(&[payment_to, stake_to]), vec![fee, slashed_share]);
        let after = market(&env, &world);
        assert_eq!((after.treasury_payment, after.treasury_stake), (0, 0));
        // The open job's escrow is untouched.
        assert_eq!(env.balance(&world.market.escrow_vault), PRICE);
        env.assert_conservation(&world.market);
        assert_eq!(env.total_tokens(&world) + fee + slashed_share, total);
    }
}

#[test]
fn withdrawals_refuse_strangers_wrong_vaults_and_mints() {
    let mut env = TestEnv::new();
    let world = env.job_world(101, TOKEN_2022, TOKEN, rarely_sampled_params());
    settled_job(&mut env, &world);
    let fee = market(&env, &world).treasury_payment;
    let to = env.create_token_account(world.market.payment, &Pubkey::new_unique());
    let stake_to = env.create_token_account(world.market.stake, &Pubkey::new_unique());
    let before = env.balances(&[world.market.escrow_vault, world.market.stake_vault, to, stake_to]);

    let stranger = env.wallet();
    let by_stranger =
        ix::market_withdraw_treasury(&stranger.pubkey(), &world.market.keys(), TreasurySide::Payment, fee, &to);
    expect_error(env.send("withdraw by stranger", &[by_stranger], &[&stranger]), SpotcheckError::NotMarketAuthority);
    // The payment side must come out of the escrow vault, into a payment-mint account.
    let mut wrong_vault = ix::market_withdraw_treasury(
        &world.market.authority.pubkey(),
        &world.market.keys(),
        TreasurySide::Payment,
        fee,
        &to,
    );
    swap_account(&mut wrong_vault, world.market.escrow_vault, world.market.stake_vault);
    expect_error(
        env.send("withdraw wrong vault", &[wrong_vault], &[&world.market.authority]),
        SpotcheckError::WrongVault,
    );
    expect_error(withdraw(&mut env, &world, TreasurySide::Payment, fee, &stake_to), SpotcheckError::WrongMint);
    expect_error(withdraw(&mut env, &world, TreasurySide::Stake, 1, &stake_to), SpotcheckError::TreasuryTooSmall);
    // Nor back into the vault it comes from.
    expect_anchor_error(
        withdraw(&mut env, &world, TreasurySide::Payment, fee, &world.market.escrow_vault),
        anchor_lang::error::ErrorCode::ConstraintDuplicateMutableAccount,
    );
    let mut unsigned = ix::market_withdraw_treasury(
        &world.market.authority.pubkey(),
        &world.market.keys(),
        TreasurySide::Payment,
        fee,
        &to,
    );
    unsigned.accounts[0].is_signer = false;
    expect_anchor_error(
        env.send("withdraw unsigned", &[unsigned], &[]),
        anchor_lang::error::ErrorCode::AccountNotSigner,
    );

    assert_eq!(env.balances(&[world.market.escrow_vault, world.market.stake_vault, to, stake_to]), before);
    assert_eq!(market(&env, &world).treasury_payment, fee);
    env.assert_conservation(&world.market);
}

#[test]
fn withdrawals_refuse_the_other_vault_of_a_one_mint_market() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(103, rarely_sampled_params());
    settled_job(&mut env, &world);
    let fee = market(&env, &world).treasury_payment;
    // Fees moved into the stake vault would count as nobody's stake.
    expect_error(
        withdraw(&mut env, &world, TreasurySide::Payment, fee, &world.market.stake_vault),
        SpotcheckError::TreasuryIsVault,
    );
    assert_eq!(market(&env, &world).treasury_payment, fee);
    env.assert_conservation(&world.market);
}

#[test]
fn a_closed_or_frozen_treasury_destination_blocks_no_settlement() {
    // Fees used to be paid to a treasury token account at every settlement:
    // closing or freezing it stopped every settle and slash in the market.
    // Now fees accrue in the vault, whatever becomes of the accounts they are
    // later withdrawn to.
    let mut env = TestEnv::new();
    let world = env.default_job_world(102, rarely_sampled_params());
    let total = env.total_tokens(&world);
    settled_job(&mut env, &world);
    let first = env.create_token_account(world.market.payment, &Pubkey::new_unique());
    let fee = market(&env, &world).treasury_payment;
    withdraw(&mut env, &world, TreasurySide::Payment, fee, &first).expect("withdraw");
    env.freeze(world.market.payment, &first).expect("freeze the destination");
    settled_job(&mut env, &world);
    settled_job(&mut env, &world);
    assert_eq!(market(&env, &world).treasury_payment, 2 * fee);
    expect_failure_into_frozen(&mut env, &world, fee, &first);
    let second = env.create_token_account(world.market.payment, &Pubkey::new_unique());
    withdraw(&mut env, &world, TreasurySide::Payment, 2 * fee, &second).expect("withdraw elsewhere");
    env.assert_conservation(&world.market);
    assert_eq!(env.total_tokens(&world) + env.balance(&first) + env.balance(&second), total);
}

fn expect_failure_into_frozen(env: &mut TestEnv, world: &JobWorld, amount: u64, frozen: &Pubkey) {
    spotcheck_tests::expect_failure(withdraw(env, world, TreasurySide::Payment, amount, frozen));
    assert_eq!(market(env, world).treasury_payment, 2 * amount, "a failed withdrawal takes nothing off the books");
}
