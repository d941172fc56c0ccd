//! The host SIMT emulator (tests/simt/) behind the backend's `Gpu`
//! interface: the library's own kernel sources (exactly the text NVRTC
//! compiles) are built with the host C++ compiler into a shared library,
//! loaded with dlopen, and launched through the same `CudaBackend` code that
//! drives a real GPU. Skipped (with `SKIPPED: ...`) when no C++ compiler is
//! found, unless `SPOTCHECK_REQUIRE_SIMT` is set.

use std::ffi::{CString, c_char, c_void};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use spotcheck_engine::Error;
use spotcheck_engine::engine::cuda::kernels::KERNELS;
use spotcheck_engine::engine::cuda::{DeviceBuffer, Gpu, KernelArg, LaunchDims};

type AllocFn = unsafe extern "C" fn(usize) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void, usize);
type LaunchFn =
    unsafe extern "C" fn(*const c_char, *const u32, *const u32, *mut *mut c_void, *mut c_char, usize) -> i32;

struct Lib {
    _lib: libloading::Library,
    alloc: AllocFn,
    free: FreeFn,
    launch: LaunchFn,
}

const FLAGS: &[&str] =
    &["-std=c++17", "-O2", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math", "-fno-strict-aliasing", "-w"];

/// One translation unit: every kernel file's full source (common header
/// included) in its own namespace, and the table of entry points.
fn generated_source() -> String {
    let mut src = String::from("#include \"simt.h\"\n");
    for (i, k) in KERNELS.iter().enumerate() {
        src.push_str(&format!("namespace k{i} {{\n{}\n}}  // namespace k{i}\n", k.full_source()));
    }
    src.push_str("extern const SimtKernel SIMT_KERNELS[] = {\n");
    for (i, k) in KERNELS.iter().enumerate() {
        for e in k.entries {
            src.push_str(&format!("    {{\"{e}\", simt_entry(k{i}::{e})}},\n"));
        }
    }
    src.push_str("};\nextern const size_t SIMT_KERNEL_COUNT = sizeof(SIMT_KERNELS) / sizeof(SIMT_KERNELS[0]);\n");
    src
}

fn build() -> Result<PathBuf, String> {
    let simt_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/simt");
    let runtime = std::fs::read_to_string(simt_dir.join("simt.cpp")).map_err(|e| e.to_string())?;
    let header = std::fs::read_to_string(simt_dir.join("simt.h")).map_err(|e| e.to_string())?;
    let generated = generated_source();
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let mut h = Sha256::new();
    for part in [runtime.as_str(), header.as_str(), generated.as_str(), cxx.as_str(), &FLAGS.join(" ")] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let tag: String = h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("simt");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let lib = out_dir.join(format!("libsimt-{tag}.so"));
    if lib.is_file() {
        return Ok(lib);
    }
    let unique = format!("{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], "");
    let gen_path = out_dir.join(format!("kernels-{tag}-{unique}.cpp"));
    std::fs::write(&gen_path, generated).map_err(|e| e.to_string())?;
    let tmp = out_dir.join(format!("libsimt-{tag}-{unique}.so.tmp"));
    let output = Command::new(&cxx)
        .args(FLAGS)
        .arg("-I")
        .arg(&simt_dir)
        .arg(simt_dir.join("simt.cpp"))
        .arg(&gen_path)
        .arg("-o")
        .arg(&tmp)
        .output()
        .map_err(|e| format!("cannot run the C++ compiler {cxx:?}: {e}"))?;
    let _ = std::fs::remove_file(&gen_path);
    if !output.status.success() {
        // A compiler that exists but fails is a real failure, not a skip.
        panic!("building the SIMT emulator failed:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    std::fs::rename(&tmp, &lib).map_err(|e| e.to_string())?;
    Ok(lib)
}

fn load(path: &Path) -> Result<Lib, String> {
    // SAFETY: our own library; its initialisers only set up globals.
    unsafe {
        let lib = libloading::Library::new(path).map_err(|e| e.to_string())?;
        let alloc = *lib.get::<AllocFn>(b"simt_alloc\0").map_err(|e| e.to_string())?;
        let free = *lib.get::<FreeFn>(b"simt_free\0").map_err(|e| e.to_string())?;
        let launch = *lib.get::<LaunchFn>(b"simt_launch\0").map_err(|e| e.to_string())?;
        Ok(Lib { _lib: lib, alloc, free, launch })
    }
}

fn lib() -> Option<Arc<Lib>> {
    static LIB: OnceLock<Result<Arc<Lib>, String>> = OnceLock::new();
    let lib = LIB.get_or_init(|| build().and_then(|p| load(&p)).map(Arc::new));
    match lib {
        Ok(l) => Some(l.clone()),
        Err(e) if std::env::var_os("SPOTCHECK_REQUIRE_SIMT").is_some() => {
            panic!("SPOTCHECK_REQUIRE_SIMT is set but the SIMT emulator is unavailable: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: SIMT emulator unavailable ({e}); set CXX to a C++17 compiler");
            None
        }
    }
}

struct Allocation {
    ptr: usize,
    bytes: usize,
    lib: Arc<Lib>,
}

impl Drop for Allocation {
    fn drop(&mut self) {
        // SAFETY: allocated by simt_alloc with this size, freed once.
        unsafe { (self.lib.free)(self.ptr as *mut c_void, self.bytes) }
    }
}

/// The emulated GPU.
pub struct SimGpu {
    lib: Arc<Lib>,
}

impl SimGpu {
    /// None (after a printed SKIPPED line) without a C++ compiler.
    pub fn new() -> Option<Arc<SimGpu>> {
        lib().map(|lib| Arc::new(SimGpu { lib }))
    }
}

impl Gpu for SimGpu {
    fn name(&self) -> String {
        "simt-emulator".into()
    }

    fn alloc(&self, bytes: usize) -> spotcheck_engine::Result<DeviceBuffer> {
        // SAFETY: plain allocation.
        let ptr = unsafe { (self.lib.alloc)(bytes.max(1)) };
        if ptr.is_null() {
            return Err(Error::Cuda(format!("emulator: cannot allocate {bytes} bytes")));
        }
        let owner = Allocation { ptr: ptr as usize, bytes: bytes.max(1), lib: self.lib.clone() };
        Ok(DeviceBuffer::new(ptr as u64, bytes, Box::new(owner)))
    }

    fn upload(&self, dst: &DeviceBuffer, offset: usize, src: &[u8]) -> spotcheck_engine::Result<()> {
        let ptr = dst.range(offset, src.len())?;
        // SAFETY: the range lies inside a live host allocation (checked).
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), ptr as *mut u8, src.len()) };
        Ok(())
    }

    fn download(&self, src: &DeviceBuffer, offset: usize, dst: &mut [u8]) -> spotcheck_engine::Result<()> {
        let ptr = src.range(offset, dst.len())?;
        // SAFETY: as above.
        unsafe { std::ptr::copy_nonoverlapping(ptr as *const u8, dst.as_mut_ptr(), dst.len()) };
        Ok(())
    }

    unsafe fn launch(&self, kernel: &str, dims: LaunchDims, args: &[KernelArg]) -> spotcheck_engine::Result<()> {
        // Each argument in its own 8-byte slot, little-endian, as the
        // kernel reads it through CUDA's void** convention.
        let mut slots: Vec<u64> = args
            .iter()
            .map(|a| match *a {
                KernelArg::Ptr(p) | KernelArg::U64(p) => p,
                KernelArg::I32(v) => v as u32 as u64,
                KernelArg::U32(v) => v as u64,
                KernelArg::F32(v) => v.to_bits() as u64,
            })
            .collect();
        let mut ptrs: Vec<*mut c_void> = slots.iter_mut().map(|s| (s as *mut u64).cast()).collect();
        let name = CString::new(kernel).map_err(|e| Error::Cuda(e.to_string()))?;
        let grid = [dims.grid.0, dims.grid.1, dims.grid.2];
        let block = [dims.block.0, dims.block.1, dims.block.2];
        let mut err = vec![0u8; 512];
        // SAFETY: the caller guarantees the arguments fit the kernel.
        let rc = unsafe {
            (self.lib.launch)(
                name.as_ptr(),
                grid.as_ptr(),
                block.as_ptr(),
                ptrs.as_mut_ptr(),
                err.as_mut_ptr().cast(),
                err.len(),
            )
        };
        if rc != 0 {
            let end = err.iter().position(|&b| b == 0).unwrap_or(err.len());
            return Err(Error::Cuda(format!("emulator: {}", String::from_utf8_lossy(&err[..end]))));
        }
        Ok(())
    }
}
