//! Spotcheck engine: a deterministic CPU and CUDA inference engine for
//! Llama-family models whose outputs are verified by bit-exact re-execution.
//!
//! * [`Model::load`] reads GGUF (F32/F16/BF16/Q8_0/Q4_1) or safetensors
//!   (F32/F16/BF16); the model id is the SHA-256 of the file.
//! * [`generate()`] decodes greedily and returns the tokens with their
//!   [`Commitments`] (output hash, trace root) and the trace.
//! * [`verify()`] re-executes a [`Claim`] in one batched teacher-forced pass.
//! * [`Job`] is the job protocol every party applies to a job read from the
//!   chain: its model input, the completion check, the verdict's evidence.
//! * [`Device::open`] picks the backend at run time (`auto | cpu | cuda`);
//!   [`CpuBackend`] and [`CudaBackend`] compute the same bits.
//! * The determinism rules are in [`engine`]; commitment layouts in [`commit`].
//!
//! Layers, bottom up (no module imports one above it; README.md, "Layout",
//! draws the graph): [`commit`] and the error types; the containers
//! ([`gguf`]) and the [`tokenizer`]; [`engine`] — the backends and the
//! forward pass over [`Weights`], knowing no file format; [`model`], which
//! decodes files into engine types; [`generate()`] and [`verify()`]; [`job`]
//! on top.
//!
//! ```no_run
//! use spotcheck_engine::{CpuBackend, GenerateParams, Message, Model, generate};
//! let model = Model::load("SmolLM2-135M-Instruct.Q4_1.gguf")?;
//! let tok = model.tokenizer()?;
//! let prompt = tok.encode_chat(&[Message::new("user", "What is the capital of France?")])?;
//! let out = generate(&model, &CpuBackend::new(2)?, &prompt, &GenerateParams::new(32))?;
//! println!("{}", tok.decode(&out.tokens));
//! # Ok::<(), spotcheck_engine::Error>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod commit;
mod divergence;
pub mod engine;
mod error;
pub mod generate;
pub mod gguf;
pub mod job;
pub mod model;
pub mod tokenizer;
pub mod verify;

pub use commit::{Commitments, Hash, Trace};
pub use engine::{
    Backend, Config, CpuBackend, CudaBackend, CudaOptions, CudaUnavailable, Device, DeviceChoice, DeviceOptions, Simd,
    Weights, available_backends,
};
pub use error::{Error, Result};
pub use generate::{GenerateParams, Generation, StopReason, generate, generate_streaming};
pub use job::{Completion, Job, JobOutput, JobVerdict, ServedMismatch};
pub use model::Model;
pub use tokenizer::{Message, Tokenizer};
pub use verify::{Claim, Divergence, DivergenceKind, Verdict, verify};
