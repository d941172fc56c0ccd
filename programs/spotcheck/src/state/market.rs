use anchor_lang::prelude::*;

use crate::constants::{BPS_DENOMINATOR, MARKET_SEED, MAX_ORACLES};
use crate::error::SpotcheckError;

/// A market: one stake mint, one payment mint, the rules every job in it
/// follows, and the oracle set that attests and judges its jobs.
#[account]
#[derive(InitSpace)]
pub struct Market {
    /// Signs parameter changes, model registrations and oracle-set changes.
    pub authority: Pubkey,
    /// Chosen by the authority at creation; part of the PDA seeds.
    pub market_id: u64,
    /// Mint providers stake (collateral is locked in it).
    pub stake_mint: Pubkey,
    /// Mint clients pay in (escrows, fees, challenge bonds).
    pub payment_mint: Pubkey,
    /// Token program of the stake mint (SPL Token or Token-2022).
    pub stake_token_program: Pubkey,
    /// Token program of the payment mint.
    pub payment_token_program: Pubkey,
    /// PDA token account holding every provider's stake.
    pub stake_vault: Pubkey,
    /// PDA token account holding job escrows and challenge bonds.
    pub escrow_vault: Pubkey,
    /// Payment-mint token account that receives fees and failed challengers' bond shares.
    pub treasury: Pubkey,
    /// Stake-mint token account that receives the treasury's share of slashed
    /// collateral (the same account as `treasury` when the mints are the same).
    pub stake_treasury: Pubkey,
    /// The economic and timing rules; checked by `MarketParams::validate`.
    pub params: MarketParams,
    /// Oracle keys allowed to attest and vote (at most `MAX_ORACLES`).
    #[max_len(MAX_ORACLES)]
    pub oracles: Vec<Pubkey>,
    /// Votes needed to decide an attestation or a verdict: a strict majority of `oracles`.
    pub quorum: u8,
    /// Bumped on every oracle-set change, so votes cast under an old set can be told apart.
    pub oracle_set_version: u32,
    /// While set, no new jobs, claims or stakes; settlement and withdrawals go on.
    pub paused: bool,
    /// Jobs ever submitted; the next job's id.
    pub job_count: u64,
    /// Sum of every provider's `staked`: always equals the stake vault's balance.
    pub total_staked: u64,
    /// Sum of every open job's escrow and posted bonds: always equals the escrow vault's balance.
    pub total_escrowed: u64,
    /// PDA bump of this account.
    pub bump: u8,
    /// PDA bump of the stake vault.
    pub stake_vault_bump: u8,
    /// PDA bump of the escrow vault.
    pub escrow_vault_bump: u8,
}

impl Market {
    /// Replaces the oracle set. Keys must be distinct and real; the quorum a
    /// strict majority, so two conflicting outcomes can never both reach it.
    pub fn set_oracles(&mut self, oracles: Vec<Pubkey>, quorum: u8) -> Result<()> {
        require!(!oracles.is_empty() && oracles.len() <= MAX_ORACLES, SpotcheckError::OracleSetSize);
        for (i, oracle) in oracles.iter().enumerate() {
            require!(*oracle != Pubkey::default(), SpotcheckError::OracleKeyInvalid);
            require!(!oracles[..i].contains(oracle), SpotcheckError::DuplicateOracle);
        }
        let count = oracles.len();
        require!(usize::from(quorum) * 2 > count && usize::from(quorum) <= count, SpotcheckError::QuorumNotMajority);
        self.oracles = oracles;
        self.quorum = quorum;
        self.oracle_set_version = self.oracle_set_version.checked_add(1).ok_or(SpotcheckError::MathOverflow)?;
        Ok(())
    }

    pub fn add_staked(&mut self, amount: u64) -> Result<()> {
        self.total_staked = self.total_staked.checked_add(amount).ok_or(SpotcheckError::MathOverflow)?;
        Ok(())
    }

    pub fn sub_staked(&mut self, amount: u64) -> Result<()> {
        self.total_staked = self.total_staked.checked_sub(amount).ok_or(SpotcheckError::MarketInvariant)?;
        Ok(())
    }

    pub fn add_escrowed(&mut self, amount: u64) -> Result<()> {
        self.total_escrowed = self.total_escrowed.checked_add(amount).ok_or(SpotcheckError::MathOverflow)?;
        Ok(())
    }

    pub fn sub_escrowed(&mut self, amount: u64) -> Result<()> {
        self.total_escrowed = self.total_escrowed.checked_sub(amount).ok_or(SpotcheckError::MarketInvariant)?;
        Ok(())
    }

    /// Takes the next job id.
    pub fn next_job_id(&mut self) -> Result<u64> {
        let id = self.job_count;
        self.job_count = id.checked_add(1).ok_or(SpotcheckError::MathOverflow)?;
        Ok(id)
    }

    /// Signs for the vaults, whose token authority is this PDA.
    pub fn with_signer<T>(&self, f: impl FnOnce(&[&[&[u8]]]) -> T) -> T {
        let market_id = self.market_id.to_le_bytes();
        let bump = [self.bump];
        let seeds: &[&[u8]] = &[MARKET_SEED, self.authority.as_ref(), &market_id, &bump];
        f(&[seeds])
    }
}

/// How a slashed provider's collateral is shared out, in basis points.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct SlashSplit {
    /// Compensation to the client whose job was cheated on.
    pub client_bps: u16,
    /// Reward to the challenger who caught it (to the treasury when nobody challenged).
    pub challenger_bps: u16,
    /// The rest, to the market's treasury.
    pub treasury_bps: u16,
}

/// A market's rules. Durations are in slots (about 400 ms each).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct MarketParams {
    /// Market fee taken from each settled job's price, in basis points.
    pub fee_bps: u16,
    /// Least stake a provider must hold to claim jobs.
    pub min_provider_stake: u64,
    /// Collateral locked per job, as a multiple of its price, in basis points
    /// (190_000 = 19x). Stake and payment amounts compare in raw token units.
    pub collateral_ratio_bps: u32,
    /// Chance that a job's result is re-executed by the oracles, in basis points.
    pub sample_rate_bps: u16,
    /// Slots a provider has, from claiming a job, to submit its result.
    pub claim_timeout_slots: u64,
    /// Slots the oracles have, from a result, to attest it; past that a job can be failed.
    pub attestation_deadline_slots: u64,
    /// Slots after attestation during which any wallet may challenge.
    pub challenge_window_slots: u64,
    /// Slots the oracles have, after the challenge window, to reach a verdict
    /// on a sampled or challenged job; past that the job unwinds without fault.
    pub verdict_timeout_slots: u64,
    /// Payment tokens a challenger posts.
    pub challenge_bond: u64,
    /// Shares of slashed collateral.
    pub slash_split: SlashSplit,
    /// Share of collateral slashed when a claimed job expires without a result
    /// or the oracles find its output withheld; shared out by `slash_split`.
    pub liveness_slash_bps: u16,
    /// Share of a failed challenger's bond paid to the accused provider; the rest to the treasury.
    pub failed_bond_provider_bps: u16,
    /// Faults after which a provider is jailed (can claim no more jobs).
    pub max_faults: u16,
    /// Slots between requesting an unstake and withdrawing it.
    pub unbonding_slots: u64,
}

impl MarketParams {
    /// Rejects parameters that are out of range or that make cheating pay.
    ///
    /// Proof of sampling: a provider who skips a job saves at most its price
    /// and is caught with probability p, losing price + collateral. Cheating
    /// is irrational when p x (price + collateral) > price, i.e.
    /// `collateral_ratio >= (1 - p) / p`. In basis points, with
    /// r = collateral_ratio_bps and s = sample_rate_bps:
    /// `r / 10^4 >= (10^4 - s) / s  <=>  r x s >= (10^4 - s) x 10^4`.
    /// Both sides stay below 2^32 x 10^4 < 2^64, so u64 holds them exactly
    /// (on-chain code does no u128 multiply).
    pub fn validate(&self) -> Result<()> {
        require!(u64::from(self.fee_bps) <= BPS_DENOMINATOR, SpotcheckError::FeeTooHigh);
        require!(
            self.sample_rate_bps >= 1 && u64::from(self.sample_rate_bps) <= BPS_DENOMINATOR,
            SpotcheckError::SampleRateOutOfRange
        );
        let sample = u64::from(self.sample_rate_bps);
        let lhs = u64::from(self.collateral_ratio_bps).checked_mul(sample).ok_or(SpotcheckError::MathOverflow)?;
        let rhs = (BPS_DENOMINATOR - sample).checked_mul(BPS_DENOMINATOR).ok_or(SpotcheckError::MathOverflow)?;
        require!(lhs >= rhs, SpotcheckError::CollateralRatioTooLow);

        let split = &self.slash_split;
        let split_sum = u64::from(split.client_bps) + u64::from(split.challenger_bps) + u64::from(split.treasury_bps);
        require!(split_sum == BPS_DENOMINATOR, SpotcheckError::SlashSplitNotWhole);
        require!(u64::from(self.liveness_slash_bps) <= BPS_DENOMINATOR, SpotcheckError::LivenessSlashTooHigh);
        require!(u64::from(self.failed_bond_provider_bps) <= BPS_DENOMINATOR, SpotcheckError::BondSplitTooHigh);

        require!(
            self.claim_timeout_slots > 0
                && self.attestation_deadline_slots > 0
                && self.challenge_window_slots > 0
                && self.verdict_timeout_slots > 0,
            SpotcheckError::ZeroDuration
        );
        require!(self.unbonding_slots > self.longest_job_slots()?, SpotcheckError::UnbondingTooShort);
        require!(self.min_provider_stake > 0, SpotcheckError::ZeroMinStake);
        require!(self.challenge_bond > 0, SpotcheckError::ZeroChallengeBond);
        require!(self.max_faults > 0, SpotcheckError::ZeroMaxFaults);
        Ok(())
    }

    /// Slots from a claim to the last moment a verdict can still land: the
    /// longest a job's collateral can stay answerable.
    pub fn longest_job_slots(&self) -> Result<u64> {
        self.claim_timeout_slots
            .checked_add(self.attestation_deadline_slots)
            .and_then(|s| s.checked_add(self.challenge_window_slots))
            .and_then(|s| s.checked_add(self.verdict_timeout_slots))
            .ok_or_else(|| SpotcheckError::MathOverflow.into())
    }
}
