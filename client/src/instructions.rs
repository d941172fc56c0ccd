//! One builder per instruction. Each takes the keys a caller knows and
//! derives the rest, so callers can't pass a foreign vault by accident (tests
//! that want to, build the account list by hand).

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas, system_program};
use spotcheck::instructions::MarketCreateArgs;
use spotcheck::state::MarketParams;

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

pub fn market_create(
    authority: &Pubkey,
    market_id: u64,
    tokens: &MarketTokens,
    params: MarketParams,
) -> Instruction {
    let market = pda::market(authority, market_id);
    Instruction {
        program_id: spotcheck::ID,
        accounts: spotcheck::accounts::MarketCreate {
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
        }
        .to_account_metas(None),
        data: spotcheck::instruction::MarketCreate {
            args: MarketCreateArgs { market_id, params },
        }
        .data(),
    }
}
