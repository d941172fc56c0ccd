//! Mints, token accounts and balances under SPL Token (p-token, LiteSVM's
//! default at the Tokenkeg address) and Token-2022.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token_2022::spl_token_2022;
use anchor_spl::token_2022::spl_token_2022::extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{LocalChain, LocalChainError};

pub const TOKEN: Pubkey = anchor_spl::token::ID;
pub const TOKEN_2022: Pubkey = anchor_spl::token_2022::ID;
/// Decimals of every mint made here.
pub const DECIMALS: u8 = 6;

/// A mint and the token program that owns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalMint {
    pub mint: Pubkey,
    pub program: Pubkey,
}

/// Builds the instruction that initialises one Token-2022 extension on a new mint.
pub type ExtensionInit<'a> = &'a dyn Fn(&Pubkey) -> Result<Instruction, LocalChainError>;

fn token_error(what: &str) -> impl Fn(anchor_lang::prelude::ProgramError) -> LocalChainError + '_ {
    move |err| LocalChainError::Setup { what: what.to_string(), reason: err.to_string() }
}

impl LocalChain {
    /// A plain mint under `program`; `self.payer` is its mint authority and,
    /// as for USDC, its freeze authority (see `freeze`).
    pub fn create_mint(&mut self, program: Pubkey) -> Result<LocalMint, LocalChainError> {
        self.create_mint_with(program, &[])
    }

    /// A Token-2022 mint with a 1 % transfer fee: a mint the market must refuse.
    pub fn create_transfer_fee_mint(&mut self) -> Result<LocalMint, LocalChainError> {
        let fee = |mint: &Pubkey| {
            spl_token_2022::extension::transfer_fee::instruction::initialize_transfer_fee_config(
                &TOKEN_2022,
                mint,
                None,
                None,
                100,
                u64::MAX,
            )
            .map_err(token_error("transfer fee config"))
        };
        self.create_mint_with(TOKEN_2022, &[(ExtensionType::TransferFeeConfig, &fee)])
    }

    /// A mint with Token-2022 `extensions`, each initialised by its instruction builder.
    pub fn create_mint_with(
        &mut self,
        program: Pubkey,
        extensions: &[(ExtensionType, ExtensionInit)],
    ) -> Result<LocalMint, LocalChainError> {
        let mint = self.next_keypair();
        let kinds: Vec<ExtensionType> = extensions.iter().map(|(kind, _)| *kind).collect();
        let len = if kinds.is_empty() {
            spl_token_2022::state::Mint::LEN
        } else {
            ExtensionType::try_calculate_account_len::<spl_token_2022::state::Mint>(&kinds)
                .map_err(token_error("mint size"))?
        };
        let mut ixs = vec![system_instruction::create_account(
            &self.payer.pubkey(),
            &mint.pubkey(),
            self.svm.minimum_balance_for_rent_exemption(len),
            len as u64,
            &program,
        )];
        for (_, init) in extensions {
            ixs.push(init(&mint.pubkey())?);
        }
        ixs.push(
            spl_token_2022::instruction::initialize_mint2(
                &program,
                &mint.pubkey(),
                &self.payer.pubkey(),
                Some(&self.payer.pubkey()),
                DECIMALS,
            )
            .map_err(token_error("initialize_mint2"))?,
        );
        self.setup("create mint", &ixs, &[&mint])?;
        Ok(LocalMint { mint: mint.pubkey(), program })
    }

    /// A token account of `mint` owned by `owner`, sized for the mint's extensions.
    pub fn create_token_account(&mut self, mint: LocalMint, owner: &Pubkey) -> Result<Pubkey, LocalChainError> {
        let account = self.next_keypair();
        let len = self.token_account_len(mint)?;
        let ixs = [
            system_instruction::create_account(
                &self.payer.pubkey(),
                &account.pubkey(),
                self.svm.minimum_balance_for_rent_exemption(len),
                len as u64,
                &mint.program,
            ),
            spl_token_2022::instruction::initialize_account3(&mint.program, &account.pubkey(), &mint.mint, owner)
                .map_err(token_error("initialize_account3"))?,
        ];
        self.setup("create token account", &ixs, &[&account])?;
        Ok(account.pubkey())
    }

    fn token_account_len(&self, mint: LocalMint) -> Result<usize, LocalChainError> {
        if mint.program != TOKEN_2022 {
            return Ok(spl_token_2022::state::Account::LEN);
        }
        let data = self
            .svm
            .get_account(&mint.mint)
            .ok_or_else(|| LocalChainError::Setup {
                what: "token account".into(),
                reason: format!("mint {} does not exist", mint.mint),
            })?
            .data;
        let state =
            StateWithExtensions::<spl_token_2022::state::Mint>::unpack(&data).map_err(token_error("mint data"))?;
        let mint_extensions = state.get_extension_types().map_err(token_error("mint extensions"))?;
        let required = ExtensionType::get_required_init_account_extensions(&mint_extensions);
        ExtensionType::try_calculate_account_len::<spl_token_2022::state::Account>(&required)
            .map_err(token_error("account size"))
    }

    /// Mints `amount` to `account` (the payer is every local mint's authority).
    pub fn mint_to(&mut self, mint: LocalMint, account: &Pubkey, amount: u64) -> Result<(), LocalChainError> {
        let ix =
            spl_token_2022::instruction::mint_to(&mint.program, &mint.mint, account, &self.payer.pubkey(), &[], amount)
                .map_err(token_error("mint_to"))?;
        self.setup("mint_to", &[ix], &[])
    }

    /// A new token account of `mint` for `owner`, holding `amount`.
    pub fn funded_token_account(
        &mut self,
        mint: LocalMint,
        owner: &Pubkey,
        amount: u64,
    ) -> Result<Pubkey, LocalChainError> {
        let account = self.create_token_account(mint, owner)?;
        if amount > 0 {
            self.mint_to(mint, &account, amount)?;
        }
        Ok(account)
    }

    /// Freezes `account` with the mint's freeze authority (the payer), as a
    /// stablecoin issuer can: it can then neither send nor receive.
    pub fn freeze(&mut self, mint: LocalMint, account: &Pubkey) -> Result<(), LocalChainError> {
        let ix =
            spl_token_2022::instruction::freeze_account(&mint.program, account, &mint.mint, &self.payer.pubkey(), &[])
                .map_err(token_error("freeze_account"))?;
        self.setup("freeze_account", &[ix], &[])
    }

    /// The token balance of `account`; 0 if it doesn't exist or isn't a token account.
    pub fn balance(&self, account: &Pubkey) -> u64 {
        match self.svm.get_account(account) {
            Some(data) if (data.owner == TOKEN || data.owner == TOKEN_2022) && data.data.len() >= 72 => {
                let mut amount = [0u8; 8];
                amount.copy_from_slice(&data.data[64..72]);
                u64::from_le_bytes(amount)
            }
            _ => 0,
        }
    }

    /// Balances of several accounts, for "nothing moved" assertions.
    pub fn balances(&self, accounts: &[Pubkey]) -> Vec<u64> {
        accounts.iter().map(|account| self.balance(account)).collect()
    }

    fn setup(&mut self, what: &str, ixs: &[Instruction], signers: &[&Keypair]) -> Result<(), LocalChainError> {
        self.send_unrecorded(ixs, signers)
            .map(|_| ())
            .map_err(|failed| LocalChainError::Setup { what: what.to_string(), reason: format!("{:?}", failed.err) })
    }
}
