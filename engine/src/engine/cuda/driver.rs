//! Finding the CUDA libraries at run time, and [`CudaGpu`]: the [`Gpu`]
//! interface on the CUDA driver, through cudarc with `dynamic-loading`
//! (nothing CUDA is needed to build, and nothing is downloaded at run time).
//!
//! # How the libraries are found
//!
//! * **Driver** (`libcuda.so.1`, installed with the NVIDIA driver): by name,
//!   through the system's dynamic loader (`LD_LIBRARY_PATH`, the ld.so
//!   cache), as cudarc does.
//! * **NVRTC** (`libnvrtc.so.12`): if the environment variable
//!   [`NVRTC_DIR_ENV`] (`SPOTCHECK_NVRTC_LIB_DIR`) names a directory — or a
//!   directory is passed explicitly — `<dir>/libnvrtc.so.12` is opened by
//!   its full path and kept loaded for the life of the process; cudarc's
//!   later lookup by the name `libnvrtc.so.12` then resolves to it (the
//!   dynamic loader matches an already loaded library by its SONAME).
//!   `engine/scripts/install-nvrtc.sh` installs NVIDIA's PyPI wheel and
//!   prints such a directory. Without the variable, the system loader
//!   searches as for the driver (a CUDA toolkit's `lib64` on
//!   `LD_LIBRARY_PATH`, or the ld.so cache). cudarc tries the unversioned
//!   name `libnvrtc.so` before `libnvrtc.so.12`, so a toolkit's unversioned
//!   library on the loader path takes precedence over the preloaded one.
//!
//! cudarc panics when a library is missing; every entry point here probes
//! first and also runs cudarc inside `catch_unwind`, so the worst case is a
//! typed error, never a panic.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use cudarc::driver::{CudaContext, CudaFunction, CudaStream, LaunchConfig, PushKernelArg, result, sys};
use cudarc::nvrtc::Ptx;

use super::gpu::{DeviceBuffer, Gpu, KernelArg, LaunchDims};
use super::kernels::{self, BASELINE_ARCH, CompileFailure, KERNELS};
use crate::error::{CudaUnavailable, Error, Result};

/// Directory holding `libnvrtc.so.12` (e.g. the output of
/// `engine/scripts/install-nvrtc.sh`).
pub const NVRTC_DIR_ENV: &str = "SPOTCHECK_NVRTC_LIB_DIR";
/// The file opened in that directory.
pub const NVRTC_LIB: &str = "libnvrtc.so.12";

/// Runs a cudarc call that may panic (a missing library or symbol).
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        format!("{what}: {msg}")
    })
}

/// True when the CUDA driver library can be loaded.
pub fn driver_present() -> bool {
    // SAFETY: loading libcuda runs its initialisers, which is what every
    // CUDA program does; the probe unloads it again.
    guarded("probing libcuda", || unsafe { cudarc::driver::sys::is_culib_present() }).unwrap_or(false)
}

/// The preloaded NVRTC (kept for the life of the process) and its path.
static NVRTC_PRELOADED: Mutex<Option<(PathBuf, libloading::Library)>> = Mutex::new(None);

/// Makes NVRTC available to cudarc, or says why it is not: `dir` (else
/// `$SPOTCHECK_NVRTC_LIB_DIR`, if set) is searched for `libnvrtc.so.12`,
/// which is opened by full path and kept loaded; then cudarc's own lookup
/// must succeed. The first library preloaded stays for the process.
pub fn load_nvrtc(dir: Option<&Path>) -> std::result::Result<(), CudaUnavailable> {
    let dir = dir.map(Path::to_path_buf).or_else(|| std::env::var_os(NVRTC_DIR_ENV).map(PathBuf::from));
    if let Some(dir) = dir {
        let path = dir.join(NVRTC_LIB);
        let mut slot = NVRTC_PRELOADED.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            if !path.is_file() {
                return Err(CudaUnavailable::NoNvrtc(format!("{} does not exist", path.display())));
            }
            // SAFETY: opening NVIDIA's NVRTC runs its initialisers only.
            let lib = unsafe { libloading::Library::new(&path) }
                .map_err(|e| CudaUnavailable::NoNvrtc(format!("cannot load {}: {e}", path.display())))?;
            *slot = Some((path, lib));
        }
    }
    // SAFETY: as above; cudarc opens and closes the library by name.
    let present = guarded("probing NVRTC", || unsafe { cudarc::nvrtc::sys::is_culib_present() })
        .map_err(CudaUnavailable::NoNvrtc)?;
    if present {
        Ok(())
    } else {
        Err(CudaUnavailable::NoNvrtc(format!(
            "{NVRTC_LIB} not found by the dynamic loader; set {NVRTC_DIR_ENV} to the directory holding it \
             (engine/scripts/install-nvrtc.sh prints one)"
        )))
    }
}

/// The path NVRTC was preloaded from, if it was.
pub fn nvrtc_preloaded_from() -> Option<PathBuf> {
    NVRTC_PRELOADED.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|(p, _)| p.clone())
}

/// NVRTC's version (major, minor), once loaded.
pub fn nvrtc_version() -> std::result::Result<(i32, i32), CudaUnavailable> {
    load_nvrtc(None)?;
    let (mut major, mut minor) = (0, 0);
    // SAFETY: nvrtcVersion writes two ints; NVRTC is loaded (checked above).
    let status = guarded("NVRTC version", || unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) })
        .map_err(CudaUnavailable::NoNvrtc)?;
    status.result().map_err(|e| CudaUnavailable::NoNvrtc(format!("nvrtcVersion: {e:?}")))?;
    Ok((major, minor))
}

/// "driver CUDA 12.4, NVRTC 12.9": a driver older than NVRTC cannot load
/// its PTX (CUDA_ERROR_UNSUPPORTED_PTX_VERSION); install a matching NVRTC.
fn versions() -> String {
    let mut v = 0;
    // SAFETY: writes one int; the driver library is loaded (probed above).
    let driver = match unsafe { sys::cuDriverGetVersion(&mut v) }.result() {
        Ok(()) => format!("driver CUDA {}.{}", v / 1000, v % 1000 / 10),
        Err(e) => format!("driver version unknown: {e:?}"),
    };
    let nvrtc = nvrtc_version().map_or_else(|e| e.to_string(), |(a, b)| format!("NVRTC {a}.{b}"));
    format!("{driver}, {nvrtc}; the driver must support NVRTC's CUDA version")
}

/// A device memory allocation, freed on drop.
struct Allocation {
    ptr: u64,
    ctx: Arc<CudaContext>,
}

impl Drop for Allocation {
    fn drop(&mut self) {
        let _ = guarded("cuMemFree", || {
            if self.ctx.bind_to_thread().is_ok() {
                // SAFETY: ptr came from cuMemAlloc in this context and is
                // freed once; synchronous, after the work that used it.
                let _ = unsafe { result::free_sync(self.ptr) };
            }
        });
    }
}

/// The CUDA driver behind the [`Gpu`] interface: one context, the legacy
/// default stream (so synchronous copies order with launches), and every
/// kernel compiled by NVRTC for the device's architecture at start-up.
pub struct CudaGpu {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    functions: HashMap<&'static str, CudaFunction>,
    name: String,
}

impl std::fmt::Debug for CudaGpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CudaGpu[{}]", self.name)
    }
}

fn driver_error(what: &str) -> impl Fn(result::DriverError) -> CudaUnavailable + '_ {
    move |e| CudaUnavailable::Driver(format!("{what}: {e:?}"))
}

impl CudaGpu {
    /// Probes the driver and NVRTC, opens device `ordinal`, compiles and
    /// checks every kernel. `nvrtc_dir` overrides `$SPOTCHECK_NVRTC_LIB_DIR`.
    pub fn open(ordinal: usize, nvrtc_dir: Option<&Path>) -> std::result::Result<Self, CudaUnavailable> {
        if !driver_present() {
            return Err(CudaUnavailable::NoDriver);
        }
        load_nvrtc(nvrtc_dir)?;
        guarded("starting CUDA", || Self::open_unguarded(ordinal)).map_err(CudaUnavailable::Driver)?
    }

    fn open_unguarded(ordinal: usize) -> std::result::Result<Self, CudaUnavailable> {
        match result::init() {
            Err(result::DriverError(sys::CUresult::CUDA_ERROR_NO_DEVICE)) => {
                return Err(CudaUnavailable::NoDevice(ordinal));
            }
            other => other.map_err(driver_error("cuInit"))?,
        }
        let count = result::device::get_count().map_err(driver_error("cuDeviceGetCount"))?;
        if ordinal >= count.max(0) as usize {
            return Err(CudaUnavailable::NoDevice(ordinal));
        }
        let ctx = CudaContext::new(ordinal).map_err(driver_error("creating a context"))?;
        let (major, minor) = ctx.compute_capability().map_err(driver_error("compute capability"))?;
        if (major, minor) < (6, 1) {
            return Err(CudaUnavailable::TooOld(major, minor));
        }
        let device_name = ctx.name().unwrap_or_else(|_| "CUDA device".into());
        let stream = ctx.default_stream();
        let arch = format!("compute_{major}{minor}");
        let mut functions = HashMap::new();
        for k in KERNELS {
            // The device's own architecture; NVRTC may not know a newer one,
            // then the baseline PTX (JIT-compiled by the driver) serves.
            let ptx = match kernels::compile(k, &arch) {
                Err(CompileFailure::Nvrtc(_)) => kernels::compile(k, BASELINE_ARCH),
                other => other,
            }
            .map_err(|f| CudaUnavailable::Kernel { file: k.file, failure: f.to_string() })?;
            let module = ctx.load_module(Ptx::from_src(ptx)).map_err(|e| CudaUnavailable::Kernel {
                file: k.file,
                failure: format!("loading the module: {e:?} ({})", versions()),
            })?;
            for &entry in k.entries {
                let f = module
                    .load_function(entry)
                    .map_err(|e| CudaUnavailable::Kernel { file: k.file, failure: format!("entry {entry}: {e:?}") })?;
                functions.insert(entry, f);
            }
        }
        let name = format!("{device_name} (sm_{major}{minor})");
        Ok(Self { ctx, stream, functions, name })
    }

    fn bind(&self) -> Result<()> {
        self.ctx.bind_to_thread().map_err(|e| Error::Cuda(format!("binding the context: {e:?}")))
    }
}

fn run<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    guarded(what, f).map_err(Error::Cuda)?
}

impl Gpu for CudaGpu {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn alloc(&self, bytes: usize) -> Result<DeviceBuffer> {
        run("cuMemAlloc", || {
            self.bind()?;
            // SAFETY: a plain allocation in the bound context.
            let ptr = unsafe { result::malloc_sync(bytes.max(1)) }
                .map_err(|e| Error::Cuda(format!("allocating {bytes} bytes: {e:?}")))?;
            Ok(DeviceBuffer::new(ptr, bytes, Box::new(Allocation { ptr, ctx: self.ctx.clone() })))
        })
    }

    fn upload(&self, dst: &DeviceBuffer, offset: usize, src: &[u8]) -> Result<()> {
        let ptr = dst.range(offset, src.len())?;
        if src.is_empty() {
            return Ok(());
        }
        run("cuMemcpyHtoD", || {
            self.bind()?;
            // SAFETY: ptr..ptr + src.len() lies inside `dst` (checked above).
            unsafe { result::memcpy_htod_sync(ptr, src) }.map_err(|e| Error::Cuda(format!("upload: {e:?}")))
        })
    }

    fn download(&self, src: &DeviceBuffer, offset: usize, dst: &mut [u8]) -> Result<()> {
        let ptr = src.range(offset, dst.len())?;
        if dst.is_empty() {
            return Ok(());
        }
        run("cuMemcpyDtoH", || {
            self.bind()?;
            // SAFETY: ptr..ptr + dst.len() lies inside `src` (checked above).
            // The synchronous copy on the legacy stream waits for every
            // launch before it; a failed kernel reports its error here.
            unsafe { result::memcpy_dtoh_sync(dst, ptr) }.map_err(|e| Error::Cuda(format!("download: {e:?}")))
        })
    }

    unsafe fn launch(&self, kernel: &str, dims: LaunchDims, args: &[KernelArg]) -> Result<()> {
        let f = self.functions.get(kernel).ok_or_else(|| Error::Cuda(format!("no kernel named {kernel}")))?;
        run("cuLaunchKernel", || {
            let mut b = self.stream.launch_builder(f);
            for a in args {
                match a {
                    KernelArg::Ptr(p) | KernelArg::U64(p) => b.arg(p),
                    KernelArg::I32(v) => b.arg(v),
                    KernelArg::U32(v) => b.arg(v),
                    KernelArg::F32(v) => b.arg(v),
                };
            }
            let cfg = LaunchConfig { grid_dim: dims.grid, block_dim: dims.block, shared_mem_bytes: 0 };
            // SAFETY: the caller guarantees that the arguments match the
            // kernel and cover the memory it touches.
            unsafe { b.launch(cfg) }.map_err(|e| Error::Cuda(format!("launching {kernel}: {e:?}")))?;
            Ok(())
        })
    }
}
