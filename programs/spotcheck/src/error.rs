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

    // --- authority, oracles, models ----------------------------------------
    #[msg("only the market's authority may do this")]
    NotMarketAuthority,
    #[msg(
        "the market is paused: no new jobs, claims, registrations or stakes until the authority unpauses it"
    )]
    MarketPaused,
    #[msg("an oracle set holds 1 to 8 keys")]
    OracleSetSize,
    #[msg("an oracle key appears twice in the set")]
    DuplicateOracle,
    #[msg("the default (all-zero) key cannot be an oracle")]
    OracleKeyInvalid,
    #[msg("quorum must be a strict majority of the oracle set (more than half, at most all)")]
    QuorumNotMajority,
    #[msg("architecture tag must be 1-16 bytes of lowercase letters, digits, '-' or '_'")]
    BadArchitectureTag,
    #[msg("a model's price per token must be greater than zero")]
    ZeroModelPrice,
    #[msg("a model's max_tokens must be greater than zero")]
    ZeroMaxTokens,
    #[msg("model uri must be 1-200 bytes")]
    ModelUriLength,
    #[msg("this account belongs to another market")]
    WrongMarket,

    // --- providers ----------------------------------------------------------
    #[msg("endpoint must be an http:// or https:// URL of at most 128 bytes")]
    BadEndpoint,
    #[msg("only the provider's stake wallet may do this")]
    NotStakeWallet,
    #[msg("amount must be greater than zero")]
    ZeroAmount,
    #[msg("unstake exceeds free stake (staked minus locked collateral minus pending unstake)")]
    UnstakeExceedsFreeStake,
    #[msg("nothing is pending unstake: request an unstake first")]
    NothingToWithdraw,
    #[msg("the unbonding period has not passed yet: wait for unstake_release_slot")]
    StillUnbonding,
    #[msg("the worker key must differ from the stake wallet and the current worker key")]
    BadWorkerKey,
    #[msg("provider stake would fall below the market's minimum")]
    BelowMinStake,
    #[msg("provider accounting is inconsistent (locked + pending exceed staked)")]
    ProviderInvariant,
    #[msg("market accounting is inconsistent (vault totals)")]
    MarketInvariant,

    // --- tokens -----------------------------------------------------------
    #[msg("the treasury must be a token account of the market's payment mint")]
    WrongTreasuryMint,
    #[msg(
        "this Token-2022 mint has an extension that could move or withhold vault tokens (transfer fee, hook, permanent delegate, confidential, non-transferable, default-frozen, pausable, close authority); use a plain mint"
    )]
    UnsupportedMintExtension,
    #[msg("mint account data is malformed")]
    MalformedMint,
    #[msg("token account or mint is not the market's stake or payment mint")]
    WrongMint,
    #[msg("this is not the market's vault")]
    WrongVault,
    #[msg("the token account is not owned by the signer")]
    WrongTokenOwner,
    #[msg("token program does not match the market's mint")]
    WrongTokenProgram,
}
