//! A market ready for jobs — three oracles (quorum 2), a staked provider, a
//! model, a funded client and a challenger — and one helper per lifecycle
//! step, so each test reads as the story it checks.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck::instructions::{JobSubmitArgs, JobSubmitResultArgs};
use spotcheck::state::{Job, Market, MarketParams};
use spotcheck_client::instructions::{self as ix, JobKeys, JobRecipients};
use spotcheck_client::pda;

use crate::fixtures::{MarketFixture, ProviderFixture, default_params};
use crate::{TestEnv, TxResult};

/// Payment tokens the client and the challenger start with.
pub const CLIENT_FUNDS: u64 = 10_000_000;
/// Stake the provider puts up (out of `PROVIDER_FUNDS`).
pub const PROVIDER_STAKE: u64 = 50_000_000;
/// Token budget of a default job: price = 10 per token x 16 = 160.
pub const BUDGET: u32 = 16;
pub const PRICE: u64 = 160;
pub const OUTPUT_HASH: [u8; 32] = [0x0a; 32];
pub const TRACE_ROOT: [u8; 32] = [0x7e; 32];

/// Parameters under which a job is (as good as) never sampled: p = 0.01 %,
/// with the collateral the cheating check then demands (above 14 284x with a
/// 30 % challenger share): 15 000x.
pub fn rarely_sampled_params() -> MarketParams {
    MarketParams { sample_rate_bps: 1, collateral_ratio_bps: RARELY_SAMPLED_RATIO_BPS, ..default_params() }
}

/// `rarely_sampled_params`' collateral ratio.
pub const RARELY_SAMPLED_RATIO_BPS: u32 = 150_000_000;

/// Parameters under which every job is sampled (p = 100 %), collateral 30x.
pub fn always_sampled_params() -> MarketParams {
    MarketParams { sample_rate_bps: 10_000, ..default_params() }
}

pub struct JobWorld {
    pub market: MarketFixture,
    pub provider: ProviderFixture,
    pub oracles: Vec<Keypair>,
    pub model: Pubkey,
    pub client: Keypair,
    /// The client's payment-token account.
    pub client_token: Pubkey,
    /// The client's stake-token account (`client_token` when the mints are the same).
    pub client_stake_token: Pubkey,
    /// The provider's payment-token account (owned by its stake wallet).
    pub provider_payout: Pubkey,
    pub challenger: Keypair,
    pub challenger_token: Pubkey,
    pub challenger_stake_token: Pubkey,
    /// The client's next job nonce (see `next_nonce`).
    nonces: std::cell::Cell<u64>,
}

impl JobWorld {
    /// A nonce the client hasn't used yet. Any unused value works; counting
    /// keeps job addresses, and so draws and compute units, the same every run.
    pub fn next_nonce(&self) -> u64 {
        let nonce = self.nonces.get();
        self.nonces.set(nonce + 1);
        nonce
    }

    /// The address of the client's job with `nonce`.
    pub fn job_address(&self, nonce: u64) -> Pubkey {
        pda::job(&self.market.market, &self.client.pubkey(), nonce)
    }

    /// Every token account in play, vaults included: their sum never changes.
    pub fn token_accounts(&self) -> Vec<Pubkey> {
        let mut accounts = vec![
            self.market.stake_vault,
            self.market.escrow_vault,
            self.provider.stake_source,
            self.client_token,
            self.client_stake_token,
            self.provider_payout,
            self.challenger_token,
            self.challenger_stake_token,
        ];
        accounts.sort();
        accounts.dedup();
        accounts
    }

    pub fn recipients(&self, challenged: bool) -> JobRecipients {
        JobRecipients {
            client_token: self.client_token,
            client_stake_token: self.client_stake_token,
            challenger: challenged.then_some((self.challenger_token, self.challenger_stake_token)),
        }
    }
}

impl TestEnv {
    /// A job world on a market of `stake_program` stake and `payment_program`
    /// payments (one mint when the programs are the same). `seed` fixes the
    /// market authority, and so every job address and sampling draw.
    pub fn job_world(
        &mut self,
        seed: u8,
        stake_program: Pubkey,
        payment_program: Pubkey,
        params: MarketParams,
    ) -> JobWorld {
        let authority = self.seeded_wallet(seed);
        let mut market = self.market_setup_for(authority, stake_program, payment_program);
        let create = ix::market_create(&market.authority.pubkey(), market.market_id, &market.tokens(), params);
        self.send("market_create", &[create], &[&market.authority]).expect("market_create");
        let oracles: Vec<Keypair> = (0..3).map(|_| self.wallet()).collect();
        let set = ix::market_set_oracles(
            &market.authority.pubkey(),
            &market.market,
            oracles.iter().map(|o| o.pubkey()).collect(),
            2,
        );
        self.send("market_set_oracles", &[set], &[&market.authority]).expect("market_set_oracles");
        let model = self.register_model(&market);
        let provider = self.register_provider(&mut market);
        self.stake(&market, &provider, PROVIDER_STAKE);
        self.airdrop(&provider.worker.pubkey(), 1_000_000_000).expect("fund worker");

        let client = self.wallet();
        let client_token = self.funded_token_account(market.payment, &client.pubkey(), CLIENT_FUNDS);
        let client_stake_token = if market.stake == market.payment {
            client_token
        } else {
            self.create_token_account(market.stake, &client.pubkey())
        };
        let provider_payout = self.create_token_account(market.payment, &provider.stake_wallet.pubkey());
        let challenger = self.wallet();
        let challenger_token = self.funded_token_account(market.payment, &challenger.pubkey(), CLIENT_FUNDS);
        let challenger_stake_token = if market.stake == market.payment {
            challenger_token
        } else {
            self.create_token_account(market.stake, &challenger.pubkey())
        };
        JobWorld {
            market,
            provider,
            oracles,
            model,
            client,
            client_token,
            client_stake_token,
            provider_payout,
            challenger,
            challenger_token,
            challenger_stake_token,
            nonces: std::cell::Cell::new(0),
        }
    }

    /// The default job world: one SPL Token mint, default parameters.
    pub fn default_job_world(&mut self, seed: u8, params: MarketParams) -> JobWorld {
        self.job_world(seed, anchor_spl::token::ID, anchor_spl::token::ID, params)
    }

    /// The sum of every token balance in `world`.
    pub fn total_tokens(&self, world: &JobWorld) -> u64 {
        self.balances(&world.token_accounts()).iter().sum()
    }

    /// Conservation for a job world: vaults match the accounts, and no token
    /// appeared or vanished (`expected_total` is what `total_tokens` was at the start).
    #[track_caller]
    pub fn assert_job_conservation(&self, world: &JobWorld, expected_total: u64) {
        self.assert_conservation(&world.market);
        assert_eq!(self.total_tokens(world), expected_total, "tokens appeared or vanished");
    }

    pub fn job_count(&self, world: &JobWorld) -> u64 {
        self.account::<Market>(&world.market.market).job_count
    }

    /// A job submission at a fresh nonce.
    pub fn submit_job_ix(&self, world: &JobWorld, prompt: &str, token_budget: u32, max_price: u64) -> Instruction {
        Self::submit_job_ix_at(world, world.next_nonce(), prompt, token_budget, max_price)
    }

    /// A job submission at `world.job_address(nonce)`.
    pub fn submit_job_ix_at(
        world: &JobWorld,
        nonce: u64,
        prompt: &str,
        token_budget: u32,
        max_price: u64,
    ) -> Instruction {
        ix::job_submit(
            &world.client.pubkey(),
            &world.market.keys(),
            &world.model,
            nonce,
            &world.client_token,
            JobSubmitArgs { prompt: prompt.to_string(), token_budget, max_price },
        )
    }

    /// Submits a default job ("What is the capital of France?", 16 tokens); returns its address.
    pub fn submit_job(&mut self, world: &JobWorld) -> Pubkey {
        let nonce = world.next_nonce();
        let submit = Self::submit_job_ix_at(world, nonce, "What is the capital of France?", BUDGET, PRICE);
        self.send("job_submit", &[submit], &[&world.client]).expect("job_submit");
        world.job_address(nonce)
    }

    pub fn claim(&mut self, world: &JobWorld, job: &Pubkey) -> TxResult {
        let claim = ix::job_claim(&world.provider.worker.pubkey(), &world.market.market, &world.provider.provider, job);
        self.send("job_claim", &[claim], &[&world.provider.worker])
    }

    pub fn submit_result_ix(world: &JobWorld, job: &Pubkey, token_count: u32) -> Instruction {
        ix::job_submit_result(
            &world.provider.worker.pubkey(),
            &world.provider.provider,
            job,
            JobSubmitResultArgs { output_hash: OUTPUT_HASH, trace_root: TRACE_ROOT, token_count },
        )
    }

    pub fn submit_result(&mut self, world: &JobWorld, job: &Pubkey) -> TxResult {
        let submit = Self::submit_result_ix(world, job, 12);
        self.send("job_submit_result", &[submit], &[&world.provider.worker])
    }

    /// Oracle `index` votes on completeness.
    pub fn attest(&mut self, world: &JobWorld, job: &Pubkey, index: usize, complete: bool) -> TxResult {
        let oracle = &world.oracles[index];
        let attest = ix::job_attest(&oracle.pubkey(), &world.market.market, job, complete);
        self.send("job_attest", &[attest], &[oracle])
    }

    /// Waits past the sample slot and reveals the draw.
    pub fn reveal(&mut self, job: &Pubkey) -> TxResult {
        let sample_slot = self.account::<Job>(job).sample_slot;
        if self.slot() <= sample_slot {
            self.warp_to(sample_slot + 1);
        }
        self.send("job_reveal_sample", &[ix::job_reveal_sample(job)], &[])
    }

    pub fn challenge(&mut self, world: &JobWorld, job: &Pubkey) -> TxResult {
        let challenge =
            ix::job_challenge(&world.challenger.pubkey(), &world.market.keys(), job, &world.challenger_token);
        self.send("job_challenge", &[challenge], &[&world.challenger])
    }

    /// Oracle `index` posts a verdict.
    pub fn verdict(&mut self, world: &JobWorld, job: &Pubkey, index: usize, pass: bool) -> TxResult {
        let oracle = &world.oracles[index];
        let evidence = if pass { [0; 32] } else { [0xee; 32] };
        let verdict = ix::job_post_verdict(&oracle.pubkey(), &world.market.market, job, pass, evidence);
        self.send("job_post_verdict", &[verdict], &[oracle])
    }

    pub fn job_keys(&self, job: &Pubkey) -> JobKeys {
        JobKeys::new(*job, &self.account::<Job>(job))
    }

    pub fn settle(&mut self, world: &JobWorld, job: &Pubkey) -> TxResult {
        let settle = ix::job_settle(&world.market.keys(), &self.job_keys(job), &world.provider_payout);
        self.send("job_settle", &[settle], &[])
    }

    pub fn slash(&mut self, world: &JobWorld, job: &Pubkey, challenged: bool) -> TxResult {
        let slash = ix::job_slash(&world.market.keys(), &self.job_keys(job), &world.recipients(challenged));
        self.send("job_slash", &[slash], &[])
    }

    pub fn expire(&mut self, world: &JobWorld, job: &Pubkey) -> TxResult {
        let expire = ix::job_expire(&world.market.keys(), &self.job_keys(job), &world.recipients(false));
        self.send("job_expire", &[expire], &[])
    }

    pub fn unwind(&mut self, world: &JobWorld, job: &Pubkey, challenged: bool) -> TxResult {
        let unwind = ix::job_unwind(&world.market.keys(), &self.job_keys(job), &world.recipients(challenged));
        self.send("job_unwind", &[unwind], &[])
    }

    /// Submit, claim, result, and a quorum of complete votes: an attested job.
    pub fn attested_job(&mut self, world: &JobWorld) -> Pubkey {
        let job = self.submit_job(world);
        self.claim(world, &job).expect("job_claim");
        self.submit_result(world, &job).expect("job_submit_result");
        self.attest(world, &job, 0, true).expect("attest 0");
        self.attest(world, &job, 1, true).expect("attest 1");
        job
    }
}
