//! Choosing the backend at run time (`--device auto|cpu|cuda`), on whatever
//! this machine has. Without a GPU (no libcuda, or no device): `auto` runs
//! on the CPU after exactly one log line saying why, `cuda` is a typed
//! error, and nothing panics — also when NVRTC is loaded but the driver is
//! not. With a GPU: `auto` and `cuda` both give the CUDA backend, silently.

mod common;

use std::path::PathBuf;

use spotcheck_engine::engine::cuda::driver::{driver_present, load_nvrtc};
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::{
    Backend, CudaOptions, CudaUnavailable, Device, DeviceChoice, DeviceOptions, Error, GenerateParams, generate,
};

fn options(nvrtc_dir: Option<PathBuf>) -> DeviceOptions {
    DeviceOptions { threads: 1, cuda: CudaOptions { ordinal: 0, nvrtc_dir } }
}

fn open(choice: DeviceChoice, opts: &DeviceOptions) -> (spotcheck_engine::Result<String>, Vec<String>) {
    let model = common::tiny(GgmlType::Q8_0);
    let mut lines = Vec::new();
    let dev = Device::open_logged(choice, &model.weights, opts, &mut |l| lines.push(l.to_string()));
    (dev.map(|d| d.name()), lines)
}

/// Whether a CUDA device can run here (driver, NVRTC, a GPU).
fn gpu_here() -> bool {
    let model = common::tiny(GgmlType::F32);
    Device::open_logged(DeviceChoice::Cuda, &model.weights, &options(common::nvrtc_dir()), &mut |_| {}).is_ok()
}

#[test]
fn cpu_is_always_the_cpu() {
    let (name, lines) = open(DeviceChoice::Cpu, &options(None));
    assert!(name.unwrap().starts_with("cpu-"));
    assert!(lines.is_empty());
}

#[test]
fn auto_falls_back_with_one_line_and_cuda_is_a_typed_error() {
    let opts = options(common::nvrtc_dir());
    if gpu_here() {
        let (name, lines) = open(DeviceChoice::Auto, &opts);
        assert!(name.unwrap().starts_with("cuda-"));
        assert!(lines.is_empty(), "{lines:?}");
        eprintln!("a GPU is present: auto picked CUDA");
        return;
    }
    let (name, lines) = open(DeviceChoice::Auto, &opts);
    let name = name.unwrap();
    assert!(name.starts_with("cpu-"), "{name}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("CUDA unavailable") && lines[0].contains("running on the CPU"), "{}", lines[0]);
    eprintln!("log line: {}", lines[0]);

    let (res, lines) = open(DeviceChoice::Cuda, &opts);
    assert!(lines.is_empty());
    match res {
        Err(Error::CudaUnavailable(why)) => {
            assert!(!Error::CudaUnavailable(why.clone()).is_retryable());
            if !driver_present() {
                assert_eq!(why, CudaUnavailable::NoDriver);
            }
        }
        other => panic!("expected CudaUnavailable, got {other:?}"),
    }
}

#[test]
fn no_panic_with_nvrtc_loaded_but_no_driver() {
    // The situation of a machine with the NVRTC wheel and no GPU driver.
    let nvrtc = load_nvrtc(common::nvrtc_dir().as_deref());
    if driver_present() {
        eprintln!("SKIPPED: a CUDA driver is present; this case needs a machine without one");
        return;
    }
    eprintln!("NVRTC: {nvrtc:?}");
    let opts = options(common::nvrtc_dir());
    let (res, _) = open(DeviceChoice::Cuda, &opts);
    assert!(matches!(res, Err(Error::CudaUnavailable(CudaUnavailable::NoDriver))), "{res:?}");
    let (res, lines) = open(DeviceChoice::Auto, &opts);
    assert!(res.unwrap().starts_with("cpu-"));
    assert!(lines[0].contains("no CUDA driver"), "{lines:?}");
}

#[test]
fn a_wrong_nvrtc_directory_is_a_typed_error() {
    let opts = options(Some(PathBuf::from("/nonexistent/nvrtc")));
    let (res, _) = open(DeviceChoice::Cuda, &opts);
    // No driver is reported first; with one, the missing NVRTC (unless a
    // library was already preloaded by this process, which then serves).
    if let Err(e) = res {
        assert!(matches!(e, Error::CudaUnavailable(_)), "{e:?}");
    }
}

#[test]
fn the_selected_device_generates_the_cpu_bits() {
    let model = common::tiny(GgmlType::Q4_1);
    let prompt = common::tiny_prompt(&model);
    let dev =
        Device::open_logged(DeviceChoice::Auto, &model.weights, &options(common::nvrtc_dir()), &mut |_| {}).unwrap();
    let params = GenerateParams::new(6);
    let want = generate(&model, &common::one_backend(), &prompt, &params).unwrap();
    assert_eq!(generate(&model, &dev, &prompt, &params).unwrap().commitments, want.commitments, "{}", dev.name());
}
