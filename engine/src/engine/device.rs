//! Choosing the backend at run time: `--device auto|cpu|cuda`.
//!
//! * `cpu`: the CPU backend.
//! * `cuda`: the CUDA backend, or [`Error::CudaUnavailable`] saying why not
//!   (no driver, no NVRTC, no GPU, a kernel rejected) — never a panic.
//! * `auto`: CUDA when it can run; otherwise the CPU, after one log line on
//!   stderr saying why.
//!
//! Both backends compute the same bits (the determinism rules in
//! [`crate::engine`]), so the choice changes speed only, never a commitment.

use std::fmt;
use std::str::FromStr;

use super::cuda::{CudaBackend, CudaOptions};
use super::{AttnShape, Backend, CpuBackend, Q8Acts, RopeTable, Weight, Weights};
use crate::error::{Error, Result};

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DeviceChoice {
    /// CUDA if it can run here, else the CPU (with one log line).
    #[default]
    Auto,
    Cpu,
    Cuda,
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda),
            other => Err(format!("unknown device {other:?} (expected auto, cpu or cuda)")),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceChoice::Auto => "auto",
            DeviceChoice::Cpu => "cpu",
            DeviceChoice::Cuda => "cuda",
        })
    }
}

/// The backend that runs: the CPU, or a GPU holding `'m`'s weights.
pub enum Device<'m> {
    Cpu(CpuBackend),
    Cuda(Box<CudaBackend<'m>>),
}

impl fmt::Debug for Device<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Device({})", self.name())
    }
}

/// How [`Device::open`] runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceOptions {
    /// CPU worker threads (0 = 1), for the CPU backend.
    pub threads: usize,
    /// GPU ordinal and NVRTC location, for the CUDA backend.
    pub cuda: CudaOptions,
}

impl<'m> Device<'m> {
    /// The backend for `choice`; `auto`'s fallback is logged to stderr.
    pub fn open(choice: DeviceChoice, weights: &'m Weights, options: &DeviceOptions) -> Result<Self> {
        Self::open_logged(choice, weights, options, &mut |line| eprintln!("{line}"))
    }

    /// As [`Device::open`], handing the (at most one) log line to `log`.
    pub fn open_logged(
        choice: DeviceChoice,
        weights: &'m Weights,
        options: &DeviceOptions,
        log: &mut dyn FnMut(&str),
    ) -> Result<Self> {
        match choice {
            DeviceChoice::Cpu => Ok(Device::Cpu(CpuBackend::new(options.threads)?)),
            DeviceChoice::Cuda => Ok(Device::Cuda(Box::new(CudaBackend::open(weights, &options.cuda)?))),
            DeviceChoice::Auto => match CudaBackend::open(weights, &options.cuda) {
                Ok(cuda) => Ok(Device::Cuda(Box::new(cuda))),
                Err(Error::CudaUnavailable(why)) => {
                    let cpu = CpuBackend::new(options.threads)?;
                    log(&format!("spotcheck-engine: CUDA unavailable ({why}); running on the CPU ({})", cpu.name()));
                    Ok(Device::Cpu(cpu))
                }
                // A GPU that starts but then fails (out of memory uploading
                // the weights) is an error, not a silent fallback.
                Err(e) => Err(e),
            },
        }
    }

    pub fn is_cuda(&self) -> bool {
        matches!(self, Device::Cuda(_))
    }

    fn backend(&self) -> &dyn Backend {
        match self {
            Device::Cpu(b) => b,
            Device::Cuda(b) => &**b,
        }
    }
}

impl Backend for Device<'_> {
    fn name(&self) -> String {
        self.backend().name()
    }

    fn embed(&self, table: &Weight, tokens: &[u32], out: &mut [f32]) -> Result<()> {
        self.backend().embed(table, tokens, out)
    }

    fn rmsnorm(&self, x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) -> Result<()> {
        self.backend().rmsnorm(x, weight, eps, out)
    }

    fn quantize_q8(&self, x: &[f32], cols: usize, out: &mut Q8Acts) -> Result<()> {
        self.backend().quantize_q8(x, cols, out)
    }

    fn matmul(&self, x: &[f32], xq: &Q8Acts, w: &Weight, out: &mut [f32]) -> Result<()> {
        self.backend().matmul(x, xq, w, out)
    }

    fn rope(&self, x: &mut [f32], head_dim: usize, positions: &[u32], table: &RopeTable) -> Result<()> {
        self.backend().rope(x, head_dim, positions, table)
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
        self.backend().attention(q, k_cache, v_cache, positions, shape, out)
    }

    fn silu_mul(&self, gate: &mut [f32], up: &[f32]) -> Result<()> {
        self.backend().silu_mul(gate, up)
    }

    fn add(&self, x: &mut [f32], y: &[f32]) -> Result<()> {
        self.backend().add(x, y)
    }

    fn argmax(&self, logits: &[f32]) -> Result<u32> {
        self.backend().argmax(logits)
    }

    fn hash_rows(&self, x: &[f32], dim: usize, positions: &[u32], layer: u32) -> Result<Vec<[u8; 32]>> {
        self.backend().hash_rows(x, dim, positions, layer)
    }

    fn hash_rows_into(&self, x: &[f32], dim: usize, positions: &[u32], layer: u32, out: &mut [[u8; 32]]) -> Result<()> {
        self.backend().hash_rows_into(x, dim, positions, layer, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_flag() {
        for c in [DeviceChoice::Auto, DeviceChoice::Cpu, DeviceChoice::Cuda] {
            assert_eq!(c.to_string().parse::<DeviceChoice>().unwrap(), c);
        }
        assert!("gpu".parse::<DeviceChoice>().unwrap_err().contains("auto, cpu or cuda"));
        assert_eq!(DeviceChoice::default(), DeviceChoice::Auto);
    }
}
