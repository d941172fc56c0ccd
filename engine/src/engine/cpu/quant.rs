//! Activation quantization to int8 per block of 32 (engine rule 2).

use crate::engine::Q8Acts;
use crate::engine::math::round_half_away;

/// One block: returns (d, d * Σq) and writes q. The sum is of the quantized
/// values (an exact i32), so Q4_1's offset term `m_w * s` pairs with the
/// same activations as its scale term (rule 2).
#[inline(always)]
pub fn quantize_block(x: &[f32], q: &mut [i8]) -> (f32, f32) {
    let mut amax = 0.0f32;
    for v in x {
        let a = v.abs();
        if a > amax {
            amax = a;
        }
    }
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut qsum = 0i32;
    for (qi, &v) in q.iter_mut().zip(x) {
        *qi = round_half_away((v * id).clamp(-127.0, 127.0)) as i8;
        qsum += *qi as i32;
    }
    (d, d * qsum as f32)
}

/// Quantizes rows of `cols` values (cols % 32 == 0) into `out`.
pub fn quantize_rows(x: &[f32], cols: usize, out: &mut Q8Acts) {
    out.resize(x.len().checked_div(cols).unwrap_or(0), cols);
    quantize_into(x, &mut out.q, &mut out.d, &mut out.s);
}

/// Quantizes whole blocks of `x` into matching slices of q, d and s.
pub fn quantize_into(x: &[f32], q: &mut [i8], d: &mut [f32], s: &mut [f32]) {
    for ((xb, qb), (d, s)) in x.chunks_exact(32).zip(q.chunks_exact_mut(32)).zip(d.iter_mut().zip(s.iter_mut())) {
        (*d, *s) = quantize_block(xb, qb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_rule() {
        assert_eq!(round_half_away(2.5), 3);
        assert_eq!(round_half_away(-2.5), -3);
        assert_eq!(round_half_away(2.4999998), 2);
        assert_eq!(round_half_away(-0.4), 0);
        assert_eq!(round_half_away(f32::NAN), 0);
        let mut q = [0i8; 32];
        let mut x = [0.0f32; 32];
        x[3] = -4.0;
        x[7] = 3.0;
        let (d, s) = quantize_block(&x, &mut q);
        assert_eq!(q[3], -127);
        assert_eq!(q[7], 95); // 95.25
        assert_eq!(d, 4.0 / 127.0);
        assert_eq!(s, d * -32.0); // -127 + 95
        let (d, s) = quantize_block(&[0.0; 32], &mut q);
        assert_eq!((d, s), (0.0, 0.0));
        assert!(q.iter().all(|&v| v == 0));
    }
}
