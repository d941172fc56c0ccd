//! The device interface the CUDA backend is written against: allocate,
//! copy, launch a kernel by name. [`super::driver::CudaGpu`] implements it
//! with the CUDA driver (through cudarc); the tests implement it with a
//! host emulator that runs the same kernel sources on the CPU (one fiber
//! per CUDA thread, `engine/tests/simt/`), so everything but the driver
//! calls is exercised on machines without a GPU.

use std::any::Any;

use crate::error::{Error, Result};

/// A device allocation: its address on the device, its size, and whatever
/// frees it when dropped.
pub struct DeviceBuffer {
    ptr: u64,
    bytes: usize,
    _owner: Box<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for DeviceBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceBuffer[{:#x}, {} bytes]", self.ptr, self.bytes)
    }
}

impl DeviceBuffer {
    /// `owner` frees the `bytes` at `ptr` when dropped.
    pub fn new(ptr: u64, bytes: usize, owner: Box<dyn Any + Send + Sync>) -> Self {
        Self { ptr, bytes, _owner: owner }
    }

    pub fn ptr(&self) -> u64 {
        self.ptr
    }

    pub fn len_bytes(&self) -> usize {
        self.bytes
    }

    /// The device address of bytes `offset..offset + len`, if they lie
    /// inside the buffer.
    pub fn range(&self, offset: usize, len: usize) -> Result<u64> {
        match offset.checked_add(len) {
            Some(end) if end <= self.bytes => Ok(self.ptr + offset as u64),
            _ => Err(Error::Cuda(format!("{len} bytes at offset {offset} outside a buffer of {}", self.bytes))),
        }
    }
}

/// One kernel parameter, passed by value as CUDA's launch ABI expects.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KernelArg {
    /// A device address (any `T*` parameter).
    Ptr(u64),
    I32(i32),
    U32(u32),
    U64(u64),
    F32(f32),
}

/// Grid and block dimensions of a launch (no dynamic shared memory: the
/// kernels only use static `__shared__` arrays).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchDims {
    pub grid: (u32, u32, u32),
    pub block: (u32, u32, u32),
}

/// A device that runs the kernels of [`super::kernels::KERNELS`] by entry name.
pub trait Gpu: Send + Sync {
    /// e.g. "NVIDIA H100 80GB HBM3 (sm_90)".
    fn name(&self) -> String;
    /// A new allocation of `bytes` (> 0) bytes; contents unspecified.
    fn alloc(&self, bytes: usize) -> Result<DeviceBuffer>;
    /// Copies `src` to bytes `offset..` of `dst` (bounds checked).
    fn upload(&self, dst: &DeviceBuffer, offset: usize, src: &[u8]) -> Result<()>;
    /// Copies bytes `offset..offset + dst.len()` of `src` into `dst`, after
    /// every launch before it has finished (bounds checked).
    fn download(&self, src: &DeviceBuffer, offset: usize, dst: &mut [u8]) -> Result<()>;
    /// Launches entry point `kernel`, in order after earlier launches and
    /// copies.
    ///
    /// # Safety
    /// `args` must match the kernel's parameter list in number and types,
    /// and every pointer must address enough device memory for what the
    /// kernel reads and writes with these dimensions and scalars.
    unsafe fn launch(&self, kernel: &str, dims: LaunchDims, args: &[KernelArg]) -> Result<()>;
}

/// Plain-old-data element types that cross to the device as raw bytes.
pub trait Pod: Copy + Send + Sync + 'static {}
impl Pod for f32 {}
impl Pod for u32 {}
impl Pod for i8 {}
impl Pod for u8 {}

/// The bytes of a slice of plain-old-data values.
pub fn as_bytes<T: Pod>(v: &[T]) -> &[u8] {
    // SAFETY: T is one of f32/u32/i8/u8: no padding, every byte initialised;
    // the length in bytes is exactly size_of_val(v).
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

/// The bytes of a mutable slice of plain-old-data values.
pub fn as_bytes_mut<T: Pod>(v: &mut [T]) -> &mut [u8] {
    // SAFETY: as above, and every bit pattern is a valid f32/u32/i8/u8, so
    // any bytes written through the view leave valid values.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}
