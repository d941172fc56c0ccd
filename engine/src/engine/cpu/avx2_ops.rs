//! AVX2 versions of the element-wise hot spots of a batched pass: the Q8
//! activation quantizer (`quant::quantize_into`) and SwiGLU
//! (`ops::silu_mul`, through `math::exp_f32`). Each lane performs exactly
//! the scalar routine's IEEE operations in the scalar order — the same
//! multiplies, adds, divides and exact conversions, with the scalar
//! branches (NaN, range limits, rounding ties) turned into masks that pick
//! the value the branch would have produced — so the bits are the portable
//! code's (NaN payloads aside, which the engine never promises: see the
//! silu test). The unit tests below compare every lane with the scalar code on
//! special values and a sweep of bit patterns; `tests/determinism.rs`
//! compares whole runs.

#[cfg(target_arch = "x86_64")]
pub(super) use x86::{head, quantize_into, silu_mul, tree32};

/// # Safety
/// The CPU must support AVX2.
#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn quantize_into(x: &[f32], q: &mut [i8], d: &mut [f32], s: &mut [f32]) {
    super::quant::quantize_into(x, q, d, s)
}

/// # Safety
/// The CPU must support AVX2.
#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn silu_mul(gate: &mut [f32], up: &[f32]) {
    super::ops::silu_mul(gate, up)
}

/// # Safety
/// The CPU must support AVX2.
#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn head(
    q: &[f32],
    kv: &super::attention::Kv<'_>,
    scale: f32,
    o: &mut [f32],
    s: &mut super::attention::Scratch,
) {
    super::attention::head(q, kv, scale, o, s)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::super::attention::{Kv, Scratch};
    use super::super::reduce::LANES;
    use crate::engine::math::exp_consts::{C1, C2, LOG2E, MAX, MIN, POLY};
    use crate::engine::math::exp_f32;

    #[target_feature(enable = "avx2")]
    #[inline]
    fn load(s: &[f32]) -> __m256 {
        let s = &s[..8];
        // SAFETY: the slice above has 8 elements.
        unsafe { _mm256_loadu_ps(s.as_ptr()) }
    }

    /// `math::round_half_away` on 8 lanes: truncate, then step by one when
    /// the exact fraction reaches ±0.5. NaN lanes give 0, as `as i32`
    /// does; other lanes must be within i32 range (callers clamp).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn round_half_away(x: __m256) -> __m256i {
        let x = _mm256_and_ps(x, _mm256_cmp_ps::<_CMP_ORD_Q>(x, x));
        let t = _mm256_cvttps_epi32(x);
        let frac = _mm256_sub_ps(x, _mm256_cvtepi32_ps(t));
        // Comparison masks are -1 where true.
        let up = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GE_OQ>(frac, _mm256_set1_ps(0.5)));
        let down = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LE_OQ>(frac, _mm256_set1_ps(-0.5)));
        _mm256_add_epi32(_mm256_sub_epi32(t, up), down)
    }

    /// Exact sum of the 8 i32 lanes.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn hsum_epi32(v: __m256i) -> i32 {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    }

    /// `quant::quantize_into`, one block of 32 per iteration.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(in super::super) unsafe fn quantize_into(x: &[f32], q: &mut [i8], d: &mut [f32], s: &mut [f32]) {
        let sign = _mm256_set1_ps(-0.0);
        for ((xb, qb), (d, s)) in x.chunks_exact(32).zip(q.chunks_exact_mut(32)).zip(d.iter_mut().zip(s.iter_mut())) {
            let v: [__m256; 4] = std::array::from_fn(|i| load(&xb[i * 8..]));
            // amax over the non-NaN |x| from 0: max_ps returns its second
            // operand when the first is NaN, which skips NaN as `a > amax`
            // does; a maximum of non-NaN values is the same in any order.
            let mut m = _mm256_setzero_ps();
            for vi in v {
                m = _mm256_max_ps(_mm256_andnot_ps(sign, vi), m);
            }
            let mut lanes = [0.0f32; 8];
            // SAFETY: lanes holds 8 f32s.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), m) };
            let amax = lanes.iter().fold(0.0f32, |a, &l| if l > a { l } else { a });
            let dv = amax / 127.0;
            let id = _mm256_set1_ps(if dv != 0.0 { 1.0 / dv } else { 0.0 });
            let mut qi = [_mm256_setzero_si256(); 4];
            for (qi, vi) in qi.iter_mut().zip(v) {
                let y = _mm256_mul_ps(vi, id);
                // f32::clamp keeps NaN; NaN is zeroed first (it rounds to 0
                // either way), so max/min see only numbers.
                let y = _mm256_and_ps(y, _mm256_cmp_ps::<_CMP_ORD_Q>(y, y));
                let y = _mm256_min_ps(_mm256_max_ps(y, _mm256_set1_ps(-127.0)), _mm256_set1_ps(127.0));
                *qi = round_half_away(y);
            }
            let sum = _mm256_add_epi32(_mm256_add_epi32(qi[0], qi[1]), _mm256_add_epi32(qi[2], qi[3]));
            // i32 -> i8 (values within ±127, so the saturating packs are
            // exact); packs interleave 128-bit halves, the permute undoes it.
            let p16a = _mm256_packs_epi32(qi[0], qi[1]);
            let p16b = _mm256_packs_epi32(qi[2], qi[3]);
            let p8 = _mm256_packs_epi16(p16a, p16b);
            let p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            // SAFETY: qb has 32 bytes.
            unsafe { _mm256_storeu_si256(qb.as_mut_ptr().cast(), p8) };
            (*d, *s) = (dv, dv * hsum_epi32(sum) as f32);
        }
    }

    /// 2^n per lane for n in [-126, 127] (`math::pow2_f32`); other lanes
    /// give some finite value that the caller's masks discard.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn pow2(n: __m256i) -> __m256 {
        _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(n, _mm256_set1_epi32(127))))
    }

    /// `math::exp_f32` on 8 lanes.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn exp(x: __m256) -> __m256 {
        let k = round_half_away(_mm256_mul_ps(x, _mm256_set1_ps(LOG2E)));
        let kf = _mm256_cvtepi32_ps(k);
        let r = _mm256_sub_ps(
            _mm256_sub_ps(x, _mm256_mul_ps(kf, _mm256_set1_ps(C1))),
            _mm256_mul_ps(kf, _mm256_set1_ps(C2)),
        );
        let r2 = _mm256_mul_ps(r, r);
        let mut p = _mm256_set1_ps(POLY[0]);
        for c in [POLY[1], POLY[2], POLY[3], POLY[4], 5e-1] {
            p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(c));
        }
        let y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, r2), r), _mm256_set1_ps(1.0));
        // The three scalings of exp_f32, chosen by k.
        let normal = _mm256_mul_ps(y, pow2(k));
        let big = _mm256_mul_ps(
            _mm256_mul_ps(y, pow2(_mm256_set1_epi32(127))),
            pow2(_mm256_sub_epi32(k, _mm256_set1_epi32(127))),
        );
        let small = _mm256_mul_ps(
            _mm256_mul_ps(y, pow2(_mm256_add_epi32(k, _mm256_set1_epi32(64)))),
            pow2(_mm256_set1_epi32(-64)),
        );
        let is_big = _mm256_castsi256_ps(_mm256_cmpgt_epi32(k, _mm256_set1_epi32(127)));
        let is_small = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(-126), k));
        let e = _mm256_blendv_ps(_mm256_blendv_ps(normal, big, is_big), small, is_small);
        // The early returns, in exp_f32's order: NaN, > MAX, < MIN.
        let e = _mm256_blendv_ps(e, _mm256_setzero_ps(), _mm256_cmp_ps::<_CMP_LT_OQ>(x, _mm256_set1_ps(MIN)));
        let e = _mm256_blendv_ps(e, _mm256_set1_ps(f32::INFINITY), _mm256_cmp_ps::<_CMP_GT_OQ>(x, _mm256_set1_ps(MAX)));
        _mm256_blendv_ps(e, x, _mm256_cmp_ps::<_CMP_UNORD_Q>(x, x))
    }

    /// `ops::silu_mul`: gate = (gate / (1 + exp(-gate))) * up.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(in super::super) unsafe fn silu_mul(gate: &mut [f32], up: &[f32]) {
        let n = gate.len().min(up.len());
        let (gate, up) = (&mut gate[..n], &up[..n]);
        let mut gc = gate.chunks_exact_mut(8);
        let mut uc = up.chunks_exact(8);
        for (g, u) in (&mut gc).zip(&mut uc) {
            let gv = load(g);
            // -x is a sign flip, as in the scalar code.
            let e = exp(_mm256_xor_ps(gv, _mm256_set1_ps(-0.0)));
            let v = _mm256_mul_ps(_mm256_div_ps(gv, _mm256_add_ps(_mm256_set1_ps(1.0), e)), load(u));
            // SAFETY: g has 8 elements.
            unsafe { _mm256_storeu_ps(g.as_mut_ptr(), v) };
        }
        super::super::ops::silu_mul(gc.into_remainder(), uc.remainder());
    }

    /// reduce::tree of 32 lanes held as 4 vectors (lanes 8j..8j+8 in v[j]).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(in super::super) fn tree32(v: [__m256; 4]) -> f32 {
        // w = 16, then 8: whole vectors.
        let c = _mm256_add_ps(_mm256_add_ps(v[0], v[2]), _mm256_add_ps(v[1], v[3]));
        // w = 4, 2, 1 inside the vector; only lane 0's result is read.
        let s = _mm_add_ps(_mm256_castps256_ps128(c), _mm256_extractf128_ps::<1>(c));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
        _mm_cvtss_f32(s)
    }

    /// reduce::dot for lengths that are a multiple of 8: chunk i of 8
    /// elements is R32 lanes 8(i % 4)..+8.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn dot8(a: &[f32], b: &[f32]) -> f32 {
        let mut v = [_mm256_setzero_ps(); 4];
        for (i, (x, y)) in a.chunks_exact(8).zip(b.chunks_exact(8)).enumerate() {
            v[i % 4] = _mm256_add_ps(v[i % 4], _mm256_mul_ps(load(x), load(y)));
        }
        tree32(v)
    }

    /// reduce::sum. The last partial chunk is padded with +0.0, which
    /// changes no lane: a lane starts at +0.0 and so is never -0.0, and
    /// v + 0.0 = v for every other v.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn sum(x: &[f32]) -> f32 {
        let mut v = [_mm256_setzero_ps(); 4];
        let mut c = x.chunks_exact(8);
        let mut i = 0;
        for ch in &mut c {
            v[i % 4] = _mm256_add_ps(v[i % 4], load(ch));
            i += 1;
        }
        let mut tail = [0.0f32; 8];
        tail[..c.remainder().len()].copy_from_slice(c.remainder());
        v[i % 4] = _mm256_add_ps(v[i % 4], load(&tail));
        tree32(v)
    }

    /// `out` (V vectors at head column d0) = +0.0 + Σ e_t v_t[d0..] over
    /// t = l, l + 32, ... < e.len(), in that order.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn lane_sum<const V: usize>(e: &[f32], kv: &Kv<'_>, l: usize, d0: usize, out: &mut [f32]) {
        let hd = d0 + V * 8;
        let mut r = [_mm256_setzero_ps(); V];
        let mut t = l;
        while t < e.len() {
            let ev = _mm256_set1_ps(e[t]);
            let v = &kv.value(t, hd)[d0..];
            for (i, ri) in r.iter_mut().enumerate() {
                *ri = _mm256_add_ps(*ri, _mm256_mul_ps(ev, load(&v[i * 8..])));
            }
            t += LANES;
        }
        for (i, ri) in r.iter().enumerate() {
            let o = &mut out[i * 8..i * 8 + 8];
            // SAFETY: o has 8 elements.
            unsafe { _mm256_storeu_ps(o.as_mut_ptr(), *ri) };
        }
    }

    /// `attention::head` (same contract), head_dim a multiple of 8.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(in super::super) unsafe fn head(q: &[f32], kv: &Kv<'_>, scale: f32, o: &mut [f32], s: &mut Scratch) {
        let hd = q.len();
        let e = &mut s.e[..kv.len];
        for (t, et) in e.iter_mut().enumerate() {
            *et = dot8(q, kv.key(t, hd)) * scale;
        }
        // The scalar `if s > max` loop: max_ps returns its second operand
        // when the first is NaN, so NaN is skipped the same way.
        let mut mv = _mm256_set1_ps(f32::NEG_INFINITY);
        let mut ec = e.chunks_exact(8);
        for ch in &mut ec {
            mv = _mm256_max_ps(load(ch), mv);
        }
        let mut lanes = [0.0f32; 8];
        // SAFETY: lanes holds 8 f32s.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), mv) };
        let max = lanes.iter().chain(ec.remainder()).fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
        let maxv = _mm256_set1_ps(max);
        let mut ec = e.chunks_exact_mut(8);
        for ch in &mut ec {
            let v = exp(_mm256_sub_ps(load(ch), maxv));
            // SAFETY: ch has 8 elements.
            unsafe { _mm256_storeu_ps(ch.as_mut_ptr(), v) };
        }
        for v in ec.into_remainder() {
            *v = exp_f32(*v - max);
        }
        let denom = sum(e);
        // [32][hd] R32 lanes over t: lane t % 32 accumulates e_t * v_t.
        // Lane by lane, so each lane's running sums stay in registers while
        // its terms t = l, l + 32, ... are added in increasing t.
        // Lanes past the context stay +0.0; lanes below it are written
        // whole by lane_sum.
        let acc = &mut s.acc[..LANES * hd];
        acc[kv.len.min(LANES) * hd..].fill(0.0);
        for (l, lane) in acc.chunks_exact_mut(hd).enumerate().take(kv.len) {
            let mut d0 = 0;
            while d0 + 32 <= hd {
                lane_sum::<4>(e, kv, l, d0, &mut lane[d0..d0 + 32]);
                d0 += 32;
            }
            while d0 < hd {
                lane_sum::<1>(e, kv, l, d0, &mut lane[d0..d0 + 8]);
                d0 += 8;
            }
        }
        let mut w = LANES / 2;
        while w > 0 {
            let (lo, hi) = acc.split_at_mut(w * hd);
            for (a, b) in lo.chunks_exact_mut(8).zip(hi[..w * hd].chunks_exact(8)) {
                let r = _mm256_add_ps(load(a), load(b));
                // SAFETY: a has 8 elements.
                unsafe { _mm256_storeu_ps(a.as_mut_ptr(), r) };
            }
            w /= 2;
        }
        let dv = _mm256_set1_ps(denom);
        for (od, a) in o.chunks_exact_mut(8).zip(acc[..hd].chunks_exact(8)) {
            let r = _mm256_div_ps(load(a), dv);
            // SAFETY: od has 8 elements.
            unsafe { _mm256_storeu_ps(od.as_mut_ptr(), r) };
        }
    }

    #[cfg(test)]
    mod tests {
        use super::super::super::{avx2, ops, quant};
        use super::*;

        /// Special values, then every 65,521st bit pattern.
        fn values() -> Vec<f32> {
            let mut v = vec![
                0.0,
                -0.0,
                f32::NAN,
                -f32::NAN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::MIN_POSITIVE,
                1e-45,
                -1e-45,
                f32::MAX,
                f32::MIN,
                0.5,
                -0.5,
                1.5,
                -2.5,
                MAX,
                -MAX,
                MIN,
                -MIN,
                88.0,
                -87.5,
                -88.0,
                -100.0,
                -104.0,
                89.0,
            ];
            v.extend((0..=u32::MAX).step_by(65_521).map(f32::from_bits));
            let len = v.len().div_ceil(32) * 32;
            v.resize(len, 1.0);
            v
        }

        #[test]
        fn silu_mul_matches_scalar_bits() {
            if !avx2::detected() {
                return;
            }
            let g = values();
            let u: Vec<f32> = g.iter().rev().copied().collect();
            let mut want = g.clone();
            ops::silu_mul(&mut want, &u);
            let mut got = g.clone();
            // SAFETY: AVX2 was detected above.
            unsafe { silu_mul(&mut got, &u) };
            for i in 0..g.len() {
                // Which of two NaN operands a product returns is the
                // compiler's choice (it may swap the operands of a
                // commutative op), in the scalar code as here; NaN payloads
                // are not part of the bit contract (engine/README.md, CUDA
                // "Limits"), every other result is.
                let both_nan = got[i].is_nan() && want[i].is_nan() && g[i].is_nan() && u[i].is_nan();
                assert!(both_nan || got[i].to_bits() == want[i].to_bits(), "silu_mul({}, {})", g[i], u[i]);
            }
        }

        #[test]
        fn attention_head_matches_scalar_bits() {
            if !avx2::detected() {
                return;
            }
            let mut seed = 3u64;
            let mut next = move || {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 8.0
            };
            for hd in [8, 16, 40, 64, 96] {
                let dim = 3 * hd;
                for len in [1, 5, 8, 31, 32, 33, 100, 167] {
                    let k: Vec<f32> = (0..len * dim).map(|_| next()).collect();
                    let v: Vec<f32> = (0..len * dim).map(|_| next()).collect();
                    let q: Vec<f32> = (0..hd).map(|_| next()).collect();
                    let kv = Kv { k: &k, v: &v, off: hd, dim, len };
                    let scratch = || Scratch { e: vec![0.0; len], acc: vec![0.0; LANES * hd] };
                    let (mut want, mut got) = (vec![0.0f32; hd], vec![0.0f32; hd]);
                    super::super::super::attention::head(&q, &kv, 0.125, &mut want, &mut scratch());
                    // SAFETY: AVX2 was detected above.
                    unsafe { head(&q, &kv, 0.125, &mut got, &mut scratch()) };
                    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got), bits(&want), "hd={hd} len={len}");
                }
            }
        }

        #[test]
        fn quantizer_matches_scalar_bits() {
            if !avx2::detected() {
                return;
            }
            // Raw patterns, and the same scaled into ordinary activation
            // ranges (so that rounding ties and ±127 occur).
            let mut x = values();
            x.extend(
                x.clone().iter().map(|v| if v.is_finite() { (v.to_bits() % 2001) as f32 / 8.0 - 125.0 } else { *v }),
            );
            let nb = x.len() / 32;
            let (mut q0, mut d0, mut s0) = (vec![0i8; x.len()], vec![0.0f32; nb], vec![0.0f32; nb]);
            let (mut q1, mut d1, mut s1) = (q0.clone(), d0.clone(), s0.clone());
            quant::quantize_into(&x, &mut q0, &mut d0, &mut s0);
            // SAFETY: AVX2 was detected above.
            unsafe { quantize_into(&x, &mut q1, &mut d1, &mut s1) };
            assert_eq!(q0, q1);
            for b in 0..nb {
                assert_eq!((d0[b].to_bits(), s0[b].to_bits()), (d1[b].to_bits(), s1[b].to_bits()), "block {b}");
            }
        }
    }
}
