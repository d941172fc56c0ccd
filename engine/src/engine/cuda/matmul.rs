//! `out[m][n] = Σ_k w[n][k] · x[m][k]` (twin of `cpu/matmul.rs`, kernels
//! `matmul.cu`). One warp per output row n and up to [`MR`] activation rows
//! (the weight block is loaded once for them); each (m, n) is the CPU's
//! per-row R32 reduction, so neither the batch nor the grid changes a bit.

use super::gpu::KernelArg::{I32, Ptr};
use super::{BLOCK, CudaBackend, DeviceWeight, LaunchDims, MAX_GRID_Y, WARPS, blocks, int, shape};
use crate::engine::Q8Acts;
use crate::engine::Weight;
use crate::error::Result;

/// Activation rows per warp (`MR` in matmul.cu).
pub(crate) const MR: u64 = 4;

/// Grid for `n_out` output rows (one warp each) by `m_rows` activation rows.
pub(crate) fn matmul_dims(n_out: usize, m_rows: usize) -> Result<LaunchDims> {
    let gx = blocks(n_out as u64, WARPS, "matmul")?;
    let gy = (m_rows as u64).div_ceil(MR).max(1);
    if gy > MAX_GRID_Y {
        return Err(shape("matmul", format!("{m_rows} rows in one call (at most {})", MAX_GRID_Y * MR)));
    }
    Ok(LaunchDims { grid: (gx, gy as u32, 1), block: (BLOCK, 1, 1) })
}

pub(super) fn matmul(be: &CudaBackend<'_>, x: &[f32], xq: &Q8Acts, w: &Weight, out: &mut [f32]) -> Result<()> {
    const OP: &str = "matmul";
    let (n_out, k) = (w.rows(), w.cols());
    if k == 0 || n_out == 0 {
        return Err(shape(OP, format!("{n_out}x{k} weight")));
    }
    let m_rows = x.len() / k;
    if out.len() != m_rows * n_out {
        return Err(shape(OP, format!("{} outputs for {m_rows} rows x {n_out}", out.len())));
    }
    if m_rows == 0 {
        return Ok(());
    }
    let nb = k / 32;
    if w.is_quantized()
        && (xq.cols != k || xq.q.len() < m_rows * k || xq.d.len() < m_rows * nb || xq.s.len() < m_rows * nb)
    {
        return Err(shape(OP, format!("quantized activations of {} columns for {m_rows} rows of {k}", xq.cols)));
    }
    let gpu = be.gpu();
    let dw = be.weight(w)?;
    if dw.rows_cols() != (n_out, k) {
        return Err(shape(OP, "device weight shape differs"));
    }
    let mut s = be.scratch();
    let o = s.take(gpu, "matmul.out", out.len() * 4)?;
    let dims = matmul_dims(n_out, m_rows)?;
    let (n, kk, m) = (I32(int(n_out, OP)?), I32(int(k, OP)?), I32(int(m_rows, OP)?));
    // SAFETY (all three): the weight holds n_out x k values in the CPU
    // layout; the activations m_rows x k (x, or q with d and s of m_rows x
    // k/32, checked above); out m_rows x n_out.
    match &*dw {
        DeviceWeight::F32 { data, .. } => {
            let xp = s.put(gpu, "matmul.x", &x[..m_rows * k])?;
            unsafe { be.launch("matmul_f32", dims, &[Ptr(data.ptr()), Ptr(xp), Ptr(o), n, kk, m])? };
        }
        DeviceWeight::Q8_0 { d, q, .. } => {
            let ad = s.put(gpu, "matmul.ad", &xq.d[..m_rows * nb])?;
            let aq = s.put(gpu, "matmul.aq", &xq.q[..m_rows * k])?;
            let args = [Ptr(d.ptr()), Ptr(q.ptr()), Ptr(ad), Ptr(aq), Ptr(o), n, kk, m];
            unsafe { be.launch("matmul_q8_0", dims, &args)? };
        }
        DeviceWeight::Q4_1 { d, m: wm, qs, .. } => {
            let ad = s.put(gpu, "matmul.ad", &xq.d[..m_rows * nb])?;
            let asum = s.put(gpu, "matmul.as", &xq.s[..m_rows * nb])?;
            let aq = s.put(gpu, "matmul.aq", &xq.q[..m_rows * k])?;
            let args = [Ptr(d.ptr()), Ptr(wm.ptr()), Ptr(qs.ptr()), Ptr(ad), Ptr(asum), Ptr(aq), Ptr(o), n, kk, m];
            unsafe { be.launch("matmul_q4_1", dims, &args)? };
        }
    }
    s.read(gpu, "matmul.out", out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_covers_every_output_once() {
        for (n_out, m_rows) in [(1, 1), (8, 1), (9, 1), (576, 1), (49152, 97), (1536, 4), (1536, 5)] {
            let d = matmul_dims(n_out, m_rows).unwrap();
            let warps = d.grid.0 as usize * (d.block.0 as usize / 32);
            assert!(warps >= n_out && warps < n_out + 8, "{n_out}");
            let rows = d.grid.1 as usize * MR as usize;
            assert!(rows >= m_rows && rows < m_rows + MR as usize, "{m_rows}");
            assert_eq!(d.block.0 % 32, 0);
        }
        assert!(matmul_dims(10, (MAX_GRID_Y * MR + 1) as usize).is_err());
    }
}
