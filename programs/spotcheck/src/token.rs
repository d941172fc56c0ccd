//! Plain helpers around token CPIs and mint checks. No macros: each is a
//! function a reader can step through.

use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions};
use anchor_spl::token_2022::spl_token_2022::state::Mint as MintState;

use crate::error::SpotcheckError;

/// Token-2022 extensions a vault can live with: they describe the mint
/// (metadata, groups) or only change how amounts are displayed. Every other
/// extension can move, withhold or freeze tokens behind the program's back
/// (transfer fees, hooks, permanent delegates, confidential balances,
/// non-transferable, default-frozen accounts, pausing, closing the mint), which
/// would break "vault balance == what the accounts say they hold".
fn is_harmless(extension: ExtensionType) -> bool {
    matches!(
        extension,
        ExtensionType::MetadataPointer
            | ExtensionType::TokenMetadata
            | ExtensionType::GroupPointer
            | ExtensionType::TokenGroup
            | ExtensionType::GroupMemberPointer
            | ExtensionType::TokenGroupMember
            | ExtensionType::InterestBearingConfig
            | ExtensionType::ScaledUiAmount
    )
}

/// Rejects a Token-2022 mint carrying any extension outside `is_harmless`.
/// SPL Token mints have no extensions.
pub fn require_plain_mint(mint: &AccountInfo) -> Result<()> {
    if *mint.owner != anchor_spl::token_2022::ID {
        return Ok(());
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data).map_err(|_| SpotcheckError::MalformedMint)?;
    let extensions = state.get_extension_types().map_err(|_| SpotcheckError::MalformedMint)?;
    for extension in extensions {
        require!(is_harmless(extension), SpotcheckError::UnsupportedMintExtension);
    }
    Ok(())
}

/// One token movement: `amount` of `mint` from `from` to `to`, authorised by
/// `authority`, through `token_program`. `transfer_checked` everywhere, so
/// SPL Token and Token-2022 take the same path and the mint is confirmed.
pub struct TokenTransfer<'a, 'info> {
    pub token_program: &'a AccountInfo<'info>,
    pub mint: &'a AccountInfo<'info>,
    pub from: &'a AccountInfo<'info>,
    pub to: &'a AccountInfo<'info>,
    pub authority: &'a AccountInfo<'info>,
    pub amount: u64,
    pub decimals: u8,
}

/// Moves tokens a signer of this transaction owns (a stake or a payment in).
pub fn transfer_in(transfer: &TokenTransfer) -> Result<()> {
    transfer_checked(transfer, &[])
}

/// Moves tokens out of a vault; `signer_seeds` are the market PDA's.
pub fn transfer_out(transfer: &TokenTransfer, signer_seeds: &[&[&[u8]]]) -> Result<()> {
    transfer_checked(transfer, signer_seeds)
}

fn transfer_checked(transfer: &TokenTransfer, signer_seeds: &[&[&[u8]]]) -> Result<()> {
    if transfer.amount == 0 {
        return Ok(());
    }
    let accounts = anchor_spl::token_interface::TransferChecked {
        from: transfer.from.clone(),
        mint: transfer.mint.clone(),
        to: transfer.to.clone(),
        authority: transfer.authority.clone(),
    };
    let ctx = CpiContext::new_with_signer(transfer.token_program.key(), accounts, signer_seeds);
    anchor_spl::token_interface::transfer_checked(ctx, transfer.amount, transfer.decimals)
}

/// One of the market's vaults, ready to pay out under the market PDA's signature.
pub struct Vault<'a, 'info> {
    pub market: &'a Account<'info, crate::state::Market>,
    pub vault: AccountInfo<'info>,
    pub mint: AccountInfo<'info>,
    pub decimals: u8,
    pub token_program: AccountInfo<'info>,
}

impl<'a, 'info> Vault<'a, 'info> {
    pub fn new(
        market: &'a Account<'info, crate::state::Market>,
        vault: &InterfaceAccount<'info, anchor_spl::token_interface::TokenAccount>,
        mint: &InterfaceAccount<'info, anchor_spl::token_interface::Mint>,
        token_program: &Interface<'info, anchor_spl::token_interface::TokenInterface>,
    ) -> Self {
        Vault {
            market,
            vault: vault.to_account_info(),
            mint: mint.to_account_info(),
            decimals: mint.decimals,
            token_program: token_program.to_account_info(),
        }
    }

    /// Pays `amount` (nothing if zero) to the token account `to`.
    pub fn pay(&self, to: &AccountInfo<'info>, amount: u64) -> Result<()> {
        let market_info = self.market.to_account_info();
        self.market.with_signer(|signer| {
            transfer_out(
                &TokenTransfer {
                    token_program: &self.token_program,
                    mint: &self.mint,
                    from: &self.vault,
                    to,
                    authority: &market_info,
                    amount,
                    decimals: self.decimals,
                },
                signer,
            )
        })
    }
}
