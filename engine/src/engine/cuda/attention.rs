//! Causal grouped-query attention over the KV cache (twin of
//! `cpu/attention.rs`, kernel `attention.cu`): one block per (row, head),
//! scores in a global scratch row of `max(positions) + 1` entries.

use super::gpu::KernelArg::{F32, I32, Ptr};
use super::{BLOCK, CudaBackend, blocks, dims_1d, int, shape};
use crate::engine::AttnShape;
use crate::error::Result;

pub(super) fn attention(
    be: &CudaBackend<'_>,
    q: &[f32],
    k_cache: &[f32],
    v_cache: &[f32],
    positions: &[u32],
    sh: AttnShape,
    out: &mut [f32],
) -> Result<()> {
    const OP: &str = "attention";
    let hd = sh.head_dim;
    if hd == 0 || sh.n_kv_heads == 0 || !sh.n_heads.is_multiple_of(sh.n_kv_heads) {
        return Err(shape(OP, format!("{sh:?}")));
    }
    let (rows, q_dim, kv_dim) = (positions.len(), sh.n_heads * hd, sh.n_kv_heads * hd);
    if q.len() != rows * q_dim || out.len() != q.len() {
        return Err(shape(OP, format!("{} queries, {} outputs for {rows} rows of {q_dim}", q.len(), out.len())));
    }
    if k_cache.len() != v_cache.len() || !k_cache.len().is_multiple_of(kv_dim) {
        return Err(shape(OP, format!("caches of {} and {} values, rows of {kv_dim}", k_cache.len(), v_cache.len())));
    }
    let cached = k_cache.len() / kv_dim;
    let t_stride = positions.iter().map(|&p| p as usize + 1).max().unwrap_or(0);
    if t_stride > cached {
        return Err(shape(OP, format!("position {} beyond {cached} cached positions", t_stride - 1)));
    }
    if rows == 0 || sh.n_heads == 0 {
        return Ok(());
    }
    let gpu = be.gpu();
    let mut s = be.scratch();
    let qp = s.put(gpu, "attn.q", q)?;
    let kp = s.put(gpu, "attn.k", &k_cache[..t_stride * kv_dim])?;
    let vp = s.put(gpu, "attn.v", &v_cache[..t_stride * kv_dim])?;
    let pos = s.put(gpu, "attn.positions", positions)?;
    let heads = rows * sh.n_heads;
    let scores = s.take(gpu, "attn.scores", heads * t_stride * 4)?;
    let o = s.take(gpu, "attn.out", out.len() * 4)?;
    // The CPU's scale, the same expression.
    let scale = 1.0 / (hd as f32).sqrt();
    let args = [
        Ptr(qp),
        Ptr(kp),
        Ptr(vp),
        Ptr(pos),
        Ptr(scores),
        Ptr(o),
        I32(int(sh.n_heads, OP)?),
        I32(int(sh.n_heads / sh.n_kv_heads, OP)?),
        I32(int(hd, OP)?),
        I32(int(kv_dim, OP)?),
        I32(int(t_stride, OP)?),
        F32(scale),
    ];
    // SAFETY: q and out hold rows * n_heads * hd floats; the caches
    // t_stride * kv_dim with every positions[m] < t_stride; scores
    // rows * n_heads * t_stride.
    unsafe { be.launch(OP, dims_1d(blocks(heads as u64, 1, OP)?, BLOCK), &args)? };
    s.read(gpu, "attn.out", out)
}
