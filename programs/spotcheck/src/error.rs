//! Every error the program returns, grouped by area. Messages say what was
//! wrong and, where it helps, what to do instead.

use anchor_lang::prelude::*;

#[error_code]
pub enum SpotcheckError {
    // --- arithmetic -------------------------------------------------------
    #[msg("arithmetic overflow: an amount or slot count is too large")]
    MathOverflow,

    // --- market parameters ------------------------------------------------
    #[msg("fee_bps must be at most 10000 (100 %)")]
    FeeTooHigh,
    #[msg("sample_rate_bps must be between 1 and 10000")]
    SampleRateOutOfRange,
    #[msg(
        "collateral ratio too low for the sample rate: cheating pays unless collateral_ratio >= (1 - p) / p (e.g. p = 5 % needs 19x)"
    )]
    CollateralRatioTooLow,
    #[msg("slash split must sum to exactly 10000 bps")]
    SlashSplitNotWhole,
    #[msg("liveness_slash_bps must be at most 10000")]
    LivenessSlashTooHigh,
    #[msg(
        "unbonding period must be longer than the longest job (claim timeout + attestation deadline) plus the challenge window"
    )]
    UnbondingTooShort,
    #[msg("claim timeout, attestation deadline and challenge window must all be at least one slot")]
    ZeroDuration,
    #[msg("min_provider_stake must be greater than zero")]
    ZeroMinStake,
    #[msg("challenge_bond must be greater than zero")]
    ZeroChallengeBond,
    #[msg("max_faults must be at least 1")]
    ZeroMaxFaults,

    // --- tokens -----------------------------------------------------------
    #[msg("the treasury must be a token account of the market's payment mint")]
    WrongTreasuryMint,
    #[msg(
        "this Token-2022 mint has an extension that could move or withhold vault tokens (transfer fee, hook, permanent delegate, confidential, non-transferable, default-frozen, pausable, close authority); use a plain mint"
    )]
    UnsupportedMintExtension,
    #[msg("mint account data is malformed")]
    MalformedMint,
}
