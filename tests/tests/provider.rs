//! Providers: `provider_register`, `provider_stake`, `provider_request_unstake`,
//! `provider_withdraw`, `provider_rotate_worker`, `provider_set_endpoint`.
//! Every test ends with the conservation check; every refusal checks that no
//! token moved.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountSerialize, Discriminator};
use solana_signer::Signer;
use spotcheck::events::{
    ProviderEndpointSet, ProviderRegistered, ProviderStaked, ProviderUnstakeRequested, ProviderWithdrawn,
    ProviderWorkerRotated,
};
use spotcheck::state::{Market, Provider, ProviderStatus};
use spotcheck_client::instructions::{self as ix, MarketKeys};
use spotcheck_client::pda;
use spotcheck_localchain::tokens::TOKEN_2022;
use spotcheck_tests::fixtures::{MarketFixture, PROVIDER_FUNDS, ProviderFixture, default_params};
use spotcheck_tests::{SpotcheckError, TestEnv, events, expect_anchor_error, expect_error, swap_account};

const MIN_STAKE: u64 = 1_000_000; // default_params().min_provider_stake

fn provider(env: &TestEnv, p: &ProviderFixture) -> Provider {
    env.account(&p.provider)
}

/// Token balances a provider instruction could move: the wallet's source and the vault.
fn balances(env: &TestEnv, fixture: &MarketFixture, p: &ProviderFixture) -> Vec<u64> {
    env.balances(&[p.stake_source, fixture.stake_vault])
}

fn stake_ix(
    fixture: &MarketFixture,
    p: &ProviderFixture,
    amount: u64,
) -> anchor_lang::solana_program::instruction::Instruction {
    ix::provider_stake(&p.stake_wallet.pubkey(), &fixture.keys(), &p.stake_source, amount)
}

// --- register ---------------------------------------------------------------

#[test]
fn registers_with_a_cold_stake_wallet_and_a_hot_worker_key() {
    let mut env = TestEnv::new();
    let fixture = env.create_default_market();
    let stake_wallet = env.wallet();
    let worker = env.next_keypair();
    let register =
        ix::provider_register(&stake_wallet.pubkey(), &fixture.market, &worker.pubkey(), "https://gpu-1.example");
    let meta = env.send("provider_register", &[register], &[&stake_wallet]).expect("provider_register");

    let address = pda::provider(&fixture.market, &stake_wallet.pubkey());
    let stored: Provider = env.account(&address);
    assert_eq!(
        (stored.market, stored.stake_wallet, stored.worker),
        (fixture.market, stake_wallet.pubkey(), worker.pubkey())
    );
    assert_eq!(stored.endpoint, "https://gpu-1.example");
    assert_eq!((stored.staked, stored.locked, stored.pending_unstake, stored.faults), (0, 0, 0, 0));
    assert_eq!(stored.status, ProviderStatus::Active);
    // Its age, for clients weighing its history: a provider that re-registers
    // after being jailed starts again from here, with no history.
    assert_eq!(stored.registered_slot, env.slot());
    let event: ProviderRegistered = events::single(&meta.logs);
    assert_eq!((event.provider, event.worker), (address, worker.pubkey()));
}

#[test]
fn register_refuses_bad_endpoints_bad_worker_keys_pauses_and_duplicates() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let stake_wallet = env.wallet();
    let worker = Pubkey::new_unique();
    let too_long = format!("https://{}", "a".repeat(121));
    for endpoint in ["", "ftp://worker.example", "http://", "https://", "worker.example", too_long.as_str()] {
        let register = ix::provider_register(&stake_wallet.pubkey(), &fixture.market, &worker, endpoint);
        expect_error(
            env.send("provider_register bad endpoint", &[register], &[&stake_wallet]),
            SpotcheckError::BadEndpoint,
        );
    }
    for bad_worker in [stake_wallet.pubkey(), Pubkey::default()] {
        let register = ix::provider_register(&stake_wallet.pubkey(), &fixture.market, &bad_worker, "https://w.example");
        expect_error(
            env.send("provider_register bad worker", &[register], &[&stake_wallet]),
            SpotcheckError::BadWorkerKey,
        );
    }
    let pause = ix::market_set_paused(&fixture.authority.pubkey(), &fixture.market, true);
    env.send("market_set_paused", &[pause], &[&fixture.authority]).expect("pause");
    let register = ix::provider_register(&stake_wallet.pubkey(), &fixture.market, &worker, "https://w.example");
    expect_error(env.send("provider_register paused", &[register], &[&stake_wallet]), SpotcheckError::MarketPaused);
    assert!(!env.account_exists(&pda::provider(&fixture.market, &stake_wallet.pubkey())));

    let unpause = ix::market_set_paused(&fixture.authority.pubkey(), &fixture.market, false);
    env.send("market_set_paused", &[unpause], &[&fixture.authority]).expect("unpause");
    let p = env.register_provider(&mut fixture);
    let again = ix::provider_register(&p.stake_wallet.pubkey(), &fixture.market, &worker, "https://w.example");
    spotcheck_tests::expect_failure(env.send("provider_register twice", &[again], &[&p.stake_wallet]));
    assert_eq!(provider(&env, &p).worker, p.worker.pubkey(), "first registration untouched");
    env.assert_conservation(&fixture);
}

// --- stake ------------------------------------------------------------------

#[test]
fn stakes_into_the_vault_under_spl_token_and_token_2022() {
    for program in [anchor_spl::token::ID, TOKEN_2022] {
        let mut env = TestEnv::new();
        let mut fixture = env.create_market(program, program, default_params());
        let p = env.register_provider(&mut fixture);
        let meta = env.send("provider_stake", &[stake_ix(&fixture, &p, MIN_STAKE)], &[&p.stake_wallet]).expect("stake");
        let event: ProviderStaked = events::single(&meta.logs);
        assert_eq!((event.amount, event.staked), (MIN_STAKE, MIN_STAKE));
        env.send("provider_stake top-up", &[stake_ix(&fixture, &p, 5)], &[&p.stake_wallet]).expect("top-up");

        assert_eq!(provider(&env, &p).staked, MIN_STAKE + 5);
        assert_eq!(env.account::<Market>(&fixture.market).total_staked, MIN_STAKE + 5);
        assert_eq!(balances(&env, &fixture, &p), vec![PROVIDER_FUNDS - MIN_STAKE - 5, MIN_STAKE + 5]);
        env.assert_conservation(&fixture);
    }
}

#[test]
fn stake_refuses_below_minimum_zero_and_paused() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let p = env.register_provider(&mut fixture);
    let before = balances(&env, &fixture, &p);
    expect_error(
        env.send("provider_stake below min", &[stake_ix(&fixture, &p, MIN_STAKE - 1)], &[&p.stake_wallet]),
        SpotcheckError::BelowMinStake,
    );
    expect_error(
        env.send("provider_stake zero", &[stake_ix(&fixture, &p, 0)], &[&p.stake_wallet]),
        SpotcheckError::ZeroAmount,
    );
    let pause = ix::market_set_paused(&fixture.authority.pubkey(), &fixture.market, true);
    env.send("market_set_paused", &[pause], &[&fixture.authority]).expect("pause");
    expect_error(
        env.send("provider_stake paused", &[stake_ix(&fixture, &p, MIN_STAKE)], &[&p.stake_wallet]),
        SpotcheckError::MarketPaused,
    );
    assert_eq!(balances(&env, &fixture, &p), before, "no token moved");
    assert_eq!(provider(&env, &p).staked, 0);
    env.assert_conservation(&fixture);
}

#[test]
fn stake_refuses_wrong_signer_mint_vault_program_and_foreign_accounts() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let p = env.register_provider(&mut fixture);
    let mut other = env.create_default_market();
    let foreign = env.register_provider(&mut other);
    let before = (balances(&env, &fixture, &p), env.balances(&[foreign.stake_source, other.stake_vault]));

    // Someone else signing as the stake wallet.
    let thief = env.wallet();
    let mut stake = stake_ix(&fixture, &p, MIN_STAKE);
    stake.accounts[0].pubkey = thief.pubkey();
    expect_error(env.send("provider_stake wrong signer", &[stake], &[&thief]), SpotcheckError::NotStakeWallet);

    // A source of another mint, and another mint named as the stake mint.
    let other_mint = env.create_mint(anchor_spl::token::ID);
    let wrong_source = env.funded_token_account(other_mint, &p.stake_wallet.pubkey(), MIN_STAKE);
    let stake = ix::provider_stake(&p.stake_wallet.pubkey(), &fixture.keys(), &wrong_source, MIN_STAKE);
    expect_error(env.send("provider_stake wrong source mint", &[stake], &[&p.stake_wallet]), SpotcheckError::WrongMint);
    let accounts = MarketKeys { stake_mint: other_mint.mint, ..fixture.keys() };
    let stake = ix::provider_stake(&p.stake_wallet.pubkey(), &accounts, &p.stake_source, MIN_STAKE);
    expect_error(env.send("provider_stake wrong stake mint", &[stake], &[&p.stake_wallet]), SpotcheckError::WrongMint);

    // A source the stake wallet doesn't own (the foreign provider's tokens).
    let stake = ix::provider_stake(&p.stake_wallet.pubkey(), &fixture.keys(), &foreign.stake_source, MIN_STAKE);
    expect_error(
        env.send("provider_stake someone else's source", &[stake], &[&p.stake_wallet]),
        SpotcheckError::WrongMint,
    );

    // Another market's vault.
    let mut stake = stake_ix(&fixture, &p, MIN_STAKE);
    swap_account(&mut stake, fixture.stake_vault, other.stake_vault);
    expect_error(env.send("provider_stake foreign vault", &[stake], &[&p.stake_wallet]), SpotcheckError::WrongVault);

    // Token-2022 named for an SPL Token market.
    let accounts = MarketKeys { stake_token_program: TOKEN_2022, ..fixture.keys() };
    let stake = ix::provider_stake(&p.stake_wallet.pubkey(), &accounts, &p.stake_source, MIN_STAKE);
    expect_error(
        env.send("provider_stake wrong token program", &[stake], &[&p.stake_wallet]),
        SpotcheckError::WrongTokenProgram,
    );

    // Another market's provider account with this market.
    let mut stake =
        ix::provider_stake(&foreign.stake_wallet.pubkey(), &fixture.keys(), &foreign.stake_source, MIN_STAKE);
    swap_account(&mut stake, pda::provider(&fixture.market, &foreign.stake_wallet.pubkey()), foreign.provider);
    expect_error(
        env.send("provider_stake foreign provider", &[stake], &[&foreign.stake_wallet]),
        SpotcheckError::WrongMarket,
    );

    assert_eq!(
        (balances(&env, &fixture, &p), env.balances(&[foreign.stake_source, other.stake_vault])),
        before,
        "no token moved"
    );
    env.assert_conservation(&fixture);
    env.assert_conservation(&other);
}

#[test]
fn stake_refuses_a_source_owned_by_someone_else() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let p = env.register_provider(&mut fixture);
    let q = env.register_provider(&mut fixture);
    // q's source is of the right mint but owned by q's wallet, not p's.
    let stake = ix::provider_stake(&p.stake_wallet.pubkey(), &fixture.keys(), &q.stake_source, MIN_STAKE);
    expect_error(
        env.send("provider_stake foreign source", &[stake], &[&p.stake_wallet]),
        SpotcheckError::WrongTokenOwner,
    );
    assert_eq!(env.balance(&q.stake_source), PROVIDER_FUNDS);
    env.assert_conservation(&fixture);
}

// --- unstake and withdraw -------------------------------------------------------

#[test]
fn unstakes_after_the_unbonding_period() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let p = env.register_provider(&mut fixture);
    env.stake(&fixture, &p, 3 * MIN_STAKE);

    let request = ix::provider_request_unstake(&p.stake_wallet.pubkey(), &fixture.market, MIN_STAKE);
    let meta = env.send("provider_request_unstake", &[request], &[&p.stake_wallet]).expect("request");
    let release = env.slot() + default_params().unbonding_slots;
    let event: ProviderUnstakeRequested = events::single(&meta.logs);
    assert_eq!((event.amount, event.pending_unstake, event.release_slot), (MIN_STAKE, MIN_STAKE, release));
    assert_eq!(provider(&env, &p).free_stake().expect("free"), 2 * MIN_STAKE);
    env.assert_conservation(&fixture);

    // One slot early: refused, nothing moves.
    env.warp_slots(default_params().unbonding_slots - 1);
    let before = balances(&env, &fixture, &p);
    let withdraw = ix::provider_withdraw(&p.stake_wallet.pubkey(), &fixture.keys(), &p.stake_source);
    expect_error(
        env.send("provider_withdraw early", std::slice::from_ref(&withdraw), &[&p.stake_wallet]),
        SpotcheckError::StillUnbonding,
    );
    assert_eq!(balances(&env, &fixture, &p), before);

    env.warp_slots(1);
    let meta = env.send("provider_withdraw", std::slice::from_ref(&withdraw), &[&p.stake_wallet]).expect("withdraw");
    let event: ProviderWithdrawn = events::single(&meta.logs);
    assert_eq!((event.amount, event.staked), (MIN_STAKE, 2 * MIN_STAKE));
    assert_eq!(balances(&env, &fixture, &p), vec![PROVIDER_FUNDS - 2 * MIN_STAKE, 2 * MIN_STAKE]);
    let stored = provider(&env, &p);
    assert_eq!((stored.staked, stored.pending_unstake), (2 * MIN_STAKE, 0));
    expect_error(
        env.send("provider_withdraw twice", &[withdraw], &[&p.stake_wallet]),
        SpotcheckError::NothingToWithdraw,
    );
    env.assert_conservation(&fixture);
}

#[test]
fn a_second_request_restarts_unbonding_for_everything_pending() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let p = env.register_provider(&mut fixture);
    env.stake(&fixture, &p, 3 * MIN_STAKE);
    let request = ix::provider_request_unstake(&p.stake_wallet.pubkey(), &fixture.market, MIN_STAKE);
    env.send("provider_request_unstake", std::slice::from_ref(&request), &[&p.stake_wallet]).expect("first");
    env.warp_slots(500);
    env.send("provider_request_unstake again", &[request], &[&p.stake_wallet]).expect("second");
    let stored = provider(&env, &p);
    assert_eq!((stored.pending_unstake, stored.unstake_release_slot), (2 * MIN_STAKE, env.slot() + 1_000));
    env.warp_slots(999);
    let withdraw = ix::provider_withdraw(&p.stake_wallet.pubkey(), &fixture.keys(), &p.stake_source);
    expect_error(
        env.send("provider_withdraw before the new release", &[withdraw], &[&p.stake_wallet]),
        SpotcheckError::StillUnbonding,
    );
    env.assert_conservation(&fixture);
}

#[test]
fn unstake_refuses_more_than_free_stake_zero_and_strangers() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let p = env.register_provider(&mut fixture);
    env.stake(&fixture, &p, 2 * MIN_STAKE);
    let over = ix::provider_request_unstake(&p.stake_wallet.pubkey(), &fixture.market, 2 * MIN_STAKE + 1);
    expect_error(
        env.send("provider_request_unstake too much", &[over], &[&p.stake_wallet]),
        SpotcheckError::UnstakeExceedsFreeStake,
    );
    let zero = ix::provider_request_unstake(&p.stake_wallet.pubkey(), &fixture.market, 0);
    expect_error(env.send("provider_request_unstake zero", &[zero], &[&p.stake_wallet]), SpotcheckError::ZeroAmount);
    // The hot worker key cannot unstake.
    env.airdrop(&p.worker.pubkey(), 1_000_000_000).expect("airdrop");
    let mut by_worker = ix::provider_request_unstake(&p.stake_wallet.pubkey(), &fixture.market, MIN_STAKE);
    by_worker.accounts[0].pubkey = p.worker.pubkey();
    expect_error(
        env.send("provider_request_unstake by worker", &[by_worker], &[&p.worker]),
        SpotcheckError::NotStakeWallet,
    );
    assert_eq!(provider(&env, &p).pending_unstake, 0);
    env.assert_conservation(&fixture);
}

/// Writes `locked` into a provider account, standing in for the collateral a
/// claimed job locks (job_claim comes with the job instructions).
fn lock_collateral(env: &mut TestEnv, p: &ProviderFixture, locked: u64) {
    let mut stored = provider(env, p);
    stored.locked = locked;
    let mut account = env.svm.get_account(&p.provider).expect("provider account");
    let mut data = Vec::with_capacity(account.data.len());
    stored.try_serialize(&mut data).expect("serialize");
    assert_eq!(&data[..8], Provider::DISCRIMINATOR);
    account.data[..data.len()].copy_from_slice(&data);
    env.svm.set_account(p.provider, account).expect("set provider");
}

#[test]
fn locked_collateral_can_never_be_unstaked() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let p = env.register_provider(&mut fixture);
    env.stake(&fixture, &p, 3 * MIN_STAKE);
    lock_collateral(&mut env, &p, 2 * MIN_STAKE);

    let all = ix::provider_request_unstake(&p.stake_wallet.pubkey(), &fixture.market, 3 * MIN_STAKE);
    expect_error(
        env.send("provider_request_unstake locked", &[all], &[&p.stake_wallet]),
        SpotcheckError::UnstakeExceedsFreeStake,
    );
    let free = ix::provider_request_unstake(&p.stake_wallet.pubkey(), &fixture.market, MIN_STAKE);
    env.send("provider_request_unstake free part", &[free], &[&p.stake_wallet]).expect("free part");
    let more = ix::provider_request_unstake(&p.stake_wallet.pubkey(), &fixture.market, 1);
    expect_error(
        env.send("provider_request_unstake one more", &[more], &[&p.stake_wallet]),
        SpotcheckError::UnstakeExceedsFreeStake,
    );

    env.warp_slots(default_params().unbonding_slots);
    let withdraw = ix::provider_withdraw(&p.stake_wallet.pubkey(), &fixture.keys(), &p.stake_source);
    env.send("provider_withdraw", &[withdraw], &[&p.stake_wallet]).expect("withdraw");
    let stored = provider(&env, &p);
    assert_eq!((stored.staked, stored.locked), (2 * MIN_STAKE, 2 * MIN_STAKE), "the locked part stays");
    assert_eq!(env.balance(&fixture.stake_vault), 2 * MIN_STAKE);
    env.assert_conservation(&fixture);
}

#[test]
fn a_paused_market_still_lets_stake_leave() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let p = env.register_provider(&mut fixture);
    env.stake(&fixture, &p, MIN_STAKE);
    let pause = ix::market_set_paused(&fixture.authority.pubkey(), &fixture.market, true);
    env.send("market_set_paused", &[pause], &[&fixture.authority]).expect("pause");
    let request = ix::provider_request_unstake(&p.stake_wallet.pubkey(), &fixture.market, MIN_STAKE);
    env.send("provider_request_unstake (paused)", &[request], &[&p.stake_wallet]).expect("request");
    env.warp_slots(default_params().unbonding_slots);
    let withdraw = ix::provider_withdraw(&p.stake_wallet.pubkey(), &fixture.keys(), &p.stake_source);
    env.send("provider_withdraw (paused)", &[withdraw], &[&p.stake_wallet]).expect("withdraw");
    assert_eq!(env.balance(&p.stake_source), PROVIDER_FUNDS);
    env.assert_conservation(&fixture);
}

#[test]
fn withdraw_refuses_wrong_vault_mint_and_signer() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let p = env.register_provider(&mut fixture);
    env.stake(&fixture, &p, 2 * MIN_STAKE);
    let mut other = env.create_default_market();
    let q = env.register_provider(&mut other);
    env.stake(&other, &q, 2 * MIN_STAKE);
    let request = ix::provider_request_unstake(&p.stake_wallet.pubkey(), &fixture.market, MIN_STAKE);
    env.send("provider_request_unstake", &[request], &[&p.stake_wallet]).expect("request");
    env.warp_slots(default_params().unbonding_slots);
    let before = env.balances(&[p.stake_source, fixture.stake_vault, other.stake_vault]);

    let withdraw = || ix::provider_withdraw(&p.stake_wallet.pubkey(), &fixture.keys(), &p.stake_source);
    let mut from_other_vault = withdraw();
    swap_account(&mut from_other_vault, fixture.stake_vault, other.stake_vault);
    expect_error(
        env.send("provider_withdraw foreign vault", &[from_other_vault], &[&p.stake_wallet]),
        SpotcheckError::WrongVault,
    );

    let other_mint = env.create_mint(anchor_spl::token::ID);
    let wrong_destination = env.create_token_account(other_mint, &p.stake_wallet.pubkey());
    let to_wrong_mint = ix::provider_withdraw(&p.stake_wallet.pubkey(), &fixture.keys(), &wrong_destination);
    expect_error(
        env.send("provider_withdraw wrong mint", &[to_wrong_mint], &[&p.stake_wallet]),
        SpotcheckError::WrongMint,
    );

    let thief = env.wallet();
    let mut by_thief = withdraw();
    by_thief.accounts[0].pubkey = thief.pubkey();
    expect_error(env.send("provider_withdraw by thief", &[by_thief], &[&thief]), SpotcheckError::NotStakeWallet);

    let mut unsigned = withdraw();
    unsigned.accounts[0].is_signer = false;
    expect_anchor_error(
        env.send("provider_withdraw unsigned", &[unsigned], &[]),
        anchor_lang::error::ErrorCode::AccountNotSigner,
    );

    assert_eq!(env.balances(&[p.stake_source, fixture.stake_vault, other.stake_vault]), before, "no token moved");
    env.send("provider_withdraw", &[withdraw()], &[&p.stake_wallet]).expect("the right withdraw still works");
    env.assert_conservation(&fixture);
    env.assert_conservation(&other);
}

// --- keys and endpoint ------------------------------------------------------------

#[test]
fn the_stake_wallet_rotates_the_worker_key() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let p = env.register_provider(&mut fixture);
    let new_worker = Pubkey::new_unique();
    let rotate = ix::provider_rotate_worker(&p.stake_wallet.pubkey(), &fixture.market, &new_worker);
    let meta = env.send("provider_rotate_worker", &[rotate], &[&p.stake_wallet]).expect("rotate");
    assert_eq!(provider(&env, &p).worker, new_worker);
    let event: ProviderWorkerRotated = events::single(&meta.logs);
    assert_eq!((event.old_worker, event.new_worker), (p.worker.pubkey(), new_worker));

    for bad in [new_worker, p.stake_wallet.pubkey(), Pubkey::default()] {
        let rotate = ix::provider_rotate_worker(&p.stake_wallet.pubkey(), &fixture.market, &bad);
        expect_error(
            env.send("provider_rotate_worker bad key", &[rotate], &[&p.stake_wallet]),
            SpotcheckError::BadWorkerKey,
        );
    }
    // The (old) worker key can't rotate itself back in.
    env.airdrop(&p.worker.pubkey(), 1_000_000_000).expect("airdrop");
    let mut by_worker = ix::provider_rotate_worker(&p.stake_wallet.pubkey(), &fixture.market, &p.worker.pubkey());
    by_worker.accounts[0].pubkey = p.worker.pubkey();
    expect_error(
        env.send("provider_rotate_worker by worker", &[by_worker], &[&p.worker]),
        SpotcheckError::NotStakeWallet,
    );
    assert_eq!(provider(&env, &p).worker, new_worker);
}

#[test]
fn the_stake_wallet_moves_the_endpoint() {
    let mut env = TestEnv::new();
    let mut fixture = env.create_default_market();
    let p = env.register_provider(&mut fixture);
    let set = ix::provider_set_endpoint(&p.stake_wallet.pubkey(), &fixture.market, "http://10.0.0.7:9000");
    let meta = env.send("provider_set_endpoint", &[set], &[&p.stake_wallet]).expect("set endpoint");
    assert_eq!(provider(&env, &p).endpoint, "http://10.0.0.7:9000");
    let event: ProviderEndpointSet = events::single(&meta.logs);
    assert_eq!(event.endpoint, "http://10.0.0.7:9000");

    let bad = ix::provider_set_endpoint(&p.stake_wallet.pubkey(), &fixture.market, "gopher://old.example");
    expect_error(env.send("provider_set_endpoint bad", &[bad], &[&p.stake_wallet]), SpotcheckError::BadEndpoint);
    let stranger = env.wallet();
    let mut by_stranger = ix::provider_set_endpoint(&p.stake_wallet.pubkey(), &fixture.market, "https://evil.example");
    by_stranger.accounts[0].pubkey = stranger.pubkey();
    expect_error(
        env.send("provider_set_endpoint by stranger", &[by_stranger], &[&stranger]),
        SpotcheckError::NotStakeWallet,
    );
    assert_eq!(provider(&env, &p).endpoint, "http://10.0.0.7:9000");
}
