//! The CPU backend: portable kernels plus AVX2 fast paths, a small spinning
//! thread pool of fixed size, and nothing that depends on either for its bits.

mod attention;
mod avx2;
mod avx2_ops;
mod matmul;
mod ops;
mod pool;
pub mod quant;
pub mod reduce;

use std::sync::{Mutex, PoisonError};

use super::{AttnShape, Backend, Q8Acts, RopeTable};
use crate::engine::Weight;
use crate::error::Result;

/// Which kernel set runs the matmuls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simd {
    /// Plain Rust loops (the reference).
    Portable,
    /// std::arch AVX2 integer kernels (x86_64, detected at run time).
    Avx2,
}

impl Simd {
    /// Kernel sets this CPU can run, reference first.
    pub fn available() -> Vec<Simd> {
        let mut v = vec![Simd::Portable];
        if avx2::detected() {
            v.push(Simd::Avx2);
        }
        v
    }

    pub fn best() -> Simd {
        if avx2::detected() { Simd::Avx2 } else { Simd::Portable }
    }
}

pub struct CpuBackend {
    threads: usize,
    simd: Simd,
    pool: pool::Pool,
}

impl CpuBackend {
    /// `threads` workers (0 = 1) with the fastest kernels available.
    pub fn new(threads: usize) -> Result<Self> {
        Self::with_simd(threads, Simd::best())
    }

    /// As `new`, with a chosen kernel set; AVX2 falls back to portable
    /// kernels on CPUs without it.
    pub fn with_simd(threads: usize, simd: Simd) -> Result<Self> {
        let threads = threads.max(1);
        let simd = if simd == Simd::Avx2 && !avx2::detected() { Simd::Portable } else { simd };
        Ok(Self { threads, simd, pool: pool::Pool::new(threads)? })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    pub fn simd(&self) -> Simd {
        self.simd
    }

    /// f(index, item) for each item, in parallel (items carry the disjoint
    /// `&mut` pieces a task writes). Builds a task list: for the batched
    /// GEMM's column views, once per multi-row matmul.
    fn par_each<T: Send, F>(&self, items: Vec<T>, f: F)
    where
        F: Fn(usize, T) + Sync,
    {
        let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
        self.pool.run(slots.len(), &|i| {
            let item = slots[i].lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(item) = item {
                f(i, item)
            }
        });
    }

    /// f(chunk index, chunk) over `out` in chunks of `chunk`, in parallel.
    /// Allocates nothing: the decode matmuls and attention run through here
    /// several hundred times per token.
    /// The element-wise ops run through here too (their inputs sliced by
    /// the chunk index), so decode builds no task list per op.
    fn par_chunks_mut<T: Send, F>(&self, out: &mut [T], chunk: usize, f: F)
    where
        F: Fn(usize, &mut [T]) + Sync,
    {
        let chunks = DisjointChunks::new(out, chunk);
        self.pool.run(chunks.count(), &|i| {
            // SAFETY: `Pool::run` calls each index exactly once.
            if let Some(c) = unsafe { chunks.get(i) } {
                f(i, c)
            }
        });
    }

    /// Rows per task for the cheap per-row ops: parallel only in batches.
    fn row_chunk(&self, rows: usize) -> usize {
        rows.div_ceil(self.threads * 2).max(1)
    }
}

/// `out.chunks_mut(chunk)`, handed out by index to the pool's tasks.
struct DisjointChunks<'a, T> {
    ptr: *mut T,
    len: usize,
    chunk: usize,
    _out: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: tasks only reach the slice through `get`, whose contract gives
// each chunk to one task; chunks are disjoint, and T: Send lets a chunk be
// written from another thread.
unsafe impl<T: Send> Sync for DisjointChunks<'_, T> {}

impl<'a, T> DisjointChunks<'a, T> {
    fn new(out: &'a mut [T], chunk: usize) -> Self {
        Self { ptr: out.as_mut_ptr(), len: out.len(), chunk: chunk.max(1), _out: std::marker::PhantomData }
    }

    fn count(&self) -> usize {
        self.len.div_ceil(self.chunk)
    }

    /// Chunk i (None past the end).
    ///
    /// # Safety
    /// Each index may be taken at most once while `self` lives (two calls
    /// with the same i would alias).
    #[allow(clippy::mut_from_ref)]
    unsafe fn get(&self, i: usize) -> Option<&'a mut [T]> {
        let start = i.checked_mul(self.chunk).filter(|&s| s < self.len)?;
        let len = self.chunk.min(self.len - start);
        // SAFETY: start + len <= self.len, inside the slice borrowed for 'a;
        // chunks of distinct indices are disjoint, and the caller takes
        // each index once.
        Some(unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), len) })
    }
}

/// Chunk `i` of `chunk` elements of `x` (shorter at the end, empty past it):
/// the input that goes with chunk i of an op's output.
fn piece<T>(x: &[T], i: usize, chunk: usize) -> &[T] {
    let start = i.saturating_mul(chunk).min(x.len());
    &x[start..start.saturating_add(chunk).min(x.len())]
}

impl Backend for CpuBackend {
    fn name(&self) -> String {
        let simd = match self.simd {
            Simd::Portable => "portable",
            Simd::Avx2 => "avx2",
        };
        format!("cpu-{simd}x{}", self.threads)
    }

    fn embed(&self, table: &Weight, tokens: &[u32], out: &mut [f32]) -> Result<()> {
        ops::embed(table, tokens, out);
        Ok(())
    }

    fn rmsnorm(&self, x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) -> Result<()> {
        let n = weight.len().max(1);
        let per = self.row_chunk(x.len() / n) * n;
        self.par_chunks_mut(out, per, |i, o| ops::rmsnorm(piece(x, i, per), weight, eps, o));
        Ok(())
    }

    fn quantize_q8(&self, x: &[f32], cols: usize, out: &mut Q8Acts) -> Result<()> {
        let rows = x.len().checked_div(cols).unwrap_or(0);
        let nb = cols / 32;
        out.resize(rows, cols);
        let per = self.row_chunk(rows);
        let simd = self.simd;
        let (d, s) = (DisjointChunks::new(&mut out.d, per * nb), DisjointChunks::new(&mut out.s, per * nb));
        self.par_chunks_mut(&mut out.q, per * cols, |i, q| {
            // SAFETY: `par_chunks_mut` runs each index once, so chunk i of
            // d and s is taken once, like chunk i of q.
            let (Some(d), Some(s)) = (unsafe { d.get(i) }, unsafe { s.get(i) }) else { return };
            let x = piece(x, i, per * cols);
            match simd {
                // SAFETY: a CpuBackend only holds Simd::Avx2 after detecting AVX2.
                Simd::Avx2 => unsafe { avx2_ops::quantize_into(x, q, d, s) },
                Simd::Portable => quant::quantize_into(x, q, d, s),
            }
        });
        Ok(())
    }

    fn matmul(&self, x: &[f32], xq: &Q8Acts, w: &Weight, out: &mut [f32]) -> Result<()> {
        matmul::matmul(self, x, xq, w, out);
        Ok(())
    }

    fn rope(&self, x: &mut [f32], head_dim: usize, positions: &[u32], table: &RopeTable) -> Result<()> {
        let row = x.len() / positions.len().max(1);
        let per = self.row_chunk(positions.len());
        self.par_chunks_mut(x, per * row, |i, x| ops::rope(x, head_dim, piece(positions, i, per), table));
        Ok(())
    }

    fn attention(
        &self,
        q: &[f32],
        k_cache: &[f32],
        v_cache: &[f32],
        positions: &[u32],
        shape: AttnShape,
        out: &mut [f32],
    ) -> Result<()> {
        attention::attention(self, q, k_cache, v_cache, positions, shape, out);
        Ok(())
    }

    fn silu_mul(&self, gate: &mut [f32], up: &[f32]) -> Result<()> {
        let per = gate.len().div_ceil(self.threads * 2).max(4096);
        let simd = self.simd;
        self.par_chunks_mut(gate, per, |i, g| match simd {
            // SAFETY: a CpuBackend only holds Simd::Avx2 after detecting AVX2.
            Simd::Avx2 => unsafe { avx2_ops::silu_mul(g, piece(up, i, per)) },
            Simd::Portable => ops::silu_mul(g, piece(up, i, per)),
        });
        Ok(())
    }

    fn add(&self, x: &mut [f32], y: &[f32]) -> Result<()> {
        let per = x.len().div_ceil(self.threads * 2).max(4096);
        self.par_chunks_mut(x, per, |i, a| ops::add(a, piece(y, i, per)));
        Ok(())
    }

    fn argmax(&self, logits: &[f32]) -> Result<u32> {
        Ok(ops::argmax(logits))
    }

    fn hash_rows(&self, x: &[f32], dim: usize, positions: &[u32], layer: u32) -> Result<Vec<[u8; 32]>> {
        let mut out = vec![[0u8; 32]; positions.len()];
        self.hash_rows_into(x, dim, positions, layer, &mut out)?;
        Ok(out)
    }

    fn hash_rows_into(&self, x: &[f32], dim: usize, positions: &[u32], layer: u32, out: &mut [[u8; 32]]) -> Result<()> {
        let n = positions.len().min(out.len());
        self.par_chunks_mut(&mut out[..n], 1, |m, o| {
            if let Some(o) = o.first_mut() {
                *o = crate::commit::leaf_hash(positions[m], layer, piece(x, m, dim));
            }
        });
        Ok(())
    }
}
