//! One builder per instruction. Each takes the keys a caller knows and
//! derives the rest (PDAs, vaults), so callers can't pass a foreign vault by
//! accident; tests that want to, edit the returned account list.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas, system_program};
use spotcheck::instructions::{
    JobPostVerdictArgs, JobSubmitArgs, JobSubmitResultArgs, MarketCreateArgs, MarketSetOraclesArgs, MarketUpdateArgs,
    MarketWithdrawTreasuryArgs, ModelRegisterArgs, ModelUpdateArgs, ProviderRegisterArgs,
};
use spotcheck::state::{Job, Market, MarketParams, ModelTerms, TreasurySide};
use spotcheck::{accounts, instruction};

use crate::pda;

/// The mints a market is created with, and their token programs.
#[derive(Clone, Copy, Debug)]
pub struct MarketTokens {
    pub stake_mint: Pubkey,
    pub stake_token_program: Pubkey,
    pub payment_mint: Pubkey,
    pub payment_token_program: Pubkey,
}

/// A market's addresses, as instructions that move tokens need them.
/// `MarketKeys::new` reads them off the market account.
#[derive(Clone, Copy, Debug)]
pub struct MarketKeys {
    pub market: Pubkey,
    pub stake_mint: Pubkey,
    pub stake_token_program: Pubkey,
    pub payment_mint: Pubkey,
    pub payment_token_program: Pubkey,
}

impl MarketKeys {
    pub fn new(market: Pubkey, account: &Market) -> Self {
        MarketKeys {
            market,
            stake_mint: account.stake_mint,
            stake_token_program: account.stake_token_program,
            payment_mint: account.payment_mint,
            payment_token_program: account.payment_token_program,
        }
    }

    /// The vault, mint and token program of one treasury side.
    pub fn treasury_side(&self, side: TreasurySide) -> (Pubkey, Pubkey, Pubkey) {
        match side {
            TreasurySide::Payment => (pda::escrow_vault(&self.market), self.payment_mint, self.payment_token_program),
            TreasurySide::Stake => (pda::stake_vault(&self.market), self.stake_mint, self.stake_token_program),
        }
    }
}

/// A claimed job's parties, as the instructions that finish it need them.
#[derive(Clone, Copy, Debug)]
pub struct JobKeys {
    pub job: Pubkey,
    pub client: Pubkey,
    pub provider: Pubkey,
}

impl JobKeys {
    pub fn new(job: Pubkey, account: &Job) -> Self {
        JobKeys { job, client: account.client, provider: account.provider }
    }
}

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: spotcheck::ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

pub fn market_create(authority: &Pubkey, market_id: u64, tokens: &MarketTokens, params: MarketParams) -> Instruction {
    let market = pda::market(authority, market_id);
    build(
        accounts::MarketCreate {
            authority: *authority,
            market,
            stake_mint: tokens.stake_mint,
            payment_mint: tokens.payment_mint,
            stake_vault: pda::stake_vault(&market),
            escrow_vault: pda::escrow_vault(&market),
            stake_token_program: tokens.stake_token_program,
            payment_token_program: tokens.payment_token_program,
            system_program: system_program::ID,
        },
        instruction::MarketCreate { args: MarketCreateArgs { market_id, params } },
    )
}

pub fn market_update(authority: &Pubkey, market: &Pubkey, params: MarketParams) -> Instruction {
    build(
        accounts::MarketUpdate { authority: *authority, market: *market },
        instruction::MarketUpdate { args: MarketUpdateArgs { params } },
    )
}

/// Withdraws `amount` of the market's earnings on `side` to `destination`,
/// any token account of that side's mint.
pub fn market_withdraw_treasury(
    authority: &Pubkey,
    market: &MarketKeys,
    side: TreasurySide,
    amount: u64,
    destination: &Pubkey,
) -> Instruction {
    let (vault, mint, token_program) = market.treasury_side(side);
    build(
        accounts::MarketWithdrawTreasury {
            authority: *authority,
            market: market.market,
            vault,
            mint,
            destination: *destination,
            token_program,
        },
        instruction::MarketWithdrawTreasury { args: MarketWithdrawTreasuryArgs { side, amount } },
    )
}

pub fn market_set_paused(authority: &Pubkey, market: &Pubkey, paused: bool) -> Instruction {
    build(accounts::MarketSetPaused { authority: *authority, market: *market }, instruction::MarketSetPaused { paused })
}

pub fn market_set_oracles(authority: &Pubkey, market: &Pubkey, oracles: Vec<Pubkey>, quorum: u8) -> Instruction {
    build(
        accounts::MarketSetOracles { authority: *authority, market: *market },
        instruction::MarketSetOracles { args: MarketSetOraclesArgs { oracles, quorum } },
    )
}

pub fn model_register(
    authority: &Pubkey,
    market: &Pubkey,
    weights_hash: [u8; 32],
    architecture: &str,
    terms: ModelTerms,
) -> Instruction {
    build(
        accounts::ModelRegister {
            authority: *authority,
            market: *market,
            model: pda::model(market, &weights_hash),
            system_program: system_program::ID,
        },
        instruction::ModelRegister {
            args: ModelRegisterArgs { weights_hash, architecture: architecture.to_string(), terms },
        },
    )
}

pub fn model_update(
    authority: &Pubkey,
    market: &Pubkey,
    model: &Pubkey,
    terms: ModelTerms,
    active: bool,
) -> Instruction {
    build(
        accounts::ModelUpdate { authority: *authority, market: *market, model: *model },
        instruction::ModelUpdate { args: ModelUpdateArgs { terms, active } },
    )
}

pub fn provider_register(stake_wallet: &Pubkey, market: &Pubkey, worker: &Pubkey, endpoint: &str) -> Instruction {
    build(
        accounts::ProviderRegister {
            stake_wallet: *stake_wallet,
            market: *market,
            provider: pda::provider(market, stake_wallet),
            system_program: system_program::ID,
        },
        instruction::ProviderRegister {
            args: ProviderRegisterArgs { worker: *worker, endpoint: endpoint.to_string() },
        },
    )
}

/// Stakes `amount` from `source`, a stake-mint token account of the stake wallet.
pub fn provider_stake(stake_wallet: &Pubkey, market: &MarketKeys, source: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::ProviderStake {
            stake_wallet: *stake_wallet,
            market: market.market,
            provider: pda::provider(&market.market, stake_wallet),
            stake_mint: market.stake_mint,
            source: *source,
            stake_vault: pda::stake_vault(&market.market),
            token_program: market.stake_token_program,
        },
        instruction::ProviderStake { amount },
    )
}

pub fn provider_request_unstake(stake_wallet: &Pubkey, market: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::ProviderRequestUnstake {
            stake_wallet: *stake_wallet,
            market: *market,
            provider: pda::provider(market, stake_wallet),
        },
        instruction::ProviderRequestUnstake { amount },
    )
}

/// Withdraws the unbonded stake to `destination`, any stake-mint token account.
pub fn provider_withdraw(stake_wallet: &Pubkey, market: &MarketKeys, destination: &Pubkey) -> Instruction {
    build(
        accounts::ProviderWithdraw {
            stake_wallet: *stake_wallet,
            market: market.market,
            provider: pda::provider(&market.market, stake_wallet),
            stake_mint: market.stake_mint,
            destination: *destination,
            stake_vault: pda::stake_vault(&market.market),
            token_program: market.stake_token_program,
        },
        instruction::ProviderWithdraw {},
    )
}

pub fn provider_rotate_worker(stake_wallet: &Pubkey, market: &Pubkey, new_worker: &Pubkey) -> Instruction {
    build(
        accounts::ProviderRotateWorker { stake_wallet: *stake_wallet, provider: pda::provider(market, stake_wallet) },
        instruction::ProviderRotateWorker { new_worker: *new_worker },
    )
}

pub fn provider_set_endpoint(stake_wallet: &Pubkey, market: &Pubkey, endpoint: &str) -> Instruction {
    build(
        accounts::ProviderSetEndpoint { stake_wallet: *stake_wallet, provider: pda::provider(market, stake_wallet) },
        instruction::ProviderSetEndpoint { endpoint: endpoint.to_string() },
    )
}

// --- jobs ---------------------------------------------------------------------

/// Submits a job at `pda::job(market, client, nonce)` (`nonce`: any value
/// the client hasn't used in this market, e.g. random), escrowing from
/// `client_token`.
pub fn job_submit(
    client: &Pubkey,
    market: &MarketKeys,
    model: &Pubkey,
    nonce: u64,
    client_token: &Pubkey,
    args: JobSubmitArgs,
) -> Instruction {
    build(
        accounts::JobSubmit {
            client: *client,
            market: market.market,
            model: *model,
            job: pda::job(&market.market, client, nonce),
            payment_mint: market.payment_mint,
            client_token: *client_token,
            escrow_vault: pda::escrow_vault(&market.market),
            token_program: market.payment_token_program,
            system_program: system_program::ID,
        },
        instruction::JobSubmit { nonce, args },
    )
}

pub fn job_cancel(client: &Pubkey, market: &MarketKeys, job: &Pubkey, client_token: &Pubkey) -> Instruction {
    build(
        accounts::JobCancel {
            client: *client,
            market: market.market,
            job: *job,
            payment_mint: market.payment_mint,
            client_token: *client_token,
            escrow_vault: pda::escrow_vault(&market.market),
            token_program: market.payment_token_program,
        },
        instruction::JobCancel {},
    )
}

pub fn job_claim(worker: &Pubkey, market: &Pubkey, provider: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::JobClaim { worker: *worker, market: *market, provider: *provider, job: *job },
        instruction::JobClaim {},
    )
}

pub fn job_submit_result(worker: &Pubkey, provider: &Pubkey, job: &Pubkey, args: JobSubmitResultArgs) -> Instruction {
    build(
        accounts::JobSubmitResult { worker: *worker, provider: *provider, job: *job },
        instruction::JobSubmitResult { args },
    )
}

pub fn job_attest(oracle: &Pubkey, market: &Pubkey, job: &Pubkey, complete: bool) -> Instruction {
    build(accounts::JobAttest { oracle: *oracle, market: *market, job: *job }, instruction::JobAttest { complete })
}

pub fn job_reveal_sample(job: &Pubkey) -> Instruction {
    build(
        accounts::JobRevealSample { job: *job, slot_hashes: solana_sdk_ids::sysvar::slot_hashes::ID },
        instruction::JobRevealSample {},
    )
}

pub fn job_challenge(challenger: &Pubkey, market: &MarketKeys, job: &Pubkey, challenger_token: &Pubkey) -> Instruction {
    build(
        accounts::JobChallenge {
            challenger: *challenger,
            market: market.market,
            job: *job,
            payment_mint: market.payment_mint,
            challenger_token: *challenger_token,
            escrow_vault: pda::escrow_vault(&market.market),
            token_program: market.payment_token_program,
        },
        instruction::JobChallenge {},
    )
}

pub fn job_post_verdict(
    oracle: &Pubkey,
    market: &Pubkey,
    job: &Pubkey,
    pass: bool,
    evidence_hash: [u8; 32],
) -> Instruction {
    build(
        accounts::JobPostVerdict { oracle: *oracle, market: *market, job: *job },
        instruction::JobPostVerdict { args: JobPostVerdictArgs { pass, evidence_hash } },
    )
}

fn job_end(market: &MarketKeys, job: &JobKeys) -> accounts::JobEnd {
    accounts::JobEnd {
        market: market.market,
        job: job.job,
        provider: job.provider,
        client: job.client,
        escrow_vault: pda::escrow_vault(&market.market),
        payment_mint: market.payment_mint,
        payment_token_program: market.payment_token_program,
    }
}

fn job_penalty(market: &MarketKeys, job: &JobKeys, to: &JobRecipients) -> accounts::JobPenalty {
    accounts::JobPenalty {
        end: job_end(market, job),
        client_token: to.client_token,
        client_stake_token: to.client_stake_token,
        stake_vault: pda::stake_vault(&market.market),
        stake_mint: market.stake_mint,
        stake_token_program: market.stake_token_program,
    }
}

/// Settles a job; `provider_payout` is any payment-token account of the provider's stake wallet.
pub fn job_settle(market: &MarketKeys, job: &JobKeys, provider_payout: &Pubkey) -> Instruction {
    build(
        accounts::JobSettle { end: job_end(market, job), provider_payout: *provider_payout },
        instruction::JobSettle {},
    )
}

/// Where a finished job's refunds and shares go: any token accounts of the
/// right mints owned by the parties (the program checks owner and mint only).
#[derive(Clone, Copy, Debug)]
pub struct JobRecipients {
    /// A payment-token account of the client's (escrow refund).
    pub client_token: Pubkey,
    /// A stake-token account of the client's (its share of slashed
    /// collateral; may be `client_token` when the mints are the same).
    pub client_stake_token: Pubkey,
    /// With a challenger: a payment-token account of the challenger's (bond
    /// refund) and a stake-token account of its (the reward).
    pub challenger: Option<(Pubkey, Pubkey)>,
}

pub fn job_slash(market: &MarketKeys, job: &JobKeys, to: &JobRecipients) -> Instruction {
    build(
        accounts::JobSlash {
            penalty: job_penalty(market, job, to),
            challenger_token: to.challenger.map(|(bond, _)| bond),
            challenger_stake_token: to.challenger.map(|(_, reward)| reward),
        },
        instruction::JobSlash {},
    )
}

pub fn job_expire(market: &MarketKeys, job: &JobKeys, to: &JobRecipients) -> Instruction {
    build(accounts::JobExpire { penalty: job_penalty(market, job, to) }, instruction::JobExpire {})
}

pub fn job_unwind(market: &MarketKeys, job: &JobKeys, to: &JobRecipients) -> Instruction {
    build(
        accounts::JobUnwind {
            end: job_end(market, job),
            client_token: to.client_token,
            challenger_token: to.challenger.map(|(bond, _)| bond),
        },
        instruction::JobUnwind {},
    )
}
