//! The decoder's hyper-parameters: what the forward pass and the kernels
//! need to know about a model's shape. Loaders (`crate::model`) fill it from
//! a file's metadata and [`Config::validate`] rejects shapes the kernels
//! cannot run before anything is allocated.

use crate::error::{Error, Result};

/// Hyper-parameters of a Llama-family decoder.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub vocab_size: usize,
    pub dim: usize,
    pub hidden_dim: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    /// Dimensions of each head that RoPE rotates (<= head_dim, even).
    pub rope_dims: usize,
    pub rope_base: f32,
    pub norm_eps: f32,
    pub context_length: usize,
    pub bos_token: Option<u32>,
    pub eos_token: Option<u32>,
}

impl Config {
    pub fn q_dim(&self) -> usize {
        self.n_heads * self.head_dim
    }

    pub fn kv_dim(&self) -> usize {
        self.n_kv_heads * self.head_dim
    }

    /// Rejects shapes the kernels can't run, before anything is allocated.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(Error::invalid(m));
        if self.dim == 0 || self.hidden_dim == 0 || self.n_layers == 0 || self.vocab_size == 0 {
            return fail(format!("empty dimension in {self:?}"));
        }
        if !self.dim.is_multiple_of(32) || !self.hidden_dim.is_multiple_of(32) || !self.q_dim().is_multiple_of(32) {
            return fail(format!(
                "dim {}, hidden_dim {} and heads*head_dim {} must be multiples of 32",
                self.dim,
                self.hidden_dim,
                self.q_dim()
            ));
        }
        if self.n_heads == 0 || self.n_kv_heads == 0 || !self.n_heads.is_multiple_of(self.n_kv_heads) {
            return fail(format!("{} heads over {} kv heads", self.n_heads, self.n_kv_heads));
        }
        if self.head_dim == 0 || !self.head_dim.is_multiple_of(2) || self.head_dim > 1024 {
            return fail(format!("head_dim {}", self.head_dim));
        }
        if !self.rope_dims.is_multiple_of(2) || self.rope_dims > self.head_dim {
            return fail(format!("rope dims {} for head_dim {}", self.rope_dims, self.head_dim));
        }
        // The RoPE table is [context][rope_dims/2]; bound it (64 MiB per half).
        if self.context_length == 0 || self.context_length * (self.rope_dims / 2).max(1) > 1 << 24 {
            return fail(format!("context length {}", self.context_length));
        }
        if !(self.rope_base.is_finite() && self.rope_base > 1.0) {
            return fail(format!("rope base {}", self.rope_base));
        }
        if !(self.norm_eps.is_finite() && self.norm_eps >= 0.0) {
            return fail(format!("norm eps {}", self.norm_eps));
        }
        for t in [self.bos_token, self.eos_token].into_iter().flatten() {
            if t as usize >= self.vocab_size {
                return fail(format!("special token {t} outside the vocabulary"));
            }
        }
        Ok(())
    }
}
