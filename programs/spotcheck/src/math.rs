//! Basis-point arithmetic in u64 only: the SBF path has no u128 multiply or
//! divide, so `amount * bps / 10^4` is computed exactly in two parts:
//! amount = q * 10^4 + r, so amount * bps / 10^4 = q * bps + (r * bps) / 10^4,
//! where r * bps < 10^4 * 2^32 never overflows.
//!
//! Which way each amount rounds is part of the economics (README, "Why
//! cheating never pays"): what a provider puts at risk rounds up (collateral,
//! fees, the liveness slash), what a party is paid out of someone else's
//! collateral rounds down (its share), and the remainder goes to the treasury.

use anchor_lang::prelude::*;

use crate::constants::BPS_DENOMINATOR;
use crate::error::SpotcheckError;

/// `amount = whole * 10^4 + part`, times `bps`: (whole * bps, part * bps).
fn split_mul(amount: u64, bps: u64) -> Result<(u64, u64)> {
    let whole = (amount / BPS_DENOMINATOR).checked_mul(bps).ok_or(SpotcheckError::MathOverflow)?;
    let part = (amount % BPS_DENOMINATOR).checked_mul(bps).ok_or(SpotcheckError::MathOverflow)?;
    Ok((whole, part))
}

/// `floor(amount * bps / 10^4)`, exactly; errors only if the result itself overflows u64.
pub fn mul_bps(amount: u64, bps: u64) -> Result<u64> {
    let (whole, part) = split_mul(amount, bps)?;
    Ok(whole.checked_add(part / BPS_DENOMINATOR).ok_or(SpotcheckError::MathOverflow)?)
}

/// `ceil(amount * bps / 10^4)`, exactly; errors only if the result overflows u64.
pub fn mul_bps_ceil(amount: u64, bps: u64) -> Result<u64> {
    let (whole, part) = split_mul(amount, bps)?;
    let rounded_up = u64::from(part % BPS_DENOMINATOR != 0);
    Ok(whole
        .checked_add(part / BPS_DENOMINATOR)
        .and_then(|sum| sum.checked_add(rounded_up))
        .ok_or(SpotcheckError::MathOverflow)?)
}

/// `mul_bps` for a share of at most 100 %: the result is at most `amount`, so it can't fail.
pub fn share(amount: u64, bps: u16) -> u64 {
    mul_bps(amount, u64::from(bps).min(BPS_DENOMINATOR)).unwrap_or(amount)
}

/// `mul_bps_ceil` for a share of at most 100 %: at most `amount`, so it can't fail.
pub fn share_ceil(amount: u64, bps: u16) -> u64 {
    mul_bps_ceil(amount, u64::from(bps).min(BPS_DENOMINATOR)).unwrap_or(amount)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    const AMOUNTS: [u64; 8] = [0, 1, 9_999, 10_000, 10_001, 12_345, 123_456_789, u64::MAX / 20_000];

    #[test]
    fn mul_bps_is_exact_floor_and_ceil() {
        for amount in AMOUNTS {
            for bps in [0u64, 1, 250, 9_999, 10_000, 190_000, 300_001] {
                let product = u128::from(amount) * u128::from(bps);
                assert_eq!(u128::from(mul_bps(amount, bps).unwrap()), product / 10_000, "{amount} x {bps}");
                assert_eq!(
                    u128::from(mul_bps_ceil(amount, bps).unwrap()),
                    product.div_ceil(10_000),
                    "{amount} x {bps}"
                );
            }
        }
        assert!(mul_bps(u64::MAX, 20_000).is_err());
        assert!(mul_bps_ceil(u64::MAX, 20_000).is_err());
        assert_eq!(mul_bps_ceil(u64::MAX, 10_000).unwrap(), u64::MAX);
    }

    #[test]
    fn shares_never_exceed_the_amount() {
        for amount in AMOUNTS.into_iter().chain([u64::MAX]) {
            for bps in [0u16, 1, 5_000, 10_000, u16::MAX] {
                let capped = u128::from(bps.min(10_000));
                let (floor, ceil) = (share(amount, bps), share_ceil(amount, bps));
                assert!(floor <= ceil && ceil <= amount);
                assert_eq!(u128::from(floor), u128::from(amount) * capped / 10_000);
                assert_eq!(u128::from(ceil), (u128::from(amount) * capped).div_ceil(10_000));
            }
        }
    }
}
