//! Causal grouped-query attention over the KV cache (rules 1, 5, 6). One
//! task per (row, head); each is computed identically whatever the batch,
//! by the portable `head` below or its AVX2 twin (`avx2_ops::head`, the same
//! operations lane for lane).

use std::cell::RefCell;

use super::{CpuBackend, Simd, avx2_ops, reduce};
use crate::engine::AttnShape;
use crate::engine::math::exp_f32;

/// One worker's buffers for a head: `[t_len]` scores, then weights, and
/// `[32][head_dim]` R32 lanes of the weighted sum. Grown to the longest
/// context seen, then reused (no allocation per head or per token).
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) e: Vec<f32>,
    pub(super) acc: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

pub(super) fn attention(
    be: &CpuBackend,
    q: &[f32],
    k_cache: &[f32],
    v_cache: &[f32],
    positions: &[u32],
    shape: AttnShape,
    out: &mut [f32],
) {
    let hd = shape.head_dim;
    let group = shape.n_heads / shape.n_kv_heads;
    let kv_dim = shape.n_kv_heads * hd;
    let scale = 1.0 / (hd as f32).sqrt();
    // The AVX2 head works on whole 8-float vectors of a head.
    let simd = if hd.is_multiple_of(8) { be.simd } else { Simd::Portable };
    be.par_chunks_mut(out, hd, |idx, o| {
        let (m, h) = (idx / shape.n_heads, idx % shape.n_heads);
        let qh = &q[idx * hd..(idx + 1) * hd];
        let kv = Kv { k: k_cache, v: v_cache, off: (h / group) * hd, dim: kv_dim, len: positions[m] as usize + 1 };
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => head_with(simd, qh, &kv, scale, o, &mut s),
            // Only if a task re-entered this thread's buffer, which none does.
            Err(_) => head_with(simd, qh, &kv, scale, o, &mut Scratch::default()),
        });
    });
}

/// The cached keys and values one head attends over: rows `0..len` of the
/// `[t][dim]` caches, columns `off..off + head_dim`.
pub(super) struct Kv<'a> {
    pub(super) k: &'a [f32],
    pub(super) v: &'a [f32],
    pub(super) off: usize,
    pub(super) dim: usize,
    pub(super) len: usize,
}

impl Kv<'_> {
    pub(super) fn key(&self, t: usize, hd: usize) -> &[f32] {
        &self.k[t * self.dim + self.off..t * self.dim + self.off + hd]
    }

    pub(super) fn value(&self, t: usize, hd: usize) -> &[f32] {
        &self.v[t * self.dim + self.off..t * self.dim + self.off + hd]
    }
}

fn head_with(simd: Simd, q: &[f32], kv: &Kv<'_>, scale: f32, o: &mut [f32], s: &mut Scratch) {
    let hd = q.len();
    s.e.resize(kv.len, 0.0);
    s.acc.resize(reduce::LANES * hd, 0.0);
    match simd {
        // SAFETY: a CpuBackend only holds Simd::Avx2 after detecting AVX2.
        Simd::Avx2 => unsafe { avx2_ops::head(q, kv, scale, o, s) },
        Simd::Portable => head(q, kv, scale, o, s),
    }
}

/// o = Σ_t e_t v_t / Σ_t e_t, e_t = exp(s_t - max s), s_t = (q·k_t) * scale.
/// `s.e` holds `kv.len` values and `s.acc` 32 × head_dim.
pub(super) fn head(q: &[f32], kv: &Kv<'_>, scale: f32, o: &mut [f32], s: &mut Scratch) {
    let hd = q.len();
    let e = &mut s.e[..kv.len];
    for (t, et) in e.iter_mut().enumerate() {
        *et = reduce::dot(q, kv.key(t, hd)) * scale;
    }
    let mut max = f32::NEG_INFINITY;
    for &s in e.iter() {
        if s > max {
            max = s;
        }
    }
    for s in e.iter_mut() {
        *s = exp_f32(*s - max);
    }
    let denom = reduce::sum(e);
    // [32][hd] R32 lanes over t: lane t % 32 accumulates e_t * v_t.
    let acc = &mut s.acc[..reduce::LANES * hd];
    acc.fill(0.0);
    for (t, &et) in e.iter().enumerate() {
        let lane = &mut acc[(t % reduce::LANES) * hd..(t % reduce::LANES + 1) * hd];
        for (a, &vd) in lane.iter_mut().zip(kv.value(t, hd)) {
            *a += et * vd;
        }
    }
    let mut w = reduce::LANES / 2;
    while w > 0 {
        let (lo, hi) = acc.split_at_mut(w * hd);
        for (a, &b) in lo.iter_mut().zip(&hi[..w * hd]) {
            *a += b;
        }
        w /= 2;
    }
    for (od, &a) in o.iter_mut().zip(&acc[..hd]) {
        *od = a / denom;
    }
}
