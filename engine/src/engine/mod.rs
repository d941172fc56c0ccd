//! The inference engine: a Llama-family decoder whose every output bit is a
//! pure function of (model file, prompt tokens, parameters).
//!
//! # Determinism rules
//!
//! These rules are the contract between the CPU backend ([`cpu`]), the CUDA
//! backend that mirrors it op for op ([`cuda`], kernels in `engine/kernels/`)
//! and the verifier. Each is enforced by a test (`tests/determinism.rs`,
//! `tests/rules.rs`, the kernel unit tests; for CUDA the PTX check of
//! [`cuda::ptx`] on every kernel, `tests/cuda_emulated.rs` and, on a GPU,
//! `tests/cuda_gpu.rs`). [`Device`] picks the backend at run time.
//!
//! 1. **One reduction order, "R32".** Every f32 reduction of n terms
//!    `t_0..t_{n-1}` (sums, sums of squares, dot products, attention
//!    weighted sums, and the combination of quantized blocks) uses 32 lanes:
//!    lane `l` starts at +0.0 and accumulates `acc[l] = acc[l] + t_i` for
//!    `i ≡ l (mod 32)` in increasing `i`; then the lanes are folded by the
//!    fixed tree `acc[l] = acc[l] + acc[l + w]` for `w = 16, 8, 4, 2, 1`
//!    (all 32 lanes, even when n < 32), and the result is `acc[0]`. A dot
//!    product term is the rounded product `a_i * b_i`. On a GPU this is a
//!    warp: thread `l` strides by 32, then a shuffle tree. SIMD on the CPU
//!    keeps the lanes in registers, so vector width never changes the bits.
//! 2. **Quantized matmuls are integer inside a block.** The activation row is
//!    quantized per block of 32 to int8: `d = amax / 127`, `q = round(x * (1/d))`
//!    with ties away from zero, clamped to ±127 (`d = 0` gives all zeros);
//!    `s = d * Σq` with `Σq` the exact i32 sum of the block's quantized
//!    values (engine v2; v1 used the exact f32 sum of `x`, which pairs the
//!    offset `m_w` with different activations than the scale term and
//!    doubled Q4_1's error: see `engine/README.md`, "Accuracy"). Per block,
//!    `isum = Σ w_q * a_q` is an exact i32 (any order). The block value is
//!    `(d_w * d_a) * isum` for Q8_0 weights and `(d_w * d_a) * isum + m_w * s`
//!    for Q4_1, each operation rounded separately; blocks are then combined
//!    by R32 over the block index.
//!    F32/F16/BF16 weights are widened to f32 and use the R32 dot product.
//! 3. **No FMA, no flush-to-zero, no fast-math.** Every multiply and add is
//!    rounded on its own (`f32::mul_add` is banned; Rust never contracts).
//!    The crate must not be built with the `fma` target feature or
//!    `target-cpu=native`; `tests/rules.rs` checks both. Subnormals are kept.
//! 4. **No libm.** `exp`, SiLU and the RoPE sin/cos come from
//!    [`math`], built from +, -, *, / and bit operations. `sqrt` is the IEEE
//!    correctly rounded square root (identical everywhere); RMSNorm uses
//!    `1 / sqrt(mean + eps)`. The RoPE table is computed once in f64 from the
//!    project's own routines and rounded to f32.
//! 5. **Element-wise ops are written in one order**: RMSNorm `(x * r) * w`;
//!    RoPE on adjacent pairs `(x0*c - x1*s, x0*s + x1*c)`; softmax
//!    `e_t = exp(s_t - max)`, output `R32_t(e_t * v_t) / R32_t(e_t)`;
//!    scores `R32(q·k) * (1/sqrt(head_dim))`; SwiGLU `silu(g) * u`.
//! 6. **Threads and batches never change a row.** Work is split only across
//!    output rows of a matmul, (position, head) pairs in attention, and rows
//!    or elements of the element-wise ops — never inside a reduction. A batched prefill computes each row with
//!    exactly the per-row code that decode uses, so a row's bits don't depend
//!    on how many rows are processed together.
//! 7. **Greedy argmax** picks the lowest index among equal maxima; NaN never
//!    wins (all-NaN logits give token 0).
//!
//! Float-to-int conversion saturates and maps NaN to 0 (Rust `as`, CUDA
//! `__float2int_rz`), which only matters for pathological activations.

pub mod config;
pub mod cpu;
pub mod cuda;
pub mod device;
pub mod forward;
pub mod kv_cache;
pub mod math;
pub mod rope;
pub mod weights;

pub use config::Config;
pub use cpu::{CpuBackend, Simd};
pub use cuda::{CudaBackend, CudaOptions, CudaUnavailable};
pub use device::{Device, DeviceChoice, DeviceOptions};
pub use kv_cache::KvCache;
pub use rope::RopeTable;
pub use weights::{LayerWeights, Weight, Weights};

use crate::error::Result;

/// Activation rows quantized per block of 32 (rule 2).
#[derive(Clone, Debug, Default)]
pub struct Q8Acts {
    pub cols: usize,
    /// `[rows][cols]` int8 values in `[-127, 127]`.
    pub q: Vec<i8>,
    /// `[rows][cols/32]` block scales d.
    pub d: Vec<f32>,
    /// `[rows][cols/32]` `d * Σq` of the block (Q4_1's offset term).
    pub s: Vec<f32>,
}

impl Q8Acts {
    /// Sizes the buffers for `rows` rows of `cols` values.
    pub fn resize(&mut self, rows: usize, cols: usize) {
        self.cols = cols;
        self.q.resize(rows * cols, 0);
        self.d.resize(rows * (cols / 32), 0.0);
        self.s.resize(rows * (cols / 32), 0.0);
    }
}

/// Shapes attention needs beyond the buffers.
#[derive(Clone, Copy, Debug)]
pub struct AttnShape {
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
}

/// The ops one forward pass needs. A backend owns its threads (or its
/// device); every op is row-exact (rule 6). `cpu/` and `cuda/` implement
/// the same list, op for op. Ops return `Result` because a device can fail
/// (out of memory, a lost GPU); the CPU backend never does.
pub trait Backend: Send + Sync {
    /// Human-readable name, e.g. "cpu-avx2x2".
    fn name(&self) -> String;
    /// `out[m][:]` = row `tokens[m]` of `table`, dequantized.
    fn embed(&self, table: &Weight, tokens: &[u32], out: &mut [f32]) -> Result<()>;
    /// `out[m][:] = rmsnorm(x[m][:]) * weight`, rows of `weight.len()`.
    fn rmsnorm(&self, x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) -> Result<()>;
    /// Quantizes rows of `cols` values (cols % 32 == 0).
    fn quantize_q8(&self, x: &[f32], cols: usize, out: &mut Q8Acts) -> Result<()>;
    /// `out[m][n] = Σ_k w[n][k] * x[m][k]`; `xq` is `x` quantized (used when `w` is).
    fn matmul(&self, x: &[f32], xq: &Q8Acts, w: &Weight, out: &mut [f32]) -> Result<()>;
    /// Rotates each head of `x[m][:]` for position `positions[m]`.
    fn rope(&self, x: &mut [f32], head_dim: usize, positions: &[u32], table: &RopeTable) -> Result<()>;
    /// Causal attention of `q[m][heads*head_dim]` at `positions[m]` over the
    /// cached keys/values `0..=positions[m]`.
    fn attention(
        &self,
        q: &[f32],
        k_cache: &[f32],
        v_cache: &[f32],
        positions: &[u32],
        shape: AttnShape,
        out: &mut [f32],
    ) -> Result<()>;
    /// `gate[i] = silu(gate[i]) * up[i]`.
    fn silu_mul(&self, gate: &mut [f32], up: &[f32]) -> Result<()>;
    /// `x[i] = x[i] + y[i]`.
    fn add(&self, x: &mut [f32], y: &[f32]) -> Result<()>;
    /// Index of the largest value, lowest index on ties (rule 7).
    fn argmax(&self, logits: &[f32]) -> Result<u32>;
    /// The trace leaf of each row: see [`crate::commit::leaf_hash`].
    fn hash_rows(&self, x: &[f32], dim: usize, positions: &[u32], layer: u32) -> Result<Vec<[u8; 32]>>;
    /// [`Backend::hash_rows`] into `out[..positions.len()]` (which must be
    /// that long), for a decode loop that allocates nothing per token. The
    /// default copies `hash_rows`' answer (the CUDA backend allocates for
    /// the device read anyway); the CPU backend writes in place.
    fn hash_rows_into(&self, x: &[f32], dim: usize, positions: &[u32], layer: u32, out: &mut [[u8; 32]]) -> Result<()> {
        let leaves = self.hash_rows(x, dim, positions, layer)?;
        for (o, leaf) in out.iter_mut().zip(leaves) {
            *o = leaf;
        }
        Ok(())
    }
}

/// Every backend this machine can run, at each thread count given: the
/// portable kernels, and the AVX2 kernels where the CPU has AVX2. Tests run
/// one body on all of them and compare bits.
pub fn available_backends(threads: &[usize]) -> Result<Vec<CpuBackend>> {
    let mut out = Vec::new();
    for simd in Simd::available() {
        for &t in threads {
            out.push(CpuBackend::with_simd(t, simd)?);
        }
    }
    Ok(out)
}
