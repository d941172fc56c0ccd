//! Activation quantization to int8 per block of 32 (twin of `cpu/quant.rs`,
//! kernel `quantize_q8.cu`): the output is the same [`Q8Acts`] the CPU
//! fills, copied back to the host.

use super::gpu::KernelArg::{I32, Ptr};
use super::{BLOCK, CudaBackend, WARPS, blocks, dims_1d, int, shape};
use crate::engine::Q8Acts;
use crate::error::Result;

pub(super) fn quantize_q8(be: &CudaBackend<'_>, x: &[f32], cols: usize, out: &mut Q8Acts) -> Result<()> {
    const OP: &str = "quantize_q8";
    if cols == 0 || !cols.is_multiple_of(32) || !x.len().is_multiple_of(cols) {
        return Err(shape(OP, format!("{} values in rows of {cols} (a multiple of 32)", x.len())));
    }
    let rows = x.len() / cols;
    out.resize(rows, cols);
    let n_blocks = rows * cols / 32;
    if n_blocks == 0 {
        return Ok(());
    }
    let gpu = be.gpu();
    let mut s = be.scratch();
    let xp = s.put(gpu, "quant.x", x)?;
    let q = s.take(gpu, "quant.q", n_blocks * 32)?;
    let d = s.take(gpu, "quant.d", n_blocks * 4)?;
    let sums = s.take(gpu, "quant.s", n_blocks * 4)?;
    let dims = dims_1d(blocks(n_blocks as u64, WARPS, OP)?, BLOCK);
    // SAFETY: x and q hold n_blocks * 32 values, d and s n_blocks.
    unsafe { be.launch(OP, dims, &[Ptr(xp), Ptr(q), Ptr(d), Ptr(sums), I32(int(n_blocks, OP)?)])? };
    s.read(gpu, "quant.q", &mut out.q[..n_blocks * 32])?;
    s.read(gpu, "quant.d", &mut out.d[..n_blocks])?;
    s.read(gpu, "quant.s", &mut out.s[..n_blocks])
}
