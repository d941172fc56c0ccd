//! A loaded model file: its id (the file's SHA-256), its container, the
//! decoder's [`Weights`] (an engine type: the loaders here decode a file
//! into it) and the tokenizer (GGUF only).

mod decode;
mod load_gguf;
mod load_safetensors;
pub mod quantize;
pub mod tiny;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use decode::{decode_floats, decode_matrix};

use crate::engine::{Config, Weights};
use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// Which container the model came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Gguf,
    Safetensors,
}

#[derive(Clone)]
pub struct Model {
    /// SHA-256 of the weights file's bytes.
    pub id: [u8; 32],
    pub format: Format,
    /// The decoder: config, tensors in kernel layout, RoPE table.
    pub weights: Weights,
    pub tokenizer: Option<Tokenizer>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("id", &crate::commit::hex(&self.id))
            .field("format", &self.format)
            .field("config", &self.weights.config)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Loads a GGUF file, or a safetensors file with a Hugging Face
    /// `config.json` beside it. The format is detected from the bytes.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        if bytes.starts_with(crate::gguf::MAGIC) {
            return Self::from_gguf_bytes(&bytes);
        }
        if load_safetensors::looks_like_safetensors(&bytes) {
            let config_path = path.with_file_name("config.json");
            let config =
                std::fs::read(&config_path).map_err(|source| Error::Io { path: config_path.clone(), source })?;
            return Self::from_safetensors_bytes(&bytes, &config);
        }
        Err(Error::UnknownFormat)
    }

    pub fn from_gguf_bytes(bytes: &[u8]) -> Result<Self> {
        load_gguf::load(bytes, model_id(bytes))
    }

    /// `config_json` is a Hugging Face `config.json`.
    pub fn from_safetensors_bytes(bytes: &[u8], config_json: &[u8]) -> Result<Self> {
        load_safetensors::load(bytes, config_json, model_id(bytes))
    }

    /// The decoder's hyper-parameters.
    pub fn config(&self) -> &Config {
        &self.weights.config
    }

    pub fn tokenizer(&self) -> Result<&Tokenizer> {
        self.tokenizer.as_ref().ok_or(Error::NoTokenizer)
    }
}

/// The model id: SHA-256 of the weights file.
pub fn model_id(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}
