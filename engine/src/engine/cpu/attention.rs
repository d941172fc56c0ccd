//! Causal grouped-query attention over the KV cache (rules 1, 5, 6). One
//! task per (row, head); each is computed identically whatever the batch.

use super::{CpuBackend, reduce};
use crate::engine::AttnShape;
use crate::engine::math::exp_f32;

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
    be.par_chunks_mut(out, hd, |idx, o| {
        let (m, h) = (idx / shape.n_heads, idx % shape.n_heads);
        let qh = &q[idx * hd..(idx + 1) * hd];
        let kv_off = (h / group) * hd;
        let t_len = positions[m] as usize + 1;
        head(qh, k_cache, v_cache, kv_off, kv_dim, t_len, scale, o);
    });
}

/// o = Σ_t e_t v_t / Σ_t e_t, e_t = exp(s_t - max s), s_t = (q·k_t) * scale.
#[allow(clippy::too_many_arguments)]
fn head(
    q: &[f32],
    k_cache: &[f32],
    v_cache: &[f32],
    kv_off: usize,
    kv_dim: usize,
    t_len: usize,
    scale: f32,
    o: &mut [f32],
) {
    let hd = q.len();
    // [t_len] scores, then weights.
    let mut e: Vec<f32> =
        (0..t_len).map(|t| reduce::dot(q, &k_cache[t * kv_dim + kv_off..t * kv_dim + kv_off + hd]) * scale).collect();
    let mut max = f32::NEG_INFINITY;
    for &s in &e {
        if s > max {
            max = s;
        }
    }
    for s in e.iter_mut() {
        *s = exp_f32(*s - max);
    }
    let denom = reduce::sum(&e);
    // [32][hd] R32 lanes over t: lane t % 32 accumulates e_t * v_t.
    let mut acc = vec![0.0f32; reduce::LANES * hd];
    for (t, &et) in e.iter().enumerate() {
        let lane = &mut acc[(t % reduce::LANES) * hd..(t % reduce::LANES + 1) * hd];
        let v = &v_cache[t * kv_dim + kv_off..t * kv_dim + kv_off + hd];
        for (a, &vd) in lane.iter_mut().zip(v) {
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
