//! A market on a real local node over JSON-RPC (`scripts/localnet.sh`,
//! Surfpool): a mint, the market with three oracles (quorum 2), registered
//! models, staked providers and a funded client, every step a real
//! transaction. The worker's and the oracle's localnet tests build on it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::{Pubkey, Rent};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token_2022::spl_token_2022;
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck::state::{MarketParams, ModelTerms};
use spotcheck_client::chain::{Backoff, Chain, Cluster, RpcChain, RpcChainConfig};
use spotcheck_client::instructions::{self as ix, MarketKeys, MarketTokens};
use spotcheck_client::pda;

pub const TOKEN: Pubkey = anchor_spl::token::ID;
pub const SOL: u64 = 1_000_000_000;
pub const PRICE_PER_TOKEN: u64 = 10;

/// Short windows, so a job settles within seconds at 4 slots a second;
/// p = 0.01 % sampling with the collateral that makes cheating lose.
pub fn params() -> MarketParams {
    MarketParams {
        claim_timeout_slots: 150,
        attestation_deadline_slots: 150,
        challenge_window_slots: 8,
        verdict_timeout_slots: 150,
        ..spotcheck_tests::jobs::rarely_sampled_params()
    }
}

fn token(built: Result<Instruction, anchor_lang::prelude::ProgramError>) -> Instruction {
    built.unwrap_or_else(|err| panic!("token instruction: {err}"))
}

pub async fn send(chain: &RpcChain, what: &str, ixs: &[Instruction], signers: &[&Keypair]) {
    chain.send(ixs, signers).await.unwrap_or_else(|err| panic!("{what}: {err}"));
}

/// A chain over the node's RPC and PubSub URLs, retrying quickly.
pub async fn connect(rpc_url: &str, ws_url: &str) -> Arc<RpcChain> {
    let mut rpc = RpcChainConfig::new(Cluster::custom(rpc_url, ws_url).unwrap());
    rpc.send.resend_interval = Duration::from_millis(200);
    rpc.backoff = Backoff { first: Duration::from_millis(50), max: Duration::from_millis(400), attempts: 6 };
    Arc::new(RpcChain::connect(rpc).await.unwrap_or_else(|err| panic!("{err}")))
}

/// A provider: its stake wallet, worker key, account, stake source and payout account.
pub struct RpcProvider {
    pub stake_wallet: Keypair,
    pub worker: Arc<Keypair>,
    pub account: Pubkey,
    pub stake_source: Pubkey,
    pub payout: Pubkey,
}

pub struct RpcMarket {
    pub chain: Arc<RpcChain>,
    pub authority: Keypair,
    pub mint: Pubkey,
    pub keys: MarketKeys,
    pub market: Pubkey,
    pub oracles: Vec<Keypair>,
    pub providers: Vec<RpcProvider>,
    pub client: Keypair,
    pub client_token: Pubkey,
}

impl RpcMarket {
    /// The market with `params`, each of `models` (id, max tokens)
    /// registered, and `providers` providers staked 50 M tokens each.
    pub async fn create(chain: Arc<RpcChain>, params: MarketParams, models: &[[u8; 32]], providers: usize) -> Self {
        // The market's authority pays for everything and holds the mint.
        let authority = Keypair::new();
        let client = Keypair::new();
        let oracles: Vec<Keypair> = (0..3).map(|_| Keypair::new()).collect();
        for who in [&authority, &client].into_iter().chain(&oracles) {
            chain.request_airdrop(&who.pubkey(), 10 * SOL).await.unwrap_or_else(|err| panic!("airdrop: {err}"));
        }
        let mint = Keypair::new();
        let mint_len = spl_token_2022::state::Mint::LEN;
        let create_mint = [
            system_instruction::create_account(
                &authority.pubkey(),
                &mint.pubkey(),
                Rent::default().minimum_balance(mint_len),
                mint_len as u64,
                &TOKEN,
            ),
            token(spl_token_2022::instruction::initialize_mint2(&TOKEN, &mint.pubkey(), &authority.pubkey(), None, 6)),
        ];
        send(&chain, "mint", &create_mint, &[&authority, &mint]).await;
        let mint = mint.pubkey();
        let tokens = MarketTokens {
            stake_mint: mint,
            stake_token_program: TOKEN,
            payment_mint: mint,
            payment_token_program: TOKEN,
        };
        let market = pda::market(&authority.pubkey(), 1);
        let keys = MarketKeys {
            market,
            stake_mint: mint,
            stake_token_program: TOKEN,
            payment_mint: mint,
            payment_token_program: TOKEN,
        };
        send(&chain, "market_create", &[ix::market_create(&authority.pubkey(), 1, &tokens, params)], &[&authority])
            .await;
        let set = ix::market_set_oracles(&authority.pubkey(), &market, oracles.iter().map(|o| o.pubkey()).collect(), 2);
        send(&chain, "market_set_oracles", &[set], &[&authority]).await;
        for model_id in models {
            let terms = ModelTerms { price_per_token: PRICE_PER_TOKEN, max_tokens: 64, uri: "test:tiny".into() };
            let register = ix::model_register(&authority.pubkey(), &market, *model_id, "llama", terms);
            send(&chain, "model_register", &[register], &[&authority]).await;
        }
        let mut this = RpcMarket {
            chain,
            authority,
            mint,
            keys,
            market,
            oracles,
            providers: Vec::new(),
            client_token: Pubkey::default(),
            client,
        };
        this.client_token = this.token_account(&this.client.pubkey(), 10_000_000).await;
        for _ in 0..providers {
            let provider = this.provider().await;
            this.providers.push(provider);
        }
        this
    }

    /// A token account of `owner` for the market's mint, holding `amount`.
    pub async fn token_account(&self, owner: &Pubkey, amount: u64) -> Pubkey {
        let account = Keypair::new();
        let len = spl_token_2022::state::Account::LEN;
        let mut ixs = vec![
            system_instruction::create_account(
                &self.authority.pubkey(),
                &account.pubkey(),
                Rent::default().minimum_balance(len),
                len as u64,
                &TOKEN,
            ),
            token(spl_token_2022::instruction::initialize_account3(&TOKEN, &account.pubkey(), &self.mint, owner)),
        ];
        if amount > 0 {
            ixs.push(token(spl_token_2022::instruction::mint_to(
                &TOKEN,
                &self.mint,
                &account.pubkey(),
                &self.authority.pubkey(),
                &[],
                amount,
            )));
        }
        send(&self.chain, "token account", &ixs, &[&self.authority, &account]).await;
        account.pubkey()
    }

    async fn provider(&self) -> RpcProvider {
        let (stake_wallet, worker) = (Keypair::new(), Arc::new(Keypair::new()));
        for who in [&stake_wallet, &*worker] {
            self.chain.request_airdrop(&who.pubkey(), 10 * SOL).await.unwrap_or_else(|err| panic!("airdrop: {err}"));
        }
        let register =
            ix::provider_register(&stake_wallet.pubkey(), &self.market, &worker.pubkey(), "http://127.0.0.1:0");
        send(&self.chain, "provider_register", &[register], &[&stake_wallet]).await;
        let stake_source = self.token_account(&stake_wallet.pubkey(), 100_000_000).await;
        let stake = ix::provider_stake(&stake_wallet.pubkey(), &self.keys, &stake_source, 50_000_000);
        send(&self.chain, "provider_stake", &[stake], &[&stake_wallet]).await;
        let payout = self.token_account(&stake_wallet.pubkey(), 0).await;
        let account = pda::provider(&self.market, &stake_wallet.pubkey());
        RpcProvider { stake_wallet, worker, account, stake_source, payout }
    }

    /// The sum of the token balances of `accounts` (missing ones count 0).
    pub async fn balances(&self, accounts: &[Pubkey]) -> u64 {
        let mut total = 0u64;
        for account in self.chain.accounts(accounts).await.unwrap().into_iter().flatten() {
            if account.owner == TOKEN && account.data.len() >= spl_token_2022::state::Account::LEN {
                total += spl_token_2022::state::Account::unpack(&account.data[..spl_token_2022::state::Account::LEN])
                    .unwrap()
                    .amount;
            }
        }
        total
    }

    /// `owner`'s associated token account of the market's mint.
    pub fn associated(&self, owner: &Pubkey) -> Pubkey {
        anchor_spl::associated_token::get_associated_token_address_with_program_id(owner, &self.mint, &TOKEN)
    }
}
