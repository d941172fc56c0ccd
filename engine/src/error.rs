//! The crate's one error type. Variants say what went wrong in terms a worker
//! can act on; [`Error::is_retryable`] separates transient failures (I/O,
//! thread start-up) from fatal ones (the input itself is wrong).
//!
//! Every module returns this error, so it depends on none of them (the
//! module graph has no cycle): the two payloads it carries are defined here
//! ([`CudaUnavailable`]) or in a leaf module ([`Divergence`]).

use std::path::PathBuf;

use crate::divergence::Divergence;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the file failed; the file may be fine on a second try.
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The worker thread pool could not be started (resource exhaustion).
    #[error("cannot start worker threads: {0}")]
    ThreadPool(String),

    /// Neither a GGUF nor a safetensors file.
    #[error("unknown model file format (expected GGUF or safetensors)")]
    UnknownFormat,
    /// The file is recognised but its structure is inconsistent or truncated.
    #[error("corrupt model file: {0}")]
    Corrupt(String),
    /// A well-formed file of a model family this engine does not run.
    #[error("unsupported architecture {0:?} (only \"llama\" is supported)")]
    UnsupportedArchitecture(String),
    /// A tensor stored in a type this engine has no kernel for.
    #[error("tensor {name}: unsupported type {ty}")]
    UnsupportedTensorType { name: String, ty: String },
    /// The tensors or hyper-parameters don't describe a runnable model.
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// The model file carries no tokenizer (e.g. safetensors without one).
    #[error("the model has no tokenizer; pass token ids instead")]
    NoTokenizer,
    /// The tokenizer metadata is inconsistent.
    #[error("tokenizer: {0}")]
    Tokenizer(String),

    /// A job names one model (its weights hash) and another is loaded; no
    /// party may judge a job on any other model.
    #[error(
        "the job is for model {}, but the loaded model is {}: load the file whose SHA-256 is the job's weights hash",
        crate::commit::hex(job),
        crate::commit::hex(loaded)
    )]
    WrongModel { job: [u8; 32], loaded: [u8; 32] },

    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error("the token budget is zero")]
    ZeroBudget,
    #[error("prompt of {prompt} tokens plus a budget of {max_new_tokens} exceeds the context length {context_length}")]
    ContextOverflow { prompt: usize, max_new_tokens: usize, context_length: usize },
    #[error("token id {id} is outside the vocabulary of {vocab_size}")]
    TokenOutOfRange { id: u32, vocab_size: usize },
    /// The CUDA backend was asked for and cannot run here (no driver, no
    /// NVRTC, no GPU, a kernel rejected); see [`crate::DeviceChoice`].
    #[error("CUDA unavailable: {0}")]
    CudaUnavailable(#[from] CudaUnavailable),
    /// A CUDA driver call failed while running (out of memory, a lost or
    /// faulting device); another try, or the CPU, may succeed.
    #[error("CUDA: {0}")]
    Cuda(String),
    /// A backend op was called with buffers whose sizes don't fit together
    /// (a bug in the caller; the CPU backend would panic on it).
    #[error("backend op {op}: {msg}")]
    Shape { op: &'static str, msg: String },
    /// Verification ran and the claim is wrong (see [`crate::Verdict::into_result`]).
    #[error("claimed output does not match: {0}")]
    OutputMismatch(Divergence),
}

impl Error {
    /// True when retrying the same call could succeed (transient resource,
    /// I/O or device failure); false when the input itself must change.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Io { .. } | Error::ThreadPool(_) | Error::Cuda(_))
    }

    pub(crate) fn corrupt(msg: impl Into<String>) -> Self {
        Error::Corrupt(msg.into())
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidModel(msg.into())
    }
}

/// Why the CUDA backend cannot run on this machine.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CudaUnavailable {
    /// No NVIDIA driver library: no GPU driver is installed.
    #[error("no CUDA driver: libcuda.so.1 not found by the dynamic loader")]
    NoDriver,
    /// NVRTC could not be loaded.
    #[error("NVRTC not available: {0}")]
    NoNvrtc(String),
    /// The driver loaded but reports no device (or not the one asked for).
    #[error("no CUDA device {0}")]
    NoDevice(usize),
    /// A driver call failed while starting up.
    #[error("CUDA driver: {0}")]
    Driver(String),
    /// The device is older than the kernels need.
    #[error("compute capability {0}.{1} is below 6.1 (dp4a)")]
    TooOld(i32, i32),
    /// A kernel failed to compile or broke a determinism rule.
    #[error("kernel {file}: {failure}")]
    Kernel { file: &'static str, failure: String },
}
