use anchor_lang::prelude::*;

use crate::constants::{BPS_DENOMINATOR, MARKET_SEED, MAX_ORACLES, MAX_PHASE_SLOTS, MAX_UNBONDING_SLOTS};
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
    /// Jobs ever submitted (a statistic: job addresses don't depend on it).
    pub job_count: u64,
    /// Sum of every provider's `staked`. The stake vault holds exactly
    /// `total_staked + treasury_stake`.
    pub total_staked: u64,
    /// Sum of every open job's escrow and posted bonds. The escrow vault holds
    /// exactly `total_escrowed + treasury_payment`.
    pub total_escrowed: u64,
    /// Payment tokens the market has earned (fees, failed challengers' bond
    /// shares), kept in the escrow vault until the authority withdraws them.
    /// Held by the program rather than paid to an outside account at each
    /// settlement, so no closed or frozen treasury account can block a payout.
    pub treasury_payment: u64,
    /// Stake tokens the market has earned (the treasury's share of slashed
    /// collateral), kept in the stake vault until the authority withdraws them.
    pub treasury_stake: u64,
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
        Self::check_oracle_set(&oracles, quorum)?;
        self.oracles = oracles;
        self.quorum = quorum;
        self.oracle_set_version = self.oracle_set_version.checked_add(1).ok_or(SpotcheckError::MathOverflow)?;
        Ok(())
    }

    /// 1 to 8 distinct, non-default keys and a strict-majority quorum.
    pub fn check_oracle_set(oracles: &[Pubkey], quorum: u8) -> Result<()> {
        require!(!oracles.is_empty() && oracles.len() <= MAX_ORACLES, SpotcheckError::OracleSetSize);
        for (i, oracle) in oracles.iter().enumerate() {
            require!(*oracle != Pubkey::default(), SpotcheckError::OracleKeyInvalid);
            require!(
                !oracles.get(..i).is_some_and(|earlier| earlier.contains(oracle)),
                SpotcheckError::DuplicateOracle
            );
        }
        require!(is_majority(quorum, oracles.len()), SpotcheckError::QuorumNotMajority);
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

    /// Counts a submitted job.
    pub fn count_job(&mut self) -> Result<()> {
        self.job_count = self.job_count.checked_add(1).ok_or(SpotcheckError::MathOverflow)?;
        Ok(())
    }

    /// Books `amount` of a vault's tokens as the treasury's (they stay in the vault).
    pub fn credit_treasury(&mut self, side: TreasurySide, amount: u64) -> Result<()> {
        let balance = self.treasury_mut(side);
        *balance = balance.checked_add(amount).ok_or(SpotcheckError::MathOverflow)?;
        Ok(())
    }

    /// Takes `amount` out of the treasury's balance on `side`, for a withdrawal.
    pub fn debit_treasury(&mut self, side: TreasurySide, amount: u64) -> Result<()> {
        let balance = self.treasury_mut(side);
        *balance = balance.checked_sub(amount).ok_or(SpotcheckError::TreasuryTooSmall)?;
        Ok(())
    }

    fn treasury_mut(&mut self, side: TreasurySide) -> &mut u64 {
        match side {
            TreasurySide::Payment => &mut self.treasury_payment,
            TreasurySide::Stake => &mut self.treasury_stake,
        }
    }

    /// The oracle set is empty (a new market, quorum 0) or 1..=8 keys with a
    /// strict-majority quorum; the parameters pass their checks.
    pub fn invariant(&self) -> Result<()> {
        let count = self.oracles.len();
        let oracles_ok =
            if count == 0 { self.quorum == 0 } else { count <= MAX_ORACLES && is_majority(self.quorum, count) };
        require!(oracles_ok, SpotcheckError::MarketInvariant);
        self.params.validate()
    }

    /// Signs for the vaults, whose token authority is this PDA.
    pub fn with_signer<T>(&self, f: impl FnOnce(&[&[&[u8]]]) -> T) -> T {
        let market_id = self.market_id.to_le_bytes();
        let bump = [self.bump];
        let seeds: &[&[u8]] = &[MARKET_SEED, self.authority.as_ref(), &market_id, &bump];
        f(&[seeds])
    }
}

/// More than half of `count`, and at most all of it: two conflicting outcomes
/// can never both reach such a quorum.
fn is_majority(quorum: u8, count: usize) -> bool {
    let quorum = usize::from(quorum);
    quorum.checked_mul(2).is_some_and(|twice| twice > count) && quorum <= count
}

/// Which of a market's two treasury balances: payment tokens (in the escrow
/// vault) or stake tokens (in the stake vault).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreasurySide {
    Payment,
    Stake,
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
    /// Market fee taken from each settled job's price, in basis points, rounded up.
    pub fee_bps: u16,
    /// Least stake a provider must hold to claim jobs.
    pub min_provider_stake: u64,
    /// Collateral locked per job, as a multiple of its price, in basis points
    /// (300_000 = 30x), rounded up. Stake and payment amounts compare in raw token units.
    pub collateral_ratio_bps: u32,
    /// Chance that a job's result is re-executed by the oracles, in basis points.
    pub sample_rate_bps: u16,
    /// Slots a provider has, from claiming a job, to submit its result.
    pub claim_timeout_slots: u64,
    /// Slots the oracles have, from a result, to attest it; past that the job unwinds without fault.
    pub attestation_deadline_slots: u64,
    /// Slots after attestation during which any wallet may challenge. The
    /// sampling draw comes from the hash of the first slot after it.
    pub challenge_window_slots: u64,
    /// Slots the oracles have to reach a verdict, counted from when one became
    /// needed (the challenge, or the reveal that selected the job); past that
    /// the job unwinds without fault.
    pub verdict_timeout_slots: u64,
    /// Payment tokens a challenger posts.
    pub challenge_bond: u64,
    /// Shares of slashed collateral.
    pub slash_split: SlashSplit,
    /// Share of collateral slashed (rounded up; at least 1 bps) when a claimed
    /// job expires without a result or the oracles find its output withheld;
    /// the client's share of it by `slash_split`, the rest to the treasury.
    pub liveness_slash_bps: u16,
    /// Share of a failed challenger's bond paid to the accused provider; the rest to the treasury.
    pub failed_bond_provider_bps: u16,
    /// Faults after which a provider is jailed (can claim no more jobs).
    pub max_faults: u16,
    /// Slots between requesting an unstake and withdrawing it.
    pub unbonding_slots: u64,
}

impl MarketParams {
    /// Rejects parameters that are out of range or under which cheating pays.
    ///
    /// A provider that skips a job's work saves at most its price and, when the
    /// draw samples the job (probability p), loses the price and at least
    /// `loss` of its collateral. The cheapest way to be caught is to have
    /// challenged the job itself from another wallet, which hands it back the
    /// challenger's share h of its own collateral: loss = (1 - h) x collateral.
    /// Cheating must lose money even then, so the check is strict:
    ///
    /// `p x (price + (1 - h) x r x price) > price  <=>  p x (1 + (1 - h) x r) > 1`
    ///
    /// In basis points (s = sample rate, h = challenger share, r = collateral ratio):
    /// `s x (10^8 + (10^4 - h) x r) > 10^12`. With r < 2^32 the left side is
    /// below 10^4 x (10^8 + 10^4 x 2^32) < 2^59, so u64 holds it exactly (the
    /// SBF path has no u128 multiply). Withholding an output and letting a
    /// claim expire are decided before the draw exists and cost the liveness
    /// slash, so that must be at least 1 bps. README, "Why cheating never
    /// pays", goes through every path with the arithmetic.
    pub fn validate(&self) -> Result<()> {
        require!(u64::from(self.fee_bps) <= BPS_DENOMINATOR, SpotcheckError::FeeTooHigh);
        require!(
            self.sample_rate_bps >= 1 && u64::from(self.sample_rate_bps) <= BPS_DENOMINATOR,
            SpotcheckError::SampleRateOutOfRange
        );
        let split = &self.slash_split;
        let split_sum = u64::from(split.client_bps)
            .checked_add(u64::from(split.challenger_bps))
            .and_then(|sum| sum.checked_add(u64::from(split.treasury_bps)));
        require!(split_sum == Some(BPS_DENOMINATOR), SpotcheckError::SlashSplitNotWhole);
        require!(self.cheating_loses()?, SpotcheckError::CollateralRatioTooLow);
        require!(
            self.liveness_slash_bps >= 1 && u64::from(self.liveness_slash_bps) <= BPS_DENOMINATOR,
            SpotcheckError::LivenessSlashOutOfRange
        );
        require!(u64::from(self.failed_bond_provider_bps) <= BPS_DENOMINATOR, SpotcheckError::BondSplitTooHigh);

        let phases = [
            self.claim_timeout_slots,
            self.attestation_deadline_slots,
            self.challenge_window_slots,
            self.verdict_timeout_slots,
        ];
        require!(phases.iter().all(|&slots| slots > 0), SpotcheckError::ZeroDuration);
        require!(phases.iter().all(|&slots| slots <= MAX_PHASE_SLOTS), SpotcheckError::DurationTooLong);
        require!(self.unbonding_slots > self.longest_job_slots()?, SpotcheckError::UnbondingTooShort);
        require!(self.unbonding_slots <= MAX_UNBONDING_SLOTS, SpotcheckError::UnbondingTooLong);
        require!(self.min_provider_stake > 0, SpotcheckError::ZeroMinStake);
        require!(self.challenge_bond > 0, SpotcheckError::ZeroChallengeBond);
        require!(self.max_faults > 0, SpotcheckError::ZeroMaxFaults);
        Ok(())
    }

    /// `s x (10^8 + (10^4 - h) x r) > 10^12`: see `validate`. Needs a whole slash split.
    pub fn cheating_loses(&self) -> Result<bool> {
        let kept_by_provider = BPS_DENOMINATOR
            .checked_sub(u64::from(self.slash_split.challenger_bps))
            .ok_or(SpotcheckError::SlashSplitNotWhole)?;
        let whole = BPS_DENOMINATOR.checked_mul(BPS_DENOMINATOR).ok_or(SpotcheckError::MathOverflow)?;
        let lhs = kept_by_provider
            .checked_mul(u64::from(self.collateral_ratio_bps))
            .and_then(|loss| loss.checked_add(whole))
            .and_then(|per_price| per_price.checked_mul(u64::from(self.sample_rate_bps)))
            .ok_or(SpotcheckError::MathOverflow)?;
        let rhs = whole.checked_mul(BPS_DENOMINATOR).ok_or(SpotcheckError::MathOverflow)?;
        Ok(lhs > rhs)
    }

    /// Slots from a claim to the last moment a verdict can land when nobody
    /// delays the draw: the longest a job's collateral normally stays answerable.
    pub fn longest_job_slots(&self) -> Result<u64> {
        self.claim_timeout_slots
            .checked_add(self.attestation_deadline_slots)
            .and_then(|s| s.checked_add(self.challenge_window_slots))
            .and_then(|s| s.checked_add(self.verdict_timeout_slots))
            .ok_or_else(|| SpotcheckError::MathOverflow.into())
    }
}
