//! `out[m][n] = Σ_k w[n][k] · x[m][k]` — the hot spot (≈95% of decode time).
//!
//! Work is split across output columns n only (rule 6): each thread computes
//! whole dot products, each with the per-row order of rule 2, so thread
//! count and batch size never change a bit.
//!
//! * One row (decode): tasks of 16–64 weight rows, each dotted with the one
//!   activation row.
//! * Several rows (prefill, verification, the LM head over every verified
//!   position): a GEMM. A task owns a range of output columns in every row
//!   ([`ColumnsMut`]) and writes its results straight into `out`; the AVX2
//!   kernel unpacks 8 weight rows once into an interleaved int8 tile that
//!   stays in L1 while every activation row streams past it
//!   (`avx2::gemm`).

use std::marker::PhantomData;

use super::reduce::{self, LANES};
use super::{CpuBackend, Simd, avx2};
use crate::engine::Q8Acts;
use crate::engine::Weight;

/// Weight rows per decode task: two tasks per thread. Finer splits (8 per
/// thread, at most 64 rows) cost more in hand-offs between the threads than
/// they gained in balance: 2-thread decode went from ~125 to ~200 tok/s
/// with this split on the 2-core machine.
fn chunk_rows(n_out: usize, threads: usize) -> usize {
    let tasks = (threads * 2).max(1);
    n_out.div_ceil(tasks).clamp(16, 1024)
}

/// Output columns per GEMM task: a multiple of the kernel's 8-column tile,
/// about four tasks per thread (each task re-reads every activation row,
/// so fewer, wider tasks stream less), at most 256 columns so that the LM
/// head still balances.
fn chunk_cols(n_out: usize, threads: usize) -> usize {
    let per = n_out.div_ceil((threads * 4).max(1));
    per.div_ceil(GEMM_TILE).clamp(1, 256 / GEMM_TILE) * GEMM_TILE
}

/// Output columns of one GEMM register tile (one AVX2 f32 vector).
pub(super) const GEMM_TILE: usize = 8;

pub(super) fn matmul(be: &CpuBackend, x: &[f32], xq: &Q8Acts, w: &Weight, out: &mut [f32]) {
    let (n_out, k) = (w.rows(), w.cols());
    let m_rows = x.len() / k;
    let simd = be.simd;
    if m_rows == 1 {
        let chunk = chunk_rows(n_out, be.threads);
        be.par_chunks_mut(&mut out[..n_out], chunk, |ci, o| tile(simd, w, x, xq, 1, ci * chunk, o));
        return;
    }
    let chunk = chunk_cols(n_out, be.threads);
    let views = ColumnsMut::split(&mut out[..m_rows * n_out], n_out, chunk);
    be.par_each(views, |_, mut cols| gemm(simd, w, x, xq, &mut cols));
}

/// Columns `c0..c0 + width` of every row of a `[rows][stride]` matrix: the
/// part of `out` one GEMM task writes. [`ColumnsMut::split`] is the only
/// constructor and hands out disjoint column ranges of one exclusively
/// borrowed slice, so views never overlap, and a view lends one row at a
/// time (`row` takes `&mut self`) — the same guarantees as `chunks_mut`,
/// for strided pieces.
pub(super) struct ColumnsMut<'a> {
    ptr: *mut f32,
    rows: usize,
    stride: usize,
    c0: usize,
    width: usize,
    _out: PhantomData<&'a mut [f32]>,
}

// SAFETY: a view is a set of disjoint `&mut [f32]` ranges (see the type's
// docs); sending it to another thread is sending those borrows.
unsafe impl Send for ColumnsMut<'_> {}

impl<'a> ColumnsMut<'a> {
    /// `out` as `[out.len() / stride][stride]`, cut into column ranges of
    /// `chunk` (the last may be narrower).
    pub(super) fn split(out: &'a mut [f32], stride: usize, chunk: usize) -> Vec<ColumnsMut<'a>> {
        let (stride, chunk) = (stride.max(1), chunk.max(1));
        let rows = out.len() / stride;
        let ptr = out.as_mut_ptr();
        (0..stride.div_ceil(chunk))
            .map(|i| {
                let c0 = i * chunk;
                ColumnsMut { ptr, rows, stride, c0, width: chunk.min(stride - c0), _out: PhantomData }
            })
            .collect()
    }

    /// The first column of the view.
    pub(super) fn c0(&self) -> usize {
        self.c0
    }

    pub(super) fn width(&self) -> usize {
        self.width
    }

    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    /// Row m's columns `c0..c0 + width` (empty past the last row).
    pub(super) fn row(&mut self, m: usize) -> &mut [f32] {
        if m >= self.rows {
            return &mut [];
        }
        // SAFETY: m < rows = len / stride and c0 + width <= stride, so the
        // range lies inside the slice `split` borrowed for 'a; no other view
        // covers these columns, and `&mut self` keeps this the only live row
        // of this view.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(m * self.stride + self.c0), self.width) }
    }
}

/// The GEMM task: `cols.row(m)[j]` = (row c0 + j of w) · (activation row m)
/// for every row m, with the per-row order of rule 2.
fn gemm(simd: Simd, w: &Weight, x: &[f32], xq: &Q8Acts, cols: &mut ColumnsMut<'_>) {
    match simd {
        // SAFETY: a CpuBackend only holds Simd::Avx2 after detecting AVX2.
        Simd::Avx2 => unsafe { avx2::gemm(w, x, xq, cols) },
        Simd::Portable => {
            let c0 = cols.c0();
            for m in 0..cols.rows() {
                tile_portable(w, x, xq, m, c0, cols.row(m));
            }
        }
    }
}

/// `out[m][j]` = (row n0 + j of w) · (activation row m), j < out.len() / m_rows.
fn tile(simd: Simd, w: &Weight, x: &[f32], xq: &Q8Acts, m_rows: usize, n0: usize, out: &mut [f32]) {
    match simd {
        // SAFETY: a CpuBackend only holds Simd::Avx2 after detecting AVX2.
        Simd::Avx2 => unsafe { avx2::tile(w, x, xq, m_rows, n0, out) },
        Simd::Portable => {
            let len = out.len() / m_rows.max(1);
            for (m, o) in out.chunks_exact_mut(len.max(1)).enumerate() {
                tile_portable(w, x, xq, m, n0, o);
            }
        }
    }
}

/// `out[j]` = (row n0 + j of w) · (activation row m): the reference.
pub(super) fn tile_portable(w: &Weight, x: &[f32], xq: &Q8Acts, m: usize, n0: usize, out: &mut [f32]) {
    let k = w.cols();
    let nb = k / 32;
    let (ad, asum, aq) = act_row(xq, m, nb, k);
    for (j, o) in out.iter_mut().enumerate() {
        let n = n0 + j;
        *o = match w {
            Weight::F32 { data, .. } => reduce::dot(&data[n * k..(n + 1) * k], &x[m * k..(m + 1) * k]),
            Weight::Q8_0 { d, q, .. } => dot_q8_0(&d[n * nb..(n + 1) * nb], &q[n * k..(n + 1) * k], ad, aq),
            Weight::Q4_1 { d, m: wm, qs, .. } => dot_q4_1(
                &d[n * nb..(n + 1) * nb],
                &wm[n * nb..(n + 1) * nb],
                &qs[n * k / 2..(n + 1) * k / 2],
                ad,
                asum,
                aq,
            ),
        };
    }
}

/// Activation row m's block scales, block sums and int8 values.
#[inline(always)]
pub(super) fn act_row(xq: &Q8Acts, m: usize, nb: usize, k: usize) -> (&[f32], &[f32], &[i8]) {
    (
        xq.d.get(m * nb..(m + 1) * nb).unwrap_or(&[]),
        xq.s.get(m * nb..(m + 1) * nb).unwrap_or(&[]),
        xq.q.get(m * k..(m + 1) * k).unwrap_or(&[]),
    )
}

/// Block value of Q8_0 · Q8 (rule 2): (d_w * d_a) * isum.
#[inline(always)]
pub(super) fn block_q8_0(wd: f32, wq: &[i8], ad: f32, aq: &[i8]) -> f32 {
    let mut isum = 0i32;
    for (&a, &b) in wq.iter().zip(aq) {
        isum += a as i32 * b as i32;
    }
    (wd * ad) * isum as f32
}

/// Block value of Q4_1 · Q8 (rule 2): (d_w * d_a) * isum + m_w * s_a,
/// with s_a = d_a * Σ a_q (from the quantizer).
#[inline(always)]
pub(super) fn block_q4_1(wd: f32, wm: f32, qs: &[u8], ad: f32, asum: f32, aq: &[i8]) -> f32 {
    let mut isum = 0i32;
    for j in 0..16 {
        isum += (qs[j] & 0x0f) as i32 * aq[j] as i32 + (qs[j] >> 4) as i32 * aq[j + 16] as i32;
    }
    (wd * ad) * isum as f32 + wm * asum
}

fn dot_q8_0(wd: &[f32], wq: &[i8], ad: &[f32], aq: &[i8]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (b, (wq, aq)) in wq.chunks_exact(32).zip(aq.chunks_exact(32)).enumerate() {
        acc[b % LANES] += block_q8_0(wd[b], wq, ad[b], aq);
    }
    reduce::tree(&mut acc)
}

fn dot_q4_1(wd: &[f32], wm: &[f32], qs: &[u8], ad: &[f32], asum: &[f32], aq: &[i8]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (b, (qs, aq)) in qs.chunks_exact(16).zip(aq.chunks_exact(32)).enumerate() {
        acc[b % LANES] += block_q4_1(wd[b], wm[b], qs, ad[b], asum[b], aq);
    }
    reduce::tree(&mut acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cpu::quant::quantize_rows;

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 4.0
            })
            .collect()
    }

    /// `raw` as a quantized weight: per block, a positive scale from the
    /// block's magnitude and quants from the values (any block contents
    /// will do: the kernels are checked against rule 2, not against `raw`).
    fn quantized(ty: &str, rows: usize, cols: usize, raw: &[f32]) -> Weight {
        let d: Vec<f32> = raw.chunks_exact(32).map(|b| b.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0).collect();
        if ty == "q8_0" {
            let q = raw.iter().map(|v| (v * 63.0) as i8).collect();
            return Weight::Q8_0 { rows, cols, d, q };
        }
        let m = raw.chunks_exact(32).map(|b| b[0]).collect();
        let qs = raw
            .chunks_exact(2)
            .map(|p| (((p[0] + 2.0) * 4.0) as u8 & 15) | ((((p[1] + 2.0) * 4.0) as u8 & 15) << 4))
            .collect();
        Weight::Q4_1 { rows, cols, d, m, qs }
    }

    /// Rule 2 written out literally from the engine docs.
    fn reference(w: &Weight, xq: &Q8Acts, m: usize, n: usize) -> f32 {
        let k = w.cols();
        let nb = k / 32;
        let mut acc = [0.0f32; 32];
        for b in 0..nb {
            let (ad, asum) = (xq.d[m * nb + b], xq.s[m * nb + b]);
            let a = &xq.q[m * k + b * 32..m * k + b * 32 + 32];
            let blk = match w {
                Weight::Q8_0 { d, q, .. } => {
                    let wq = &q[n * k + b * 32..n * k + b * 32 + 32];
                    let isum: i32 = wq.iter().zip(a).map(|(&x, &y)| x as i32 * y as i32).sum();
                    (d[n * nb + b] * ad) * isum as f32
                }
                Weight::Q4_1 { d, m: wm, qs, .. } => {
                    let q = &qs[(n * k + b * 32) / 2..(n * k + b * 32) / 2 + 16];
                    let mut isum = 0i32;
                    for j in 0..32 {
                        let v = if j < 16 { q[j] & 15 } else { q[j - 16] >> 4 };
                        isum += v as i32 * a[j] as i32;
                    }
                    (d[n * nb + b] * ad) * isum as f32 + wm[n * nb + b] * asum
                }
                Weight::F32 { .. } => unreachable!(),
            };
            acc[b % 32] += blk;
        }
        reduce::tree(&mut acc)
    }

    #[test]
    fn quantized_kernels_match_the_rule_and_each_other() {
        for k in [32, 160, 256, 1536, 1600] {
            let (rows, m_rows) = (7, 5);
            let raw = noise(rows * k, k as u64);
            for bytes_ty in ["q8_0", "q4_1"] {
                let w = quantized(bytes_ty, rows, k, &raw);
                let x = noise(m_rows * k, 99 + k as u64);
                let mut xq = Q8Acts::default();
                quantize_rows(&x, k, &mut xq);
                for simd in Simd::available() {
                    let mut out = vec![0.0f32; m_rows * rows];
                    tile(simd, &w, &x, &xq, m_rows, 0, &mut out);
                    for m in 0..m_rows {
                        for n in 0..rows {
                            let want = reference(&w, &xq, m, n);
                            assert_eq!(out[m * rows + n].to_bits(), want.to_bits(), "{bytes_ty} k={k} {simd:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn gemm_matches_the_rule_at_every_shape() {
        // Column counts around the 8-wide tile and the task split; row
        // counts around the 4-row step; k with and without partial groups.
        for k in [32, 160, 576, 1600] {
            for rows in [1, 7, 8, 13, 40] {
                let raw = noise(rows * k, (k * rows) as u64);
                for ty in ["q8_0", "q4_1"] {
                    let w = quantized(ty, rows, k, &raw);
                    for m_rows in [1, 2, 5, 9] {
                        let x = noise(m_rows * k, 7 + m_rows as u64);
                        let mut xq = Q8Acts::default();
                        quantize_rows(&x, k, &mut xq);
                        for simd in Simd::available() {
                            for threads in [1, 2] {
                                let be = CpuBackend::with_simd(threads, simd).unwrap();
                                let mut out = vec![f32::NAN; m_rows * rows];
                                matmul(&be, &x, &xq, &w, &mut out);
                                for m in 0..m_rows {
                                    for n in 0..rows {
                                        let want = reference(&w, &xq, m, n).to_bits();
                                        let got = out[m * rows + n].to_bits();
                                        assert_eq!(
                                            got, want,
                                            "{ty} k={k} rows={rows} m={m}/{m_rows} n={n} {simd:?}x{threads}"
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn gemm_integer_sums_at_their_extremes() {
        // The largest block dots the kernels' integer paths must hold
        // exactly: Q4_1 quants of 15 against activations of ±127 (eight
        // i16 steps of 3,810 each), Q8_0 quants of -128 and 127.
        let (rows, k, m_rows) = (9, 576, 5);
        let nb = k / 32;
        let x: Vec<f32> = (0..m_rows * k).map(|i| if (i / k) % 2 == 0 { 1.0 } else { -1.0 }).collect();
        let mut xq = Q8Acts::default();
        quantize_rows(&x, k, &mut xq);
        assert!(xq.q.iter().all(|&q| q.abs() == 127));
        let q8: Vec<i8> = (0..rows * k).map(|i| if (i / k) % 2 == 0 { -128 } else { 127 }).collect();
        let weights = [
            Weight::Q4_1 {
                rows,
                cols: k,
                d: vec![0.5; rows * nb],
                m: vec![-1.0; rows * nb],
                qs: vec![0xff; rows * k / 2],
            },
            Weight::Q8_0 { rows, cols: k, d: vec![0.25; rows * nb], q: q8 },
        ];
        for w in &weights {
            for simd in Simd::available() {
                let be = CpuBackend::with_simd(1, simd).unwrap();
                let mut out = vec![f32::NAN; m_rows * rows];
                matmul(&be, &x, &xq, w, &mut out);
                for m in 0..m_rows {
                    for n in 0..rows {
                        let want = reference(w, &xq, m, n).to_bits();
                        assert_eq!(out[m * rows + n].to_bits(), want, "{w:?} m={m} n={n} {simd:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn column_views_cover_every_element_once() {
        let (rows, stride) = (3, 21);
        let mut out = vec![0.0f32; rows * stride];
        for mut v in ColumnsMut::split(&mut out, stride, 8) {
            for m in 0..v.rows() + 1 {
                for o in v.row(m) {
                    *o += 1.0;
                }
            }
        }
        assert!(out.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn f32_kernels_agree() {
        let (rows, k, m_rows) = (5, 600, 2);
        let w = Weight::F32 { rows, cols: k, data: noise(rows * k, 1) };
        let x = noise(m_rows * k, 2);
        let xq = Q8Acts::default();
        let outs: Vec<Vec<u32>> = Simd::available()
            .into_iter()
            .map(|simd| {
                let mut out = vec![0.0f32; m_rows * rows];
                tile(simd, &w, &x, &xq, m_rows, 0, &mut out);
                out.iter().map(|v| v.to_bits()).collect()
            })
            .collect();
        assert!(outs.windows(2).all(|p| p[0] == p[1]));
        if let Weight::F32 { data, .. } = &w {
            assert_eq!(outs[0][0], reduce::dot(&data[..k], &x[..k]).to_bits());
        }
    }
}
