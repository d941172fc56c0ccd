//! The CUDA backend: the same ops as [`super::cpu`], as CUDA kernels
//! (`engine/kernels/<op>.cu`, one file per op, each naming its CPU twin)
//! compiled at run time by NVRTC and checked instruction by instruction
//! ([`ptx`]) before they are loaded. Bit-identical to the CPU backend by
//! construction: the same reduction order (R32 as a warp), the same
//! per-operation rounding (explicit `__f*_rn`, no FMA, no flush-to-zero),
//! the same `exp`/SiLU (ported), the same RoPE table (uploaded).
//!
//! Files mirror `cpu/`: `matmul.rs`, `attention.rs`, `ops.rs`, `quant.rs`
//! hold each op's launch code; [`kernels`] and [`ptx`] the sources and their
//! check; [`driver`] finds the CUDA libraries and talks to the driver; [`gpu`]
//! is the device interface the backend is written against (the tests also
//! implement it with a host emulator of the same kernel sources).
//!
//! The [`Backend`] interface passes host slices, so every op copies its
//! inputs to the device and its output back; weights, norms and the RoPE
//! table of the model given at construction stay resident on the device.

mod attention;
pub mod driver;
pub mod gpu;
pub mod kernels;
mod matmul;
mod ops;
pub mod ptx;
mod quant;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub use crate::error::CudaUnavailable;
pub use driver::{CudaGpu, NVRTC_DIR_ENV};
pub use gpu::{DeviceBuffer, Gpu, KernelArg, LaunchDims};

use super::{AttnShape, Backend, Q8Acts, RopeTable, Weight, Weights};
use crate::error::{Error, Result};
use gpu::{Pod, as_bytes};

/// Threads per block of most kernels (8 warps).
pub(crate) const BLOCK: u32 = 256;
/// Warps per block of the warp-per-row kernels.
pub(crate) const WARPS: u64 = (BLOCK / 32) as u64;
/// Largest grid x dimension CUDA accepts.
const MAX_GRID_X: u64 = (1 << 31) - 1;
/// Largest grid y dimension CUDA accepts.
pub(crate) const MAX_GRID_Y: u64 = 65_535;
/// Blocks of a grid-stride element-wise launch, at most.
const STRIDE_BLOCKS: u64 = 4096;

/// Where to run: device ordinal and where NVRTC is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CudaOptions {
    /// CUDA device ordinal.
    pub ordinal: usize,
    /// Directory of `libnvrtc.so.12`; None reads `$SPOTCHECK_NVRTC_LIB_DIR`
    /// (then the system loader path).
    pub nvrtc_dir: Option<PathBuf>,
}

/// `ceil(n / per)` blocks as a grid x dimension (at least 1).
pub(crate) fn blocks(n: u64, per: u64, op: &'static str) -> Result<u32> {
    let b = n.div_ceil(per.max(1)).max(1);
    if b > MAX_GRID_X {
        return Err(shape(op, format!("{n} work items need {b} blocks")));
    }
    Ok(b as u32)
}

/// A 1-D launch of `grid` blocks of `block` threads.
pub(crate) fn dims_1d(grid: u32, block: u32) -> LaunchDims {
    LaunchDims { grid: (grid, 1, 1), block: (block, 1, 1) }
}

/// A grid-stride launch over `n` elements (the kernels loop, so the grid
/// may be smaller than n / BLOCK).
pub(crate) fn stride_dims(n: u64) -> LaunchDims {
    dims_1d(n.div_ceil(BLOCK as u64).clamp(1, STRIDE_BLOCKS) as u32, BLOCK)
}

pub(crate) fn shape(op: &'static str, msg: impl Into<String>) -> Error {
    Error::Shape { op, msg: msg.into() }
}

/// A size as the kernels' `int`.
pub(crate) fn int(v: usize, op: &'static str) -> Result<i32> {
    i32::try_from(v).map_err(|_| shape(op, format!("{v} exceeds the kernels' 32-bit sizes")))
}

/// A weight matrix on the device, in the CPU layout (`Weight`'s fields).
pub(crate) enum DeviceWeight {
    F32 { rows: usize, cols: usize, data: DeviceBuffer },
    Q8_0 { rows: usize, cols: usize, d: DeviceBuffer, q: DeviceBuffer },
    Q4_1 { rows: usize, cols: usize, d: DeviceBuffer, m: DeviceBuffer, qs: DeviceBuffer },
}

/// Copies `v` into a new device buffer of exactly its size.
pub(crate) fn upload_new<T: Pod>(gpu: &dyn Gpu, v: &[T]) -> Result<DeviceBuffer> {
    let bytes = as_bytes(v);
    let buf = gpu.alloc(bytes.len())?;
    gpu.upload(&buf, 0, bytes)?;
    Ok(buf)
}

impl DeviceWeight {
    fn upload(gpu: &dyn Gpu, w: &Weight) -> Result<Self> {
        Ok(match w {
            Weight::F32 { rows, cols, data } => {
                DeviceWeight::F32 { rows: *rows, cols: *cols, data: upload_new(gpu, data)? }
            }
            Weight::Q8_0 { rows, cols, d, q } => {
                DeviceWeight::Q8_0 { rows: *rows, cols: *cols, d: upload_new(gpu, d)?, q: upload_new(gpu, q)? }
            }
            Weight::Q4_1 { rows, cols, d, m, qs } => DeviceWeight::Q4_1 {
                rows: *rows,
                cols: *cols,
                d: upload_new(gpu, d)?,
                m: upload_new(gpu, m)?,
                qs: upload_new(gpu, qs)?,
            },
        })
    }

    pub(crate) fn rows_cols(&self) -> (usize, usize) {
        match *self {
            DeviceWeight::F32 { rows, cols, .. }
            | DeviceWeight::Q8_0 { rows, cols, .. }
            | DeviceWeight::Q4_1 { rows, cols, .. } => (rows, cols),
        }
    }
}

/// A resident device copy, or one uploaded for this op only.
pub(crate) enum Held<'a, T> {
    Resident(&'a T),
    Transient(T),
}

impl<T> std::ops::Deref for Held<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Held::Resident(t) => t,
            Held::Transient(t) => t,
        }
    }
}

/// Per-op device buffers, reused across ops and grown on demand.
#[derive(Default)]
pub(crate) struct Scratch {
    slots: HashMap<&'static str, DeviceBuffer>,
}

impl Scratch {
    /// The device address of slot `name`, holding at least `bytes` bytes.
    pub(crate) fn take(&mut self, gpu: &dyn Gpu, name: &'static str, bytes: usize) -> Result<u64> {
        let big_enough = self.slots.get(name).is_some_and(|b| b.len_bytes() >= bytes);
        if !big_enough {
            // Grow by half again, so a slowly growing size (attention over
            // a longer cache each token) reallocates rarely.
            let size = bytes.max(256).saturating_add(bytes / 2);
            self.slots.remove(name);
            self.slots.insert(name, gpu.alloc(size)?);
        }
        self.slots.get(name).map(DeviceBuffer::ptr).ok_or_else(|| Error::Cuda(format!("scratch slot {name} lost")))
    }

    /// Copies `v` into slot `name`; returns its device address.
    pub(crate) fn put<T: Pod>(&mut self, gpu: &dyn Gpu, name: &'static str, v: &[T]) -> Result<u64> {
        let bytes = as_bytes(v);
        let ptr = self.take(gpu, name, bytes.len())?;
        if let Some(buf) = self.slots.get(name) {
            gpu.upload(buf, 0, bytes)?;
        }
        Ok(ptr)
    }

    /// Copies the start of slot `name` into `out`.
    pub(crate) fn read<T: Pod>(&self, gpu: &dyn Gpu, name: &'static str, out: &mut [T]) -> Result<()> {
        let buf = self.slots.get(name).ok_or_else(|| Error::Cuda(format!("scratch slot {name} never written")))?;
        gpu.download(buf, 0, gpu::as_bytes_mut(out))
    }
}

/// The CUDA backend. Borrowing the weights for `'m` keeps them (they are
/// looked up by address) alive and unchanged while they are resident.
pub struct CudaBackend<'m> {
    gpu: Arc<dyn Gpu>,
    _weights: Option<&'m Weights>,
    /// Resident weights, by the address of the model's `Weight`.
    weights: HashMap<usize, DeviceWeight>,
    /// Resident norm vectors, by (address, length) of the model's slice.
    vectors: HashMap<(usize, usize), DeviceBuffer>,
    /// The resident RoPE table (cos, sin), by the address of the model's table.
    rope: Option<(usize, DeviceBuffer, DeviceBuffer)>,
    /// commit::LEAF_TAG, for hash_rows.
    leaf_tag: DeviceBuffer,
    scratch: Mutex<Scratch>,
}

impl std::fmt::Debug for CudaBackend<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CudaBackend[{}, {} resident weights]", self.gpu.name(), self.weights.len())
    }
}

impl<'m> CudaBackend<'m> {
    /// Opens the GPU (probing the driver and NVRTC, compiling and checking
    /// every kernel) and makes `weights` resident on it.
    pub fn open(weights: &'m Weights, options: &CudaOptions) -> Result<Self> {
        let gpu = CudaGpu::open(options.ordinal, options.nvrtc_dir.as_deref())?;
        Self::with_gpu(Arc::new(gpu), Some(weights))
    }

    /// A backend on any [`Gpu`]; `weights`' matrices, norms and RoPE table
    /// are uploaded now. Ops on other weights upload them for the op's duration.
    pub fn with_gpu(gpu: Arc<dyn Gpu>, weights: Option<&'m Weights>) -> Result<Self> {
        let leaf_tag = upload_new(&*gpu, crate::commit::LEAF_TAG)?;
        let mut be = Self {
            gpu,
            _weights: weights,
            weights: HashMap::new(),
            vectors: HashMap::new(),
            rope: None,
            leaf_tag,
            scratch: Mutex::new(Scratch::default()),
        };
        if let Some(weights) = weights {
            be.make_resident(weights)?;
        }
        Ok(be)
    }

    fn make_resident(&mut self, model: &'m Weights) -> Result<()> {
        let gpu = &*self.gpu;
        let mut weights: Vec<&Weight> = vec![&model.token_embd, model.lm_head()];
        let mut vectors: Vec<&[f32]> = vec![&model.output_norm];
        for l in &model.layers {
            weights.extend([&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down]);
            vectors.extend([l.attn_norm.as_slice(), l.ffn_norm.as_slice()]);
        }
        for w in weights {
            if let Entry::Vacant(slot) = self.weights.entry(w as *const Weight as usize) {
                slot.insert(DeviceWeight::upload(gpu, w)?);
            }
        }
        for v in vectors.into_iter().filter(|v| !v.is_empty()) {
            if let Entry::Vacant(slot) = self.vectors.entry((v.as_ptr() as usize, v.len())) {
                slot.insert(upload_new(gpu, v)?);
            }
        }
        let rope = &model.rope;
        if !rope.cos.is_empty() {
            let key = rope as *const RopeTable as usize;
            self.rope = Some((key, upload_new(gpu, &rope.cos)?, upload_new(gpu, &rope.sin)?));
        }
        Ok(())
    }

    /// The device this backend runs on.
    pub fn gpu(&self) -> &dyn Gpu {
        &*self.gpu
    }

    pub(crate) fn weight(&self, w: &Weight) -> Result<Held<'_, DeviceWeight>> {
        match self.weights.get(&(w as *const Weight as usize)) {
            Some(dw) => Ok(Held::Resident(dw)),
            None => Ok(Held::Transient(DeviceWeight::upload(&*self.gpu, w)?)),
        }
    }

    pub(crate) fn vector(&self, v: &[f32]) -> Result<Held<'_, DeviceBuffer>> {
        match self.vectors.get(&(v.as_ptr() as usize, v.len())) {
            Some(b) => Ok(Held::Resident(b)),
            None => Ok(Held::Transient(upload_new(&*self.gpu, v)?)),
        }
    }

    /// (cos, sin) of `table` on the device.
    pub(crate) fn rope_table(&self, table: &RopeTable) -> Result<(Held<'_, DeviceBuffer>, Held<'_, DeviceBuffer>)> {
        match &self.rope {
            Some((key, c, s)) if *key == table as *const RopeTable as usize => {
                Ok((Held::Resident(c), Held::Resident(s)))
            }
            _ => Ok((
                Held::Transient(upload_new(&*self.gpu, &table.cos)?),
                Held::Transient(upload_new(&*self.gpu, &table.sin)?),
            )),
        }
    }

    pub(crate) fn scratch(&self) -> MutexGuard<'_, Scratch> {
        self.scratch.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn leaf_tag(&self) -> &DeviceBuffer {
        &self.leaf_tag
    }

    /// Launches `kernel` on this backend's device.
    ///
    /// # Safety
    /// As [`Gpu::launch`]: the arguments match the kernel and cover the
    /// memory it touches.
    pub(crate) unsafe fn launch(&self, kernel: &str, dims: LaunchDims, args: &[KernelArg]) -> Result<()> {
        // SAFETY: forwarded from the caller.
        unsafe { self.gpu.launch(kernel, dims, args) }
    }
}

impl Backend for CudaBackend<'_> {
    fn name(&self) -> String {
        format!("cuda-{}", self.gpu.name())
    }

    fn embed(&self, table: &Weight, tokens: &[u32], out: &mut [f32]) -> Result<()> {
        ops::embed(self, table, tokens, out)
    }

    fn rmsnorm(&self, x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) -> Result<()> {
        ops::rmsnorm(self, x, weight, eps, out)
    }

    fn quantize_q8(&self, x: &[f32], cols: usize, out: &mut Q8Acts) -> Result<()> {
        quant::quantize_q8(self, x, cols, out)
    }

    fn matmul(&self, x: &[f32], xq: &Q8Acts, w: &Weight, out: &mut [f32]) -> Result<()> {
        matmul::matmul(self, x, xq, w, out)
    }

    fn rope(&self, x: &mut [f32], head_dim: usize, positions: &[u32], table: &RopeTable) -> Result<()> {
        ops::rope(self, x, head_dim, positions, table)
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
        attention::attention(self, q, k_cache, v_cache, positions, shape, out)
    }

    fn silu_mul(&self, gate: &mut [f32], up: &[f32]) -> Result<()> {
        ops::elementwise(self, "silu_mul", gate, up)
    }

    fn add(&self, x: &mut [f32], y: &[f32]) -> Result<()> {
        ops::elementwise(self, "add", x, y)
    }

    fn argmax(&self, logits: &[f32]) -> Result<u32> {
        ops::argmax(self, logits)
    }

    fn hash_rows(&self, x: &[f32], dim: usize, positions: &[u32], layer: u32) -> Result<Vec<[u8; 32]>> {
        ops::hash_rows(self, x, dim, positions, layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_shapes() {
        assert_eq!(blocks(0, 8, "t").unwrap(), 1);
        assert_eq!(blocks(1, 8, "t").unwrap(), 1);
        assert_eq!(blocks(8, 8, "t").unwrap(), 1);
        assert_eq!(blocks(9, 8, "t").unwrap(), 2);
        assert!(blocks(MAX_GRID_X * 8 + 1, 8, "t").is_err());
        assert_eq!(stride_dims(1), dims_1d(1, BLOCK));
        assert_eq!(stride_dims(257), dims_1d(2, BLOCK));
        assert_eq!(stride_dims(u64::MAX / 2).grid.0 as u64, STRIDE_BLOCKS);
        assert!(int(i32::MAX as usize + 1, "t").is_err());
        assert_eq!(int(5, "t").unwrap(), 5);
    }
}
