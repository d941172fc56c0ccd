//! The engine's own transcendental functions, built from IEEE +, -, *, / and
//! integer/bit operations only, so no libm and no FMA ever decides a bit.
//! `exp_f32`/`silu` run in the forward pass (a CUDA twin must repeat them
//! literally, with `__fmul_rn`/`__fadd_rn`); the f64 routines only build the
//! RoPE table on the host.

/// 2^n as an f32 for n in `[-126, 127]`.
#[inline(always)]
fn pow2_f32(n: i32) -> f32 {
    f32::from_bits(((n + 127) as u32) << 23)
}

/// Nearest integer, ties away from zero (NaN -> 0), via truncation: the
/// fraction x - trunc(x) is exact for |x| < 2^23, so no rounding step can
/// differ between machines. Used by `exp_f32` and the Q8 activation
/// quantizer (`cpu/quant.rs`; its CUDA twin is `kernels/quantize_q8.cu`).
#[inline(always)]
pub(crate) fn round_half_away(x: f32) -> i32 {
    let t = x as i32;
    let frac = x - t as f32;
    if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    }
}

/// `exp_f32`'s constants, shared with its CUDA twin (`kernels/common.cuh`
/// writes them as hex floats; a unit test compares the two).
pub(crate) mod exp_consts {
    pub const LOG2E: f32 = std::f32::consts::LOG2_E;
    /// ln 2 = C1 + C2 with C1 short enough that k * C1 is exact.
    pub const C1: f32 = 0.693_359_4;
    pub const C2: f32 = -2.121_944_4e-4;
    /// Above: +inf; below `MIN`: 0.
    pub const MAX: f32 = 88.722_84;
    pub const MIN: f32 = -103.972_08;
    /// The polynomial's coefficients, highest degree first (then 1/2).
    pub const POLY: [f32; 5] = [1.987_569_1e-4, 1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1];
}

/// e^x in f32 (Cephes-style: Cody-Waite reduction by ln 2, degree-7
/// polynomial, exact scaling by 2^k; subnormal results are produced, not
/// flushed). Accurate to ~1 ulp; bit-identical everywhere by construction.
#[inline]
pub fn exp_f32(x: f32) -> f32 {
    use exp_consts::{C1, C2, LOG2E, MAX, MIN, POLY};
    if x.is_nan() {
        return x;
    }
    if x > MAX {
        return f32::INFINITY;
    }
    if x < MIN {
        return 0.0;
    }
    let k = round_half_away(x * LOG2E);
    let kf = k as f32;
    let r = (x - kf * C1) - kf * C2;
    let r2 = r * r;
    let mut p = POLY[0];
    p = p * r + POLY[1];
    p = p * r + POLY[2];
    p = p * r + POLY[3];
    p = p * r + POLY[4];
    p = p * r + 5e-1;
    let y = (p * r2 + r) + 1.0;
    if k > 127 {
        (y * pow2_f32(127)) * pow2_f32(k - 127)
    } else if k < -126 {
        // Two steps: the first product is exact, the second rounds once.
        (y * pow2_f32(k + 64)) * pow2_f32(-64)
    } else {
        y * pow2_f32(k)
    }
}

/// SiLU(x) = x / (1 + e^-x).
#[inline]
pub fn silu(x: f32) -> f32 {
    x / (1.0 + exp_f32(-x))
}

// ---------------------------------------------------------------------------
// f64 routines for the RoPE table (host side, once per model load).

const LN2_HI: f64 = 6.931_471_803_691_238e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;

fn pow2_f64(n: i64) -> f64 {
    f64::from_bits(((n + 1023) as u64) << 52)
}

fn round_f64(x: f64) -> i64 {
    let t = x as i64;
    let frac = x - t as f64;
    if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    }
}

/// e^x for |x| < 700, Taylor series after reduction by ln 2.
pub fn exp_f64(x: f64) -> f64 {
    let k = round_f64(x / std::f64::consts::LN_2);
    let kf = k as f64;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    // Horner over 1/n!, n = 18..0; the terms past 18 are below 1e-25.
    let mut inv_fact = [1.0f64; 19];
    for n in 1..19 {
        inv_fact[n] = inv_fact[n - 1] / n as f64;
    }
    let mut p = 0.0f64;
    for c in inv_fact.iter().rev() {
        p = p * r + c;
    }
    p * pow2_f64(k)
}

/// Natural log for positive normal x: x = m * 2^e with m in [sqrt(1/2),
/// sqrt(2)), ln m = 2 atanh((m-1)/(m+1)) by its odd series.
pub fn ln_f64(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut sum = 0.0f64;
    for n in (0..24).rev() {
        sum = sum * s2 + 1.0 / (2 * n + 1) as f64;
    }
    let ef = e as f64;
    ef * LN2_HI + (ef * LN2_LO + 2.0 * s * sum)
}

/// Taylor coefficients for [`SinCos::eval`], computed once per table.
pub struct SinCos {
    /// (-1)^n / (2n+1)! and (-1)^n / (2n)!, n < 14 (terms past are < 1e-30).
    sin_c: [f64; 14],
    cos_c: [f64; 14],
}

impl Default for SinCos {
    fn default() -> Self {
        Self::new()
    }
}

impl SinCos {
    pub fn new() -> Self {
        let mut fact = [1.0f64; 28];
        for i in 1..28 {
            fact[i] = fact[i - 1] * i as f64;
        }
        let mut sin_c = [0.0; 14];
        let mut cos_c = [0.0; 14];
        for n in 0..14 {
            let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
            sin_c[n] = sign / fact[2 * n + 1];
            cos_c[n] = sign / fact[2 * n];
        }
        Self { sin_c, cos_c }
    }

    /// (sin x, cos x) for 0 <= x < 2^19 * pi/2: Cody-Waite reduction by pi/2
    /// with a three-part constant (each part has 33 significant bits, so
    /// k * part is exact), then the series on |r| <= pi/4.
    pub fn eval(&self, x: f64) -> (f64, f64) {
        const PIO2_1: f64 = 1.570_796_326_734_125_6;
        const PIO2_2: f64 = 6.077_100_506_303_966e-11;
        const PIO2_3: f64 = 2.022_266_248_711_166_5e-21;
        let k = round_f64(x / std::f64::consts::FRAC_PI_2);
        let kf = k as f64;
        let r = ((x - kf * PIO2_1) - kf * PIO2_2) - kf * PIO2_3;
        let r2 = r * r;
        let mut s = 0.0f64;
        let mut c = 0.0f64;
        for n in (0..14).rev() {
            s = s * r2 + self.sin_c[n];
            c = c * r2 + self.cos_c[n];
        }
        let s = s * r;
        match k.rem_euclid(4) {
            0 => (s, c),
            1 => (c, -s),
            2 => (-s, -c),
            _ => (-c, s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_f32_is_accurate() {
        let mut worst = 0.0f64;
        let mut x = -103.0f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            let got = exp_f32(x) as f64;
            if want > 1e-37 {
                worst = worst.max(((got - want) / want).abs());
            }
            x += 0.0137;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-200.0), 0.0);
        assert_eq!(exp_f32(100.0), f32::INFINITY);
        assert!(exp_f32(-100.0) > 0.0, "subnormals are kept");
        assert!(exp_f32(f32::NAN).is_nan());
    }

    #[test]
    fn f64_routines_are_accurate() {
        for &x in &[1e-3, 0.5, 1.0, 2.0, 10.0, 100000.0, 1e-300] {
            let rel = (ln_f64(x) - x.ln()).abs() / x.ln().abs().max(1.0);
            assert!(rel < 1e-15, "ln({x})");
        }
        for &x in &[-30.0, -1.0, 0.0, 0.3, 1.0, 20.0] {
            assert!((exp_f64(x) / x.exp() - 1.0).abs() < 1e-15, "exp({x})");
        }
        let sc = SinCos::new();
        let mut x = 0.0f64;
        while x < 9000.0 {
            let (s, c) = sc.eval(x);
            assert!((s - x.sin()).abs() < 1e-12 && (c - x.cos()).abs() < 1e-12, "{x}");
            x += 0.731;
        }
    }

    #[test]
    fn silu_matches_definition() {
        for &x in &[-20.0f32, -1.0, 0.0, 0.5, 3.0] {
            let want = x as f64 / (1.0 + (-x as f64).exp());
            assert!((silu(x) as f64 - want).abs() < 1e-6);
        }
    }
}
