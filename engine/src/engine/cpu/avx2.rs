//! AVX2 versions of the matmul kernels: `tile` (one activation row, decode;
//! 8 blocks per vector, block b in R32 lane b % 32) and `gemm` (several
//! rows; 8 output columns per vector, see "GEMM" below). Integer block sums
//! are exact in any order, and the f32 part does the same per-lane
//! operations as the portable code, so the results are bit-identical —
//! `tests/determinism.rs` and the unit tests in `matmul.rs` check it on
//! every run.

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

/// # Safety
/// The CPU must support AVX2 (`detected()`).
#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn gemm(w: &Weight, x: &[f32], xq: &Q8Acts, cols: &mut super::matmul::ColumnsMut<'_>) {
    let _ = (w, x, xq, cols);
    unreachable!("Simd::Avx2 is only selected on x86_64 with AVX2")
}

#[cfg(target_arch = "x86_64")]
pub(super) use x86::{gemm, tile};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::super::avx2_ops::tree32;
    use super::super::matmul::{ColumnsMut, GEMM_TILE, act_row};
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

    #[target_feature(enable = "avx2")]
    #[inline]
    fn load8(s: &[f32], at: usize) -> __m256 {
        let s = &s[at..at + 8];
        // SAFETY: the slice above has 8 elements.
        unsafe { _mm256_loadu_ps(s.as_ptr()) }
    }

    /// `load8` of the last, partial group: +0.0 past the end of `s`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn load8_padded(s: &[f32], at: usize) -> __m256 {
        let at = at.min(s.len());
        let n = (s.len() - at).min(8) as i32;
        // Lanes i < n are loaded; a masked-out lane reads nothing and is +0.0.
        let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        // SAFETY: only the n elements at..at + n, inside s, are read.
        unsafe { _mm256_maskload_ps(s.as_ptr().add(at), mask) }
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
        if groups * 8 < nb {
            // The last blocks as a group padded with zero blocks: their value
            // is (0 * 0) * 0 + 0 * 0 = +0.0, and adding +0.0 changes no lane
            // (a lane starts at +0.0, so it is never -0.0). Kept out of the
            // loop above, whose constant trip count keeps v in registers.
            let g = groups;
            let mut v = [[_mm256_setzero_si256(); 8]; R];
            for (j, b) in (g * 8..nb).enumerate() {
                // SAFETY: b < nb, so 16 bytes at b*16 are in bounds.
                let raw = unsafe { _mm_loadu_si128(qs.as_ptr().add(b * 16).cast()) };
                let wq = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), mask);
                for r in 0..R {
                    // SAFETY: 32 bytes at b*32 < nb*32 are in bounds.
                    let a = unsafe { _mm256_loadu_si256(aq[r].as_ptr().add(b * 32).cast()) };
                    v[r][j] = _mm256_madd_epi16(_mm256_maddubs_epi16(wq, a), ones);
                }
            }
            let (wdv, wmv) = (load8_padded(wd, g * 8), load8_padded(wm, g * 8));
            for r in 0..R {
                let isum = _mm256_cvtepi32_ps(hsum8(&v[r]));
                let t = _mm256_mul_ps(_mm256_mul_ps(wdv, load8_padded(acts[r].d, g * 8)), isum);
                let off = _mm256_mul_ps(wmv, load8_padded(acts[r].s, g * 8));
                acc[r][g % 4] = _mm256_add_ps(acc[r][g % 4], _mm256_add_ps(t, off));
            }
        }
        std::array::from_fn(|r| tree32(acc[r]))
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
        if groups * 8 < nb {
            // The last blocks, zero-padded as in dot_q4_1.
            let g = groups;
            let mut v = [[_mm256_setzero_si256(); 8]; R];
            for (j, b) in (g * 8..nb).enumerate() {
                // SAFETY: b < nb, so 32 bytes at b*32 are in bounds.
                let w = unsafe { _mm256_loadu_si256(wq.as_ptr().add(b * 32).cast()) };
                let wabs = _mm256_abs_epi8(w);
                for r in 0..R {
                    // SAFETY: as above.
                    let a = unsafe { _mm256_loadu_si256(aq[r].as_ptr().add(b * 32).cast()) };
                    v[r][j] = _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, _mm256_sign_epi8(a, w)), ones);
                }
            }
            let wdv = load8_padded(wd, g * 8);
            for r in 0..R {
                let isum = _mm256_cvtepi32_ps(hsum8(&v[r]));
                let t = _mm256_mul_ps(_mm256_mul_ps(wdv, load8_padded(acts[r].d, g * 8)), isum);
                acc[r][g % 4] = _mm256_add_ps(acc[r][g % 4], t);
            }
        }
        std::array::from_fn(|r| tree32(acc[r]))
    }

    // ---- GEMM: several activation rows (prefill, verification) ----
    //
    // Vectors run across 8 output columns instead of along k: step s of
    // block b holds, in i32 lane i, elements 4s..4s+4 of the block of weight
    // row n0 + i, and is multiplied with a broadcast of the activation's same
    // four int8 values. Eight steps give eight exact block dots (i32 lane i =
    // column n0 + i) with no horizontal sums, and the f32 scaling, the R32
    // lanes and the final tree are then one vector op for 8 outputs. Each
    // output column still gets exactly rule 2's operations in rule 2's
    // order: the block's exact i32 dot, `(d_w * d_a) * isum (+ m_w * s_a)`
    // rounded op by op, lane b % 32 accumulated in increasing b from +0.0,
    // then the 16, 8, 4, 2, 1 tree.

    /// One 8-column tile of a quantized weight, interleaved as above and
    /// unpacked to bytes once, then reused for every activation row.
    #[derive(Default)]
    struct Packed {
        /// `[nb][8]` steps: Q4_1 quants (0..15), Q8_0 |q| (as u8).
        w: Vec<__m256i>,
        /// `[nb][8]` Q8_0 quants with their signs (`_mm256_sign_epi8`).
        sign: Vec<__m256i>,
        /// `[nb]` the 8 columns' block scales.
        d: Vec<__m256>,
        /// `[nb]` the 8 columns' block minimums (Q4_1).
        m: Vec<__m256>,
    }

    thread_local! {
        /// Each worker's tile buffer, grown to the widest k seen and then
        /// reused by every call (no allocation per task).
        static PACKED: std::cell::RefCell<Packed> = std::cell::RefCell::new(Packed::default());
    }

    /// GEMM task (`matmul::gemm`): every row of `cols`.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(in super::super) unsafe fn gemm(w: &Weight, x: &[f32], xq: &Q8Acts, cols: &mut ColumnsMut<'_>) {
        let k = w.cols();
        let c0 = cols.c0();
        if let Weight::F32 { data, .. } = w {
            // The portable loop, vectorised 8-wide by this target feature.
            for m in 0..cols.rows() {
                let xr = &x[m * k..(m + 1) * k];
                for (j, o) in cols.row(m).iter_mut().enumerate() {
                    let n = c0 + j;
                    *o = reduce::dot(&data[n * k..(n + 1) * k], xr);
                }
            }
            return;
        }
        PACKED.with(|cell| match cell.try_borrow_mut() {
            // SAFETY (both arms): we are inside an AVX2 function.
            Ok(mut p) => unsafe { gemm_tiles(w, xq, cols, &mut p) },
            // Only if a task re-entered this thread's buffer, which none does.
            Err(_) => unsafe { gemm_tiles(w, xq, cols, &mut Packed::default()) },
        });
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn gemm_tiles(w: &Weight, xq: &Q8Acts, cols: &mut ColumnsMut<'_>, p: &mut Packed) {
        let (c0, width) = (cols.c0(), cols.width());
        let q8 = matches!(w, Weight::Q8_0 { .. });
        let mut j0 = 0;
        while j0 < width {
            let nr = GEMM_TILE.min(width - j0);
            pack(w, c0 + j0, nr, p);
            if q8 {
                tile_rows::<true>(w.cols(), xq, p, j0, nr, cols);
            } else {
                tile_rows::<false>(w.cols(), xq, p, j0, nr, cols);
            }
            j0 += nr;
        }
    }

    /// 8×8 transpose of i32 lanes: `out[s]` lane i = `r[i]` lane s.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn transpose8(r: &[__m256i; 8]) -> [__m256i; 8] {
        let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
        let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
        let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
        let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
        let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
        let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
        let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
        let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
        let u0 = _mm256_unpacklo_epi64(t0, t2);
        let u1 = _mm256_unpackhi_epi64(t0, t2);
        let u2 = _mm256_unpacklo_epi64(t1, t3);
        let u3 = _mm256_unpackhi_epi64(t1, t3);
        let u4 = _mm256_unpacklo_epi64(t4, t6);
        let u5 = _mm256_unpackhi_epi64(t4, t6);
        let u6 = _mm256_unpacklo_epi64(t5, t7);
        let u7 = _mm256_unpackhi_epi64(t5, t7);
        [
            _mm256_permute2x128_si256(u0, u4, 0x20),
            _mm256_permute2x128_si256(u1, u5, 0x20),
            _mm256_permute2x128_si256(u2, u6, 0x20),
            _mm256_permute2x128_si256(u3, u7, 0x20),
            _mm256_permute2x128_si256(u0, u4, 0x31),
            _mm256_permute2x128_si256(u1, u5, 0x31),
            _mm256_permute2x128_si256(u2, u6, 0x31),
            _mm256_permute2x128_si256(u3, u7, 0x31),
        ]
    }

    /// Interleaves weight rows n0..n0 + nr (nr <= 8; missing rows are zero
    /// columns, never stored) into `p`.
    #[target_feature(enable = "avx2")]
    fn pack(w: &Weight, n0: usize, nr: usize, p: &mut Packed) {
        let nb = w.cols() / 32;
        p.w.clear();
        p.sign.clear();
        p.d.clear();
        p.m.clear();
        let mask = _mm256_set1_epi8(0x0f);
        for b in 0..nb {
            let mut r = [_mm256_setzero_si256(); 8];
            let (mut d, mut m) = ([0.0f32; 8], [0.0f32; 8]);
            for i in 0..nr {
                let blk = (n0 + i) * nb + b;
                match w {
                    Weight::Q4_1 { d: wd, m: wm, qs, .. } => {
                        let q = &qs[blk * 16..blk * 16 + 16];
                        // SAFETY: q has 16 bytes.
                        let raw = unsafe { _mm_loadu_si128(q.as_ptr().cast()) };
                        // Bytes 0..16 = low nibbles (elements 0..16), 16..32 = high.
                        r[i] = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), mask);
                        (d[i], m[i]) = (wd[blk], wm[blk]);
                    }
                    Weight::Q8_0 { d: wd, q, .. } => {
                        let q = &q[blk * 32..blk * 32 + 32];
                        // SAFETY: q has 32 bytes.
                        r[i] = unsafe { _mm256_loadu_si256(q.as_ptr().cast()) };
                        d[i] = wd[blk];
                    }
                    Weight::F32 { .. } => {}
                }
            }
            let steps = transpose8(&r);
            if matches!(w, Weight::Q8_0 { .. }) {
                p.w.extend(steps.iter().map(|&v| _mm256_abs_epi8(v)));
                p.sign.extend_from_slice(&steps);
            } else {
                p.w.extend_from_slice(&steps);
            }
            p.d.push(load8(&d, 0));
            p.m.push(load8(&m, 0));
        }
    }

    /// Every activation row against the packed tile; writes columns
    /// j0..j0 + nr of each row of `cols`.
    #[target_feature(enable = "avx2")]
    fn tile_rows<const Q8: bool>(k: usize, xq: &Q8Acts, p: &Packed, j0: usize, nr: usize, cols: &mut ColumnsMut<'_>) {
        let rows = cols.rows();
        let mut m = 0;
        while m < rows {
            if m + 4 <= rows {
                let v = tile_dot::<4, Q8>(k, xq, p, m);
                for (r, v) in v.into_iter().enumerate() {
                    store_cols(v, &mut cols.row(m + r)[j0..j0 + nr]);
                }
                m += 4;
            } else {
                let [v] = tile_dot::<1, Q8>(k, xq, p, m);
                store_cols(v, &mut cols.row(m)[j0..j0 + nr]);
                m += 1;
            }
        }
    }

    /// The first `out.len()` (<= 8) lanes of v.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn store_cols(v: __m256, out: &mut [f32]) {
        let mut tmp = [0.0f32; 8];
        // SAFETY: tmp holds 8 f32s.
        unsafe { _mm256_storeu_ps(tmp.as_mut_ptr(), v) };
        let n = out.len().min(8);
        out[..n].copy_from_slice(&tmp[..n]);
    }

    /// Rows m..m + R against the packed tile: one vector of 8 columns each.
    // acc[r][lane] and the steps are indexed on two axes; iterators would hide that.
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx2")]
    #[inline]
    fn tile_dot<const R: usize, const Q8: bool>(k: usize, xq: &Q8Acts, p: &Packed, m: usize) -> [__m256; R] {
        let nb = k / 32;
        let aq: [&[i8]; R] = std::array::from_fn(|r| &xq.q[(m + r) * k..(m + r + 1) * k]);
        let ad: [&[f32]; R] = std::array::from_fn(|r| &xq.d[(m + r) * nb..(m + r + 1) * nb]);
        let asum: [&[f32]; R] = std::array::from_fn(|r| &xq.s[(m + r) * nb..(m + r + 1) * nb]);
        let (pw, pd, pm) = (&p.w[..nb * 8], &p.d[..nb], &p.m[..nb]);
        let psign = if Q8 { &p.sign[..nb * 8] } else { &p.sign[..0] };
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_ps(); LANES]; R];
        for b in 0..nb {
            let wb: [__m256i; 8] = std::array::from_fn(|s| pw[b * 8 + s]);
            for r in 0..R {
                let a = &aq[r][b * 32..b * 32 + 32];
                // The four int8 activations of step s in every i32 lane.
                let bcast = |s: usize| {
                    _mm256_set1_epi32(i32::from_le_bytes(
                        [a[4 * s], a[4 * s + 1], a[4 * s + 2], a[4 * s + 3]].map(|v| v as u8),
                    ))
                };
                let isum = if Q8 {
                    // |w| * (a * sign w): pairs below 2^15 (|w| <= 128,
                    // |a| <= 127), so each step is widened before adding.
                    let mut sum = _mm256_setzero_si256();
                    for s in 0..8 {
                        let pr = _mm256_maddubs_epi16(wb[s], _mm256_sign_epi8(bcast(s), psign[b * 8 + s]));
                        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pr, ones));
                    }
                    sum
                } else {
                    // u4 * i8 pairs are at most 2 * 15 * 127 = 3810, so the
                    // eight steps' i16 sums (<= 30480) are exact before
                    // widening once.
                    let mut sum = _mm256_maddubs_epi16(wb[0], bcast(0));
                    for s in 1..8 {
                        sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(wb[s], bcast(s)));
                    }
                    _mm256_madd_epi16(sum, ones)
                };
                let t = _mm256_mul_ps(_mm256_mul_ps(pd[b], _mm256_set1_ps(ad[r][b])), _mm256_cvtepi32_ps(isum));
                let blk = if Q8 { t } else { _mm256_add_ps(t, _mm256_mul_ps(pm[b], _mm256_set1_ps(asum[r][b]))) };
                acc[r][b % LANES] = _mm256_add_ps(acc[r][b % LANES], blk);
            }
        }
        std::array::from_fn(|r| tree8(&mut acc[r]))
    }

    /// reduce::tree on 8 columns at once.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn tree8(acc: &mut [__m256; LANES]) -> __m256 {
        let mut w = LANES / 2;
        while w > 0 {
            for l in 0..w {
                acc[l] = _mm256_add_ps(acc[l], acc[l + w]);
            }
            w /= 2;
        }
        acc[0]
    }
}
