//! Plain helpers around token CPIs and mint checks. No macros: each is a
//! function a reader can step through.

use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::{
    BaseStateWithExtensions, ExtensionType, StateWithExtensions,
};
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
    let state = StateWithExtensions::<MintState>::unpack(&data)
        .map_err(|_| SpotcheckError::MalformedMint)?;
    let extensions = state
        .get_extension_types()
        .map_err(|_| SpotcheckError::MalformedMint)?;
    for extension in extensions {
        require!(
            is_harmless(extension),
            SpotcheckError::UnsupportedMintExtension
        );
    }
    Ok(())
}
