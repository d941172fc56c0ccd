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
        "collateral ratio too low for the sample rate and challenger share: cheating pays unless p x (1 + (1 - challenger share) x collateral_ratio) > 1 (p = 5 % with a 30 % challenger share needs more than 27.2x)"
    )]
    CollateralRatioTooLow,
    #[msg("slash split must sum to exactly 10000 bps")]
    SlashSplitNotWhole,
    #[msg(
        "liveness_slash_bps must be between 1 and 10000: withholding an output or abandoning a claim must cost the provider something"
    )]
    LivenessSlashOutOfRange,
    #[msg(
        "unbonding period must be longer than the longest job (claim timeout + attestation deadline + challenge window + verdict timeout)"
    )]
    UnbondingTooShort,
    #[msg("unbonding period must be at most 6480000 slots (30 days): longer would trap providers' free stake")]
    UnbondingTooLong,
    #[msg(
        "claim timeout, attestation deadline, challenge window and verdict timeout must each be at most 1512000 slots (7 days)"
    )]
    DurationTooLong,
    #[msg("claim timeout, attestation deadline, challenge window and verdict timeout must all be at least one slot")]
    ZeroDuration,
    #[msg("failed_bond_provider_bps must be at most 10000")]
    BondSplitTooHigh,
    #[msg("min_provider_stake must be greater than zero")]
    ZeroMinStake,
    #[msg("challenge_bond must be greater than zero")]
    ZeroChallengeBond,
    #[msg("max_faults must be at least 1")]
    ZeroMaxFaults,

    // --- authority, oracles, models ----------------------------------------
    #[msg("only the market's authority may do this")]
    NotMarketAuthority,
    #[msg("the market is paused: no new jobs, claims, registrations or stakes until the authority unpauses it")]
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
    #[msg("market state is inconsistent (vault totals, oracle set or parameters)")]
    MarketInvariant,
    #[msg("the market's treasury holds less than that on this side")]
    TreasuryTooSmall,

    // --- jobs ----------------------------------------------------------------
    #[msg("the job is not in the state this instruction needs (out of order, or already done)")]
    WrongJobStatus,
    #[msg("job state is inconsistent with its status")]
    JobInvariant,
    #[msg("this model is retired: it takes no new jobs")]
    ModelInactive,
    #[msg("prompt must be 1-512 bytes")]
    PromptLength,
    #[msg("token budget must be between 1 and the model's max_tokens")]
    TokenBudgetOutOfRange,
    #[msg("price (model price per token x token budget) overflows")]
    PriceOverflow,
    #[msg("price (model price per token x token budget) is above the client's max_price")]
    PriceAboveMax,
    #[msg("only the job's client may do this")]
    NotJobClient,
    #[msg("only the claiming provider's current worker key may do this")]
    NotJobWorker,
    #[msg("this provider is jailed and may not claim jobs")]
    ProviderJailed,
    #[msg(
        "the provider's free stake does not cover this job's collateral (price x collateral ratio) and the market minimum"
    )]
    InsufficientStake,
    #[msg("the result deadline has passed")]
    ResultDeadlinePassed,
    #[msg("the result deadline has not passed yet")]
    ResultDeadlineNotPassed,
    #[msg("token count is above the job's token budget")]
    TokenCountOverBudget,
    #[msg("this account is not the job's provider")]
    WrongProvider,
    #[msg("only an oracle of the market's current set may vote")]
    NotOracle,
    #[msg("this oracle has already voted in this round")]
    AlreadyVoted,
    #[msg("the oracles' deadline for this vote has passed")]
    VoteDeadlinePassed,
    #[msg("the sampling slot (the first slot after the challenge window) has not passed yet: its hash is not known")]
    SampleSlotNotReached,
    #[msg("the sample has already been revealed")]
    SampleAlreadyRevealed,
    #[msg("the SlotHashes sysvar account is malformed")]
    MalformedSlotHashes,
    #[msg("the challenge window is over")]
    ChallengeWindowClosed,
    #[msg("the job is already challenged")]
    AlreadyChallenged,
    #[msg("this job was neither sampled nor challenged: there is nothing to judge")]
    NothingToJudge,
    #[msg("the challenge window is still open")]
    ChallengeWindowOpen,
    #[msg("the sample has not been revealed yet: run job_reveal_sample first")]
    SampleNotRevealed,
    #[msg("the job awaits a verdict")]
    VerdictPending,
    #[msg("the oracles still have time: the job can be unwound only after their deadline")]
    OraclesNotLate,
    #[msg("the job has a challenger, so its challenger accounts are required")]
    ChallengerAccountsMissing,
    #[msg("this token account does not belong to the party it pays")]
    WrongRecipient,

    // --- tokens -----------------------------------------------------------
    #[msg("a treasury withdrawal cannot go to one of the market's own vaults")]
    TreasuryIsVault,
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
