//! One builder per instruction. Each takes the keys a caller knows and
//! derives the rest (PDAs, vaults), so callers can't pass a foreign vault by
//! accident; tests that want to, edit the returned account list.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas, system_program};
use spotcheck::instructions::{
    MarketCreateArgs, MarketSetOraclesArgs, MarketUpdateArgs, ModelRegisterArgs, ModelUpdateArgs,
    ProviderRegisterArgs,
};
use spotcheck::state::{MarketParams, ModelTerms};
use spotcheck::{accounts, instruction};

use crate::pda;

/// The mints and token accounts a market is created with.
#[derive(Clone, Copy, Debug)]
pub struct MarketTokens {
    pub stake_mint: Pubkey,
    pub stake_token_program: Pubkey,
    pub payment_mint: Pubkey,
    pub payment_token_program: Pubkey,
    /// Payment-mint token account for fees and the treasury's slash share.
    pub treasury: Pubkey,
}

/// What a provider instruction that moves stake needs to know of its market.
#[derive(Clone, Copy, Debug)]
pub struct StakeAccounts {
    pub market: Pubkey,
    pub stake_mint: Pubkey,
    pub stake_token_program: Pubkey,
}

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: spotcheck::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

pub fn market_create(
    authority: &Pubkey,
    market_id: u64,
    tokens: &MarketTokens,
    params: MarketParams,
) -> Instruction {
    let market = pda::market(authority, market_id);
    build(
        accounts::MarketCreate {
            authority: *authority,
            market,
            stake_mint: tokens.stake_mint,
            payment_mint: tokens.payment_mint,
            stake_vault: pda::stake_vault(&market),
            escrow_vault: pda::escrow_vault(&market),
            treasury: tokens.treasury,
            stake_token_program: tokens.stake_token_program,
            payment_token_program: tokens.payment_token_program,
            system_program: system_program::ID,
        },
        instruction::MarketCreate {
            args: MarketCreateArgs { market_id, params },
        },
    )
}

pub fn market_update(
    authority: &Pubkey,
    market: &Pubkey,
    treasury: &Pubkey,
    params: MarketParams,
) -> Instruction {
    build(
        accounts::MarketUpdate {
            authority: *authority,
            market: *market,
            treasury: *treasury,
        },
        instruction::MarketUpdate {
            args: MarketUpdateArgs { params },
        },
    )
}

pub fn market_set_paused(authority: &Pubkey, market: &Pubkey, paused: bool) -> Instruction {
    build(
        accounts::MarketSetPaused {
            authority: *authority,
            market: *market,
        },
        instruction::MarketSetPaused { paused },
    )
}

pub fn market_set_oracles(
    authority: &Pubkey,
    market: &Pubkey,
    oracles: Vec<Pubkey>,
    quorum: u8,
) -> Instruction {
    build(
        accounts::MarketSetOracles {
            authority: *authority,
            market: *market,
        },
        instruction::MarketSetOracles {
            args: MarketSetOraclesArgs { oracles, quorum },
        },
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
            args: ModelRegisterArgs {
                weights_hash,
                architecture: architecture.to_string(),
                terms,
            },
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
        accounts::ModelUpdate {
            authority: *authority,
            market: *market,
            model: *model,
        },
        instruction::ModelUpdate {
            args: ModelUpdateArgs { terms, active },
        },
    )
}

pub fn provider_register(
    stake_wallet: &Pubkey,
    market: &Pubkey,
    worker: &Pubkey,
    endpoint: &str,
) -> Instruction {
    build(
        accounts::ProviderRegister {
            stake_wallet: *stake_wallet,
            market: *market,
            provider: pda::provider(market, stake_wallet),
            system_program: system_program::ID,
        },
        instruction::ProviderRegister {
            args: ProviderRegisterArgs {
                worker: *worker,
                endpoint: endpoint.to_string(),
            },
        },
    )
}

/// Stakes `amount` from `source`, a stake-mint token account of the stake wallet.
pub fn provider_stake(
    stake_wallet: &Pubkey,
    market: &StakeAccounts,
    source: &Pubkey,
    amount: u64,
) -> Instruction {
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

pub fn provider_request_unstake(
    stake_wallet: &Pubkey,
    market: &Pubkey,
    amount: u64,
) -> Instruction {
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
pub fn provider_withdraw(
    stake_wallet: &Pubkey,
    market: &StakeAccounts,
    destination: &Pubkey,
) -> Instruction {
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

pub fn provider_rotate_worker(
    stake_wallet: &Pubkey,
    market: &Pubkey,
    new_worker: &Pubkey,
) -> Instruction {
    build(
        accounts::ProviderRotateWorker {
            stake_wallet: *stake_wallet,
            provider: pda::provider(market, stake_wallet),
        },
        instruction::ProviderRotateWorker {
            new_worker: *new_worker,
        },
    )
}

pub fn provider_set_endpoint(
    stake_wallet: &Pubkey,
    market: &Pubkey,
    endpoint: &str,
) -> Instruction {
    build(
        accounts::ProviderSetEndpoint {
            stake_wallet: *stake_wallet,
            provider: pda::provider(market, stake_wallet),
        },
        instruction::ProviderSetEndpoint {
            endpoint: endpoint.to_string(),
        },
    )
}
