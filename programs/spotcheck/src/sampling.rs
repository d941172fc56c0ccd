//! The sampling draw: whether the oracles must re-execute a job.
//!
//! When a provider commits a result, the job records `sample_slot`, a slot
//! still in the future. Once it has passed, anyone cranks `job_reveal_sample`,
//! which reads that slot's hash from the SlotHashes sysvar, mixes it with the
//! job's address, and selects the job with probability `sample_rate_bps`:
//!
//! `x = u64_le(sha256("spotcheck-sample" || slot_hash || job)[0..8]);  sampled <=> x mod 10^4 < rate`
//!
//! The sysvar is read straight from its account bytes (deserializing all 512
//! entries would cost ~20 KB of heap and many compute units, and the runtime
//! refuses `SlotHashes::get` anyway): a little-endian u64 count, then
//! (slot: u64, hash: [u8; 32]) entries, newest first. A skipped sample slot
//! has no entry, so the first block at or after it decides. If the entries no
//! longer reach back to the sample slot (the reveal came over ~512 slots late),
//! the job counts as sampled: waiting can never help a provider escape a check.

use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

use crate::constants::BPS_DENOMINATOR;
use crate::error::SpotcheckError;

const ENTRY_LEN: usize = 8 + 32;

/// The hash that decides a job sampled at `sample_slot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotHashLookup {
    /// The hash of the first block at or after the sample slot.
    Found([u8; 32]),
    /// The sysvar no longer reaches back to the sample slot.
    Expired,
}

fn entry(data: &[u8], index: usize) -> Result<(u64, &[u8])> {
    let start = index.checked_mul(ENTRY_LEN).and_then(|offset| offset.checked_add(8));
    let end = start.and_then(|start| start.checked_add(ENTRY_LEN));
    let (Some(start), Some(end)) = (start, end) else {
        return err!(SpotcheckError::MalformedSlotHashes);
    };
    let bytes = data.get(start..end).ok_or(SpotcheckError::MalformedSlotHashes)?;
    let (slot_bytes, hash) = bytes.split_at(8);
    let mut slot = [0u8; 8];
    slot.copy_from_slice(slot_bytes);
    Ok((u64::from_le_bytes(slot), hash))
}

/// Finds the hash deciding `sample_slot` in the SlotHashes sysvar's data.
pub fn lookup(data: &[u8], sample_slot: u64) -> Result<SlotHashLookup> {
    let count_bytes = data.get(..8).ok_or(SpotcheckError::MalformedSlotHashes)?;
    let mut count = [0u8; 8];
    count.copy_from_slice(count_bytes);
    let count = usize::try_from(u64::from_le_bytes(count)).map_err(|_| SpotcheckError::MalformedSlotHashes)?;
    require!(count > 0, SpotcheckError::SampleSlotNotReached);
    let (newest, _) = entry(data, 0)?;
    require!(newest >= sample_slot, SpotcheckError::SampleSlotNotReached);
    let (oldest, _) = entry(data, count.checked_sub(1).ok_or(SpotcheckError::MalformedSlotHashes)?)?;
    if oldest > sample_slot {
        return Ok(SlotHashLookup::Expired);
    }
    // Newest first: find the last index whose slot is still >= sample_slot.
    // Invariant: entry(lo).slot >= sample_slot, entry(hi).slot < sample_slot or hi == count.
    let (mut lo, mut hi) = (0usize, count);
    while let Some(gap) = hi.checked_sub(lo).filter(|gap| *gap > 1) {
        let mid = lo.checked_add(gap / 2).ok_or(SpotcheckError::MalformedSlotHashes)?;
        if entry(data, mid)?.0 >= sample_slot {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut hash = [0u8; 32];
    hash.copy_from_slice(entry(data, lo)?.1);
    Ok(SlotHashLookup::Found(hash))
}

/// Whether the job at `job` is sampled, given the lookup and the rate.
pub fn is_sampled(lookup: SlotHashLookup, job: &Pubkey, sample_rate_bps: u16) -> bool {
    match lookup {
        SlotHashLookup::Expired => true,
        SlotHashLookup::Found(slot_hash) => {
            let mixed = hashv(&[b"spotcheck-sample", &slot_hash, job.as_ref()]).to_bytes();
            let mut head = [0u8; 8];
            head.copy_from_slice(&mixed[..8]);
            u64::from_le_bytes(head) % BPS_DENOMINATOR < u64::from(sample_rate_bps)
        }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn sysvar(slots: &[u64]) -> Vec<u8> {
        let mut data = (slots.len() as u64).to_le_bytes().to_vec();
        for slot in slots {
            data.extend(slot.to_le_bytes());
            data.extend([*slot as u8; 32]);
        }
        data
    }

    #[test]
    fn finds_the_first_block_at_or_after_the_sample_slot() {
        let data = sysvar(&[110, 109, 107, 106, 100]);
        assert_eq!(lookup(&data, 109).unwrap(), SlotHashLookup::Found([109; 32]));
        assert_eq!(lookup(&data, 108).unwrap(), SlotHashLookup::Found([109; 32]), "108 skipped: 109 decides");
        assert_eq!(lookup(&data, 100).unwrap(), SlotHashLookup::Found([100; 32]));
        assert_eq!(lookup(&data, 101).unwrap(), SlotHashLookup::Found([106; 32]));
        assert_eq!(lookup(&data, 110).unwrap(), SlotHashLookup::Found([110; 32]));
    }

    #[test]
    fn too_old_is_expired_and_too_new_is_an_error() {
        let data = sysvar(&[110, 109, 100]);
        assert_eq!(lookup(&data, 99).unwrap(), SlotHashLookup::Expired);
        assert!(lookup(&data, 111).is_err());
        assert!(lookup(&sysvar(&[]), 5).is_err());
        assert!(lookup(&[1, 2, 3], 5).is_err());
        let mut truncated = sysvar(&[110, 109]);
        truncated.truncate(50);
        assert!(lookup(&truncated, 109).is_err());
    }

    #[test]
    fn expired_always_samples_and_rates_are_respected() {
        let job = Pubkey::new_unique();
        assert!(is_sampled(SlotHashLookup::Expired, &job, 0));
        assert!(is_sampled(SlotHashLookup::Found([7; 32]), &job, 10_000));
        assert!(!is_sampled(SlotHashLookup::Found([7; 32]), &job, 0));
    }
}
