//! AVX2 versions of the matmul tile. Integer block sums are exact in any
//! order, and the f32 part does the same per-lane operations as the
//! portable code (8 blocks per vector, block b in R32 lane b % 32), so the
//! results are bit-identical — `tests/determinism.rs` and the unit tests
//! below check it on every run.

use crate::engine::Q8Acts;
use crate::engine::Weight;

#[cfg(target_arch = "x86_64")]
pub(super) fn detected() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn detected() -> bool {
    false
}

/// # Safety
/// The CPU must support AVX2 (`detected()`).
#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn tile(w: &Weight, x: &[f32], xq: &Q8Acts, m_rows: usize, n0: usize, out: &mut [f32]) {
    let _ = (w, x, xq, m_rows, n0, out);
    unreachable!("Simd::Avx2 is only selected on x86_64 with AVX2")
}

#[cfg(target_arch = "x86_64")]
pub(super) use x86::tile;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::super::matmul::{act_row, block_q4_1, block_q8_0};
    use super::super::reduce::{self, LANES};
    use super::{Q8Acts, Weight};

    /// Same contract as `matmul::tile_portable`. Quantized weights are
    /// dotted with up to four activation rows at once, so each weight block
    /// is loaded and unpacked once per four rows; every row still goes
    /// through exactly the single-row operations.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(in super::super) unsafe fn tile(w: &Weight, x: &[f32], xq: &Q8Acts, m_rows: usize, n0: usize, out: &mut [f32]) {
        let len = out.len() / m_rows;
        let k = w.cols();
        if let Weight::F32 { data, .. } = w {
            // The portable loop, vectorised 8-wide by this target feature.
            for m in 0..m_rows {
                for j in 0..len {
                    let n = n0 + j;
                    out[m * len + j] = reduce::dot(&data[n * k..(n + 1) * k], &x[m * k..(m + 1) * k]);
                }
            }
            return;
        }
        // Activation rows outer: they and the tile's weight rows stay in L1.
        let mut m = 0;
        while m < m_rows {
            if m + 4 <= m_rows {
                rows::<4>(w, xq, m, n0, len, out);
                m += 4;
            } else {
                rows::<1>(w, xq, m, n0, len, out);
                m += 1;
            }
        }
    }

    /// `out[m + r][j]` for r < R, j < len.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn rows<const R: usize>(w: &Weight, xq: &Q8Acts, m: usize, n0: usize, len: usize, out: &mut [f32]) {
        let k = w.cols();
        let nb = k / 32;
        let acts: [Act<'_>; R] = std::array::from_fn(|r| {
            let (d, s, q) = act_row(xq, m + r, nb, k);
            Act { d, s, q }
        });
        for j in 0..len {
            let n = n0 + j;
            let vals = match w {
                Weight::Q8_0 { d, q, .. } => dot_q8_0(&d[n * nb..(n + 1) * nb], &q[n * k..(n + 1) * k], &acts),
                Weight::Q4_1 { d, m: wm, qs, .. } => dot_q4_1(
                    &d[n * nb..(n + 1) * nb],
                    &wm[n * nb..(n + 1) * nb],
                    &qs[n * k / 2..(n + 1) * k / 2],
                    &acts,
                ),
                Weight::F32 { .. } => [0.0; R],
            };
            for (r, v) in vals.into_iter().enumerate() {
                out[(m + r) * len + j] = v;
            }
        }
    }

    /// One quantized activation row: block scales, block sums, int8 values.
    struct Act<'a> {
        d: &'a [f32],
        s: &'a [f32],
        q: &'a [i8],
    }

    /// Eight vectors of 8 i32 -> one vector of their eight totals (exact).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn hsum8(v: &[__m256i; 8]) -> __m256i {
        let s0123 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
        let s4567 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
        let lo = _mm256_permute2x128_si256(s0123, s4567, 0x20);
        let hi = _mm256_permute2x128_si256(s0123, s4567, 0x31);
        _mm256_add_epi32(lo, hi)
    }

    /// Stores the four lane vectors and finishes the tail blocks and the tree.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn finish(acc: &[__m256; 4], tail: impl Fn(usize) -> f32, from: usize, nb: usize) -> f32 {
        let mut lanes = [0.0f32; LANES];
        for (i, a) in acc.iter().enumerate() {
            let mut tmp = [0.0f32; 8];
            // SAFETY: tmp holds 8 f32s.
            unsafe { _mm256_storeu_ps(tmp.as_mut_ptr(), *a) };
            lanes[i * 8..i * 8 + 8].copy_from_slice(&tmp);
        }
        for b in from..nb {
            lanes[b % LANES] += tail(b);
        }
        reduce::tree(&mut lanes)
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn load8(s: &[f32], at: usize) -> __m256 {
        let s = &s[at..at + 8];
        // SAFETY: the slice above has 8 elements.
        unsafe { _mm256_loadu_ps(s.as_ptr()) }
    }

    // v[r][j] is indexed on both axes; an iterator over j would hide that.
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx2")]
    #[inline]
    fn dot_q4_1<const R: usize>(wd: &[f32], wm: &[f32], qs: &[u8], acts: &[Act<'_>; R]) -> [f32; R] {
        let nb = wd.len();
        let qs = &qs[..nb * 16];
        let aq: [&[i8]; R] = std::array::from_fn(|r| &acts[r].q[..nb * 32]);
        let mask = _mm256_set1_epi8(0x0f);
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_ps(); 4]; R];
        let groups = nb / 8;
        for g in 0..groups {
            let mut v = [[_mm256_setzero_si256(); 8]; R];
            for j in 0..8 {
                let b = g * 8 + j;
                // SAFETY: b < nb, so 16 bytes at b*16 are in bounds.
                let raw = unsafe { _mm_loadu_si128(qs.as_ptr().add(b * 16).cast()) };
                // Bytes 0..16 = low nibbles (elements 0..16), 16..32 = high.
                let wq = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), mask);
                for r in 0..R {
                    // SAFETY: 32 bytes at b*32 < nb*32 are in bounds.
                    let a = unsafe { _mm256_loadu_si256(aq[r].as_ptr().add(b * 32).cast()) };
                    // u4 * i8 pairs fit i16 without saturation (2 * 15 * 127).
                    v[r][j] = _mm256_madd_epi16(_mm256_maddubs_epi16(wq, a), ones);
                }
            }
            let (wdv, wmv) = (load8(wd, g * 8), load8(wm, g * 8));
            for r in 0..R {
                let isum = _mm256_cvtepi32_ps(hsum8(&v[r]));
                let t = _mm256_mul_ps(_mm256_mul_ps(wdv, load8(acts[r].d, g * 8)), isum);
                let off = _mm256_mul_ps(wmv, load8(acts[r].s, g * 8));
                acc[r][g % 4] = _mm256_add_ps(acc[r][g % 4], _mm256_add_ps(t, off));
            }
        }
        std::array::from_fn(|r| {
            let a = &acts[r];
            let tail = |b: usize| {
                block_q4_1(wd[b], wm[b], &qs[b * 16..b * 16 + 16], a.d[b], a.s[b], &a.q[b * 32..b * 32 + 32])
            };
            finish(&acc[r], tail, groups * 8, nb)
        })
    }

    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx2")]
    #[inline]
    fn dot_q8_0<const R: usize>(wd: &[f32], wq: &[i8], acts: &[Act<'_>; R]) -> [f32; R] {
        let nb = wd.len();
        let wq = &wq[..nb * 32];
        let aq: [&[i8]; R] = std::array::from_fn(|r| &acts[r].q[..nb * 32]);
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_ps(); 4]; R];
        let groups = nb / 8;
        for g in 0..groups {
            let mut v = [[_mm256_setzero_si256(); 8]; R];
            for j in 0..8 {
                let b = g * 8 + j;
                // SAFETY: b < nb, so 32 bytes at b*32 are in bounds.
                let w = unsafe { _mm256_loadu_si256(wq.as_ptr().add(b * 32).cast()) };
                let wabs = _mm256_abs_epi8(w);
                for r in 0..R {
                    // SAFETY: as above.
                    let a = unsafe { _mm256_loadu_si256(aq[r].as_ptr().add(b * 32).cast()) };
                    // |w| * (a * sign w): |w| <= 128 as u8, |a| <= 127 (our
                    // quantizer), so pairs stay below 2^15 and nothing saturates.
                    let p = _mm256_maddubs_epi16(wabs, _mm256_sign_epi8(a, w));
                    v[r][j] = _mm256_madd_epi16(p, ones);
                }
            }
            let wdv = load8(wd, g * 8);
            for r in 0..R {
                let isum = _mm256_cvtepi32_ps(hsum8(&v[r]));
                let t = _mm256_mul_ps(_mm256_mul_ps(wdv, load8(acts[r].d, g * 8)), isum);
                acc[r][g % 4] = _mm256_add_ps(acc[r][g % 4], t);
            }
        }
        std::array::from_fn(|r| {
            let a = &acts[r];
            let tail = |b: usize| block_q8_0(wd[b], &wq[b * 32..b * 32 + 32], a.d[b], &a.q[b * 32..b * 32 + 32]);
            finish(&acc[r], tail, groups * 8, nb)
        })
    }
}
