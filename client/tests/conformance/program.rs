//! The program instructions the conformance tests use, in one place: when an
//! instruction's accounts change, this is the file to adapt. They are the
//! simplest instructions with visible effects and events: a market (with
//! its mint), `market_set_oracles` (bumps `oracle_set_version`,
//! so a double post would show), `market_set_paused`, `provider_register`.

use anchor_lang::prelude::{Pubkey, Rent};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token_2022::spl_token_2022;
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck_client::chain::{Chain, ChainError, Confirmed};
use spotcheck_client::instructions::{self as ix, MarketTokens};
use spotcheck_client::pda;

/// The SPL Token program, which LiteSVM and Surfpool both preload.
const TOKEN: Pubkey = anchor_spl::token::ID;

/// Parameters that pass validation: the program tests' own.
pub use spotcheck_tests::fixtures::default_params as params;

/// Creates a market of `authority` (which pays for everything): one mint
/// for stake and payment. Returns the market and the confirmations of its
/// transactions.
pub async fn create_market(chain: &dyn Chain, authority: &Keypair) -> Result<(Pubkey, Vec<Confirmed>), ChainError> {
    let mint = Keypair::new();
    let payer = authority.pubkey();
    let rent = Rent::default();
    let mint_len = spl_token_2022::state::Mint::LEN;
    let setup = vec![
        system_instruction::create_account(
            &payer,
            &mint.pubkey(),
            rent.minimum_balance(mint_len),
            mint_len as u64,
            &TOKEN,
        ),
        token(spl_token_2022::instruction::initialize_mint2(&TOKEN, &mint.pubkey(), &payer, None, 6))?,
    ];
    let tokens = chain.send(&setup, &[authority, &mint]).await?;

    // A fresh id per market: tests share a node and must not collide.
    let market_id = u64::from_le_bytes(Keypair::new().pubkey().to_bytes()[..8].try_into().unwrap_or([0; 8]));
    let market_tokens = MarketTokens {
        stake_mint: mint.pubkey(),
        stake_token_program: TOKEN,
        payment_mint: mint.pubkey(),
        payment_token_program: TOKEN,
    };
    let create = ix::market_create(&payer, market_id, &market_tokens, params());
    let created = chain.send(&[create], &[authority]).await?;
    Ok((pda::market(&payer, market_id), vec![tokens, created]))
}

fn token(built: Result<Instruction, anchor_lang::prelude::ProgramError>) -> Result<Instruction, ChainError> {
    built.map_err(|err| ChainError::InvalidInput(format!("token instruction: {err}")))
}

pub fn set_oracles(authority: &Keypair, market: &Pubkey, oracles: Vec<Pubkey>, quorum: u8) -> Instruction {
    ix::market_set_oracles(&authority.pubkey(), market, oracles, quorum)
}

pub fn set_paused(authority: &Keypair, market: &Pubkey, paused: bool) -> Instruction {
    ix::market_set_paused(&authority.pubkey(), market, paused)
}

/// Registers `stake_wallet` (which signs and pays) as a provider.
pub fn register_provider(stake_wallet: &Keypair, market: &Pubkey, worker: &Pubkey) -> Instruction {
    ix::provider_register(&stake_wallet.pubkey(), market, worker, "https://worker.example.com")
}

/// `n` distinct oracle keys.
pub fn oracles(n: usize) -> Vec<Pubkey> {
    (0..n).map(|_| Keypair::new().pubkey()).collect()
}
