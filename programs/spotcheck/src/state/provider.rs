use anchor_lang::prelude::*;

use crate::constants::MAX_ENDPOINT_LEN;
use crate::error::SpotcheckError;

/// Whether a provider may claim jobs.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum ProviderStatus {
    /// May claim jobs while its free stake covers the minimum.
    Active,
    /// Reached the market's fault limit: claims nothing more, may still withdraw after unbonding.
    Jailed,
}

/// A compute provider in one market. The cold stake wallet owns the stake;
/// the hot worker key only claims jobs and submits results.
#[account]
#[derive(InitSpace)]
pub struct Provider {
    /// The market this provider serves.
    pub market: Pubkey,
    /// Cold wallet: stakes, unstakes, withdraws, rotates the worker key. Part of the PDA seeds.
    pub stake_wallet: Pubkey,
    /// Hot key the worker daemon signs claims and results with.
    pub worker: Pubkey,
    /// Base URL where the worker serves outputs by hash.
    #[max_len(MAX_ENDPOINT_LEN)]
    pub endpoint: String,
    /// Stake held for this provider in the market's stake vault (locked and pending included).
    pub staked: u64,
    /// Collateral locked behind claimed jobs; never withdrawable while locked.
    pub locked: u64,
    /// Amount requested for unstaking, withdrawable from `unstake_release_slot`.
    pub pending_unstake: u64,
    /// Slot from which `pending_unstake` can be withdrawn.
    pub unstake_release_slot: u64,
    /// Jobs settled with the provider paid.
    pub jobs_completed: u64,
    /// Jobs whose re-execution by the oracles matched.
    pub jobs_verified: u64,
    /// Jobs lost to a liveness fault (expired or withheld output).
    pub jobs_failed: u64,
    /// Jobs whose result failed verification.
    pub jobs_slashed: u64,
    /// Faults counted toward jailing.
    pub faults: u16,
    /// Active or jailed.
    pub status: ProviderStatus,
    /// Slot the provider registered in: its age, for clients weighing its
    /// history (a jailed provider that re-registers starts again from zero).
    pub registered_slot: u64,
    /// PDA bump.
    pub bump: u8,
}

impl Provider {
    /// Stake neither locked behind jobs nor on its way out.
    pub fn free_stake(&self) -> Result<u64> {
        self.staked
            .checked_sub(self.locked)
            .and_then(|rest| rest.checked_sub(self.pending_unstake))
            .ok_or_else(|| SpotcheckError::ProviderInvariant.into())
    }

    pub fn add_stake(&mut self, amount: u64) -> Result<()> {
        self.staked = self.staked.checked_add(amount).ok_or(SpotcheckError::MathOverflow)?;
        Ok(())
    }

    /// Moves `amount` of free stake to pending, released `unbonding_slots` from `now`.
    /// A new request restarts the clock for everything pending: the unbonding
    /// period always covers the most recent decision to leave.
    pub fn request_unstake(&mut self, amount: u64, now: u64, unbonding_slots: u64) -> Result<()> {
        require!(amount > 0, SpotcheckError::ZeroAmount);
        require!(amount <= self.free_stake()?, SpotcheckError::UnstakeExceedsFreeStake);
        self.pending_unstake = self.pending_unstake.checked_add(amount).ok_or(SpotcheckError::MathOverflow)?;
        self.unstake_release_slot = now.checked_add(unbonding_slots).ok_or(SpotcheckError::MathOverflow)?;
        Ok(())
    }

    /// Takes the whole pending unstake out of `staked`, if its release slot has come.
    pub fn withdraw(&mut self, now: u64) -> Result<u64> {
        require!(self.pending_unstake > 0, SpotcheckError::NothingToWithdraw);
        require!(now >= self.unstake_release_slot, SpotcheckError::StillUnbonding);
        let amount = self.pending_unstake;
        self.staked = self.staked.checked_sub(amount).ok_or(SpotcheckError::ProviderInvariant)?;
        self.pending_unstake = 0;
        Ok(amount)
    }

    /// Locked collateral and pending unstake are both parts of the stake.
    pub fn invariant(&self) -> Result<()> {
        self.free_stake().map(|_| ())
    }

    /// Locks `collateral` behind a claimed job. The provider must be active,
    /// keep at least the market minimum bonded (staked minus pending unstake),
    /// and have the collateral free.
    pub fn lock_collateral(&mut self, collateral: u64, min_stake: u64) -> Result<()> {
        require!(self.status == ProviderStatus::Active, SpotcheckError::ProviderJailed);
        let bonded = self.staked.checked_sub(self.pending_unstake).ok_or(SpotcheckError::ProviderInvariant)?;
        require!(bonded >= min_stake, SpotcheckError::InsufficientStake);
        require!(self.free_stake()? >= collateral, SpotcheckError::InsufficientStake);
        self.locked = self.locked.checked_add(collateral).ok_or(SpotcheckError::MathOverflow)?;
        Ok(())
    }

    /// Unlocks a job's collateral: it is free stake again.
    pub fn release_collateral(&mut self, collateral: u64) -> Result<()> {
        self.locked = self.locked.checked_sub(collateral).ok_or(SpotcheckError::ProviderInvariant)?;
        Ok(())
    }

    /// Unlocks a job's collateral and takes `slashed` of it out of the stake.
    pub fn forfeit_collateral(&mut self, collateral: u64, slashed: u64) -> Result<()> {
        require!(slashed <= collateral, SpotcheckError::ProviderInvariant);
        self.release_collateral(collateral)?;
        self.staked = self.staked.checked_sub(slashed).ok_or(SpotcheckError::ProviderInvariant)?;
        Ok(())
    }

    /// Counts a fault; jails the provider at the market's limit. Returns whether it was jailed now.
    pub fn record_fault(&mut self, max_faults: u16) -> bool {
        self.faults = self.faults.saturating_add(1);
        if self.faults >= max_faults && self.status == ProviderStatus::Active {
            self.status = ProviderStatus::Jailed;
            return true;
        }
        false
    }
}

/// An endpoint is an http(s) URL with a host, at most `MAX_ENDPOINT_LEN` bytes.
pub fn validate_endpoint(endpoint: &str) -> Result<()> {
    let host = endpoint.strip_prefix("https://").or_else(|| endpoint.strip_prefix("http://"));
    require!(
        endpoint.len() <= usize::from(MAX_ENDPOINT_LEN) && host.is_some_and(|host| !host.is_empty()),
        SpotcheckError::BadEndpoint
    );
    Ok(())
}
