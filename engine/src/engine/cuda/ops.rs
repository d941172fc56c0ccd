//! The small element-wise and per-row ops (twin of `cpu/ops.rs`): embed,
//! rmsnorm, rope, silu_mul / add, argmax and the trace-leaf hashes. Each
//! checks its shapes on the host (the kernels trust them), copies its
//! inputs to the device, launches, and copies the result back.

use super::gpu::KernelArg::{F32, I32, Ptr, U32, U64};
use super::{BLOCK, CudaBackend, DeviceWeight, WARPS, blocks, dims_1d, int, shape, stride_dims};
use crate::engine::RopeTable;
use crate::engine::Weight;
use crate::error::Result;

/// Threads of the single argmax block (`ARGMAX_THREADS` in argmax.cu).
pub(crate) const ARGMAX_THREADS: u32 = 1024;
/// Threads per block of hash_rows (one thread per row).
const HASH_BLOCK: u32 = 64;

pub(super) fn embed(be: &CudaBackend<'_>, table: &Weight, tokens: &[u32], out: &mut [f32]) -> Result<()> {
    const OP: &str = "embed";
    let (rows, cols) = (tokens.len(), table.cols());
    if out.len() != rows * cols {
        return Err(shape(OP, format!("{} outputs for {rows} tokens of {cols}", out.len())));
    }
    if let Some(t) = tokens.iter().find(|&&t| t as usize >= table.rows()) {
        return Err(shape(OP, format!("token {t} outside a table of {} rows", table.rows())));
    }
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let gpu = be.gpu();
    let w = be.weight(table)?;
    let mut s = be.scratch();
    let tok = s.put(gpu, "embed.tokens", tokens)?;
    let o = s.take(gpu, "embed.out", out.len() * 4)?;
    let (r, c) = (int(rows, OP)?, int(cols, OP)?);
    let dims = stride_dims((rows * cols) as u64);
    // SAFETY: every table (rows x cols, resident or just uploaded) covers
    // tokens < rows (checked); tok holds `rows` ids; o holds rows * cols.
    unsafe {
        match &*w {
            DeviceWeight::F32 { data, .. } => {
                be.launch("embed_f32", dims, &[Ptr(data.ptr()), Ptr(tok), Ptr(o), I32(r), I32(c)])?
            }
            DeviceWeight::Q8_0 { d, q, .. } => {
                be.launch("embed_q8_0", dims, &[Ptr(d.ptr()), Ptr(q.ptr()), Ptr(tok), Ptr(o), I32(r), I32(c)])?
            }
            DeviceWeight::Q4_1 { d, m, qs, .. } => be.launch(
                "embed_q4_1",
                dims,
                &[Ptr(d.ptr()), Ptr(m.ptr()), Ptr(qs.ptr()), Ptr(tok), Ptr(o), I32(r), I32(c)],
            )?,
        }
    }
    s.read(gpu, "embed.out", out)
}

pub(super) fn rmsnorm(be: &CudaBackend<'_>, x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) -> Result<()> {
    const OP: &str = "rmsnorm";
    let n = weight.len();
    if n == 0 || !x.len().is_multiple_of(n) || out.len() != x.len() {
        return Err(shape(OP, format!("{} values, {} outputs, rows of {n}", x.len(), out.len())));
    }
    let rows = x.len() / n;
    if rows == 0 {
        return Ok(());
    }
    let gpu = be.gpu();
    let w = be.vector(weight)?;
    let mut s = be.scratch();
    let xp = s.put(gpu, "rmsnorm.x", x)?;
    let o = s.take(gpu, "rmsnorm.out", out.len() * 4)?;
    let dims = dims_1d(blocks(rows as u64, WARPS, OP)?, BLOCK);
    // SAFETY: x and out hold rows * n floats, w holds n.
    unsafe {
        be.launch(OP, dims, &[Ptr(xp), Ptr(w.ptr()), Ptr(o), I32(int(rows, OP)?), I32(int(n, OP)?), F32(eps)])?;
    }
    s.read(gpu, "rmsnorm.out", out)
}

pub(super) fn rope(
    be: &CudaBackend<'_>,
    x: &mut [f32],
    head_dim: usize,
    positions: &[u32],
    table: &RopeTable,
) -> Result<()> {
    const OP: &str = "rope";
    let half = table.n_rot / 2;
    let rows = positions.len();
    if half == 0 || rows == 0 {
        return Ok(());
    }
    if head_dim == 0 || 2 * half > head_dim || !x.len().is_multiple_of(rows) {
        return Err(shape(OP, format!("{} values in {rows} rows, head_dim {head_dim}, {half} pairs", x.len())));
    }
    let row_len = x.len() / rows;
    let heads = row_len / head_dim;
    if let Some(p) = positions.iter().find(|&&p| p as usize >= table.positions()) {
        return Err(shape(OP, format!("position {p} outside a table of {}", table.positions())));
    }
    if heads == 0 {
        return Ok(());
    }
    let gpu = be.gpu();
    let (cos, sin) = be.rope_table(table)?;
    let mut s = be.scratch();
    let xp = s.put(gpu, "rope.x", x)?;
    let pos = s.put(gpu, "rope.positions", positions)?;
    let work = (rows * heads * half) as u64;
    let dims = dims_1d(blocks(work, BLOCK as u64, OP)?, BLOCK);
    let args = [
        Ptr(xp),
        Ptr(pos),
        Ptr(cos.ptr()),
        Ptr(sin.ptr()),
        I32(int(rows, OP)?),
        I32(int(row_len, OP)?),
        I32(int(head_dim, OP)?),
        I32(int(heads, OP)?),
        I32(int(half, OP)?),
    ];
    // SAFETY: x holds rows * row_len floats with heads * head_dim <= row_len
    // and 2 * half <= head_dim; the tables hold positions() * half entries
    // and every position is below positions() (checked).
    unsafe { be.launch(OP, dims, &args)? };
    s.read(gpu, "rope.x", x)
}

/// `silu_mul` (gate = silu(gate) * up) or `add` (x = x + y), in place.
pub(super) fn elementwise(be: &CudaBackend<'_>, kernel: &'static str, x: &mut [f32], y: &[f32]) -> Result<()> {
    if x.len() != y.len() {
        return Err(shape(kernel, format!("{} and {} values", x.len(), y.len())));
    }
    if x.is_empty() {
        return Ok(());
    }
    let gpu = be.gpu();
    let mut s = be.scratch();
    let xp = s.put(gpu, "elementwise.x", x)?;
    let yp = s.put(gpu, "elementwise.y", y)?;
    // SAFETY: both buffers hold x.len() floats.
    unsafe { be.launch(kernel, stride_dims(x.len() as u64), &[Ptr(xp), Ptr(yp), U64(x.len() as u64)])? };
    s.read(gpu, "elementwise.x", x)
}

pub(super) fn argmax(be: &CudaBackend<'_>, logits: &[f32]) -> Result<u32> {
    const OP: &str = "argmax";
    if logits.is_empty() {
        return Ok(0);
    }
    let gpu = be.gpu();
    let mut s = be.scratch();
    let x = s.put(gpu, "argmax.x", logits)?;
    let o = s.take(gpu, "argmax.out", 4)?;
    // SAFETY: x holds n floats; o one u32; one block of ARGMAX_THREADS.
    unsafe { be.launch(OP, dims_1d(1, ARGMAX_THREADS), &[Ptr(x), I32(int(logits.len(), OP)?), Ptr(o)])? };
    let mut out = [0u32];
    s.read(gpu, "argmax.out", &mut out)?;
    Ok(out[0])
}

pub(super) fn hash_rows(
    be: &CudaBackend<'_>,
    x: &[f32],
    dim: usize,
    positions: &[u32],
    layer: u32,
) -> Result<Vec<[u8; 32]>> {
    const OP: &str = "hash_rows";
    let rows = positions.len();
    if x.len() < rows * dim {
        return Err(shape(OP, format!("{} values for {rows} rows of {dim}", x.len())));
    }
    if rows == 0 {
        return Ok(Vec::new());
    }
    let gpu = be.gpu();
    let mut s = be.scratch();
    let xp = s.put(gpu, "hash.x", &x[..rows * dim])?;
    let pos = s.put(gpu, "hash.positions", positions)?;
    let o = s.take(gpu, "hash.out", rows * 32)?;
    let tag = be.leaf_tag();
    let dims = dims_1d(blocks(rows as u64, HASH_BLOCK as u64, OP)?, HASH_BLOCK);
    let dim32 = u32::try_from(dim).map_err(|_| shape(OP, format!("dim {dim}")))?;
    let args = [
        Ptr(xp),
        Ptr(pos),
        Ptr(tag.ptr()),
        I32(int(tag.len_bytes(), OP)?),
        U32(layer),
        U32(dim32),
        I32(int(rows, OP)?),
        Ptr(o),
    ];
    // SAFETY: x holds rows * dim floats, positions rows u32s, the tag its
    // bytes, out rows * 32 bytes.
    unsafe { be.launch(OP, dims, &args)? };
    let mut bytes = vec![0u8; rows * 32];
    s.read(gpu, "hash.out", &mut bytes)?;
    Ok(bytes
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect())
}
