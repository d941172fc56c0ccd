//! Basis-point arithmetic in u64 only: the SBF path has no u128 multiply or
//! divide, so `amount * bps / 10^4` is computed exactly in two parts:
//! amount = q * 10^4 + r, so amount * bps / 10^4 = q * bps + (r * bps) / 10^4,
//! where r * bps < 10^4 * 2^32 never overflows.

use anchor_lang::prelude::*;

use crate::constants::BPS_DENOMINATOR;
use crate::error::SpotcheckError;

/// `floor(amount * bps / 10^4)`, exactly; errors only if the result itself overflows u64.
pub fn mul_bps(amount: u64, bps: u64) -> Result<u64> {
    let whole = (amount / BPS_DENOMINATOR).checked_mul(bps).ok_or(SpotcheckError::MathOverflow)?;
    let part = (amount % BPS_DENOMINATOR).checked_mul(bps).ok_or(SpotcheckError::MathOverflow)? / BPS_DENOMINATOR;
    Ok(whole.checked_add(part).ok_or(SpotcheckError::MathOverflow)?)
}

/// `mul_bps` for a share of at most 100 %: the result is at most `amount`, so it can't fail.
pub fn share(amount: u64, bps: u16) -> u64 {
    let bps = u64::from(bps).min(BPS_DENOMINATOR);
    (amount / BPS_DENOMINATOR) * bps + (amount % BPS_DENOMINATOR) * bps / BPS_DENOMINATOR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_bps_is_exact_floor() {
        for amount in [0u64, 1, 9_999, 10_000, 10_001, 123_456_789, u64::MAX / 20_000] {
            for bps in [0u64, 1, 250, 9_999, 10_000, 190_000] {
                let exact = (u128::from(amount) * u128::from(bps) / 10_000) as u64;
                assert_eq!(mul_bps(amount, bps).unwrap(), exact, "{amount} x {bps}");
            }
        }
        assert!(mul_bps(u64::MAX, 20_000).is_err());
    }

    #[test]
    fn share_never_exceeds_the_amount() {
        for amount in [0u64, 1, 9_999, 12_345, u64::MAX] {
            for bps in [0u16, 1, 5_000, 10_000, u16::MAX] {
                let s = share(amount, bps);
                assert!(s <= amount);
                let capped = u128::from(bps.min(10_000));
                assert_eq!(u128::from(s), u128::from(amount) * capped / 10_000);
            }
        }
    }
}
