//! Commitments to a generation. All integers are little-endian; every hash
//! is SHA-256 and starts with a NUL-terminated ASCII domain tag, so no two
//! kinds of hash can collide.
//!
//! | hash | bytes hashed |
//! |---|---|
//! | model id | the weights file, whole (no tag: it is a file digest) |
//! | prompt hash | `"spotcheck/prompt/v1\0"`, u32 n, n × u32 token id |
//! | output hash | `"spotcheck/output/v2\0"`, model id (32), prompt hash (32), u32 g, g × u32 generated token id |
//! | trace leaf | `"spotcheck/trace-leaf/v2\0"`, u32 position, u32 layer, u32 dim, dim × f32 hidden state bits |
//! | trace node | `"spotcheck/trace-node/v1\0"`, left (32), right (32) |
//! | empty leaf | `"spotcheck/trace-empty/v1\0"` (padding) |
//! | trace root | `"spotcheck/trace-root/v1\0"`, u32 positions, u32 layers, Merkle root (32) |
//!
//! **Versions.** The output hash and trace leaves commit to what the
//! engine's arithmetic produced, so their tags carry the engine version
//! ([`ENGINE_VERSION`]): v2 changed Q4_1's offset term (engine rule 2) and
//! with it every Q4_1 output and hidden state; a v1 commitment can never
//! match a v2 re-execution by accident. The prompt hash and the tree's
//! shape (node, empty leaf, root) do not depend on the arithmetic and stay v1.
//!
//! **Trace.** A leaf is the hidden state (residual stream) after layer `l`
//! at position `p`. Positions are those that were run through the model:
//! every prompt position and every generated token except the last (which
//! is never fed back), i.e. `p = 0 .. prompt + generated - 2`; prompt
//! positions are included so a dispute can also blame the prompt pass.
//! Leaves are ordered position-major (`index = p * layers + l`), padded
//! with the empty leaf to a power of two, and folded pairwise into a binary
//! Merkle tree; the trace root binds the leaf count's shape. An
//! [`InclusionProof`] lists the siblings from leaf to root.

mod merkle;

use sha2::{Digest, Sha256};

pub use merkle::{InclusionProof, merkle_root, prove, verify_proof};

pub type Hash = [u8; 32];

/// The arithmetic the output and trace commitments are computed by (the
/// determinism rules of [`crate::engine`]); bumped with every change to it.
pub const ENGINE_VERSION: &str = "spotcheck/engine/v2";

pub(crate) const PROMPT_TAG: &[u8] = b"spotcheck/prompt/v1\0";
pub(crate) const OUTPUT_TAG: &[u8] = b"spotcheck/output/v2\0";
pub(crate) const LEAF_TAG: &[u8] = b"spotcheck/trace-leaf/v2\0";
pub(crate) const NODE_TAG: &[u8] = b"spotcheck/trace-node/v1\0";
pub(crate) const EMPTY_TAG: &[u8] = b"spotcheck/trace-empty/v1\0";
pub(crate) const ROOT_TAG: &[u8] = b"spotcheck/trace-root/v1\0";

fn ids_hash(tag: &[u8], prefix: &[&[u8]], ids: &[u32]) -> Hash {
    let mut h = Sha256::new();
    h.update(tag);
    for p in prefix {
        h.update(p);
    }
    h.update((ids.len() as u32).to_le_bytes());
    for id in ids {
        h.update(id.to_le_bytes());
    }
    h.finalize().into()
}

pub fn prompt_hash(prompt: &[u32]) -> Hash {
    ids_hash(PROMPT_TAG, &[], prompt)
}

pub fn output_hash(model_id: &Hash, prompt_hash: &Hash, generated: &[u32]) -> Hash {
    ids_hash(OUTPUT_TAG, &[model_id, prompt_hash], generated)
}

pub fn leaf_hash(position: u32, layer: u32, hidden: &[f32]) -> Hash {
    let mut h = Sha256::new();
    h.update(LEAF_TAG);
    h.update(position.to_le_bytes());
    h.update(layer.to_le_bytes());
    h.update((hidden.len() as u32).to_le_bytes());
    let mut buf = Vec::with_capacity(hidden.len() * 4);
    for v in hidden {
        buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    h.update(&buf);
    h.finalize().into()
}

/// Binds the Merkle root to the trace's shape.
pub fn trace_root(positions: u32, layers: u32, leaves: &[Hash]) -> Hash {
    let mut h = Sha256::new();
    h.update(ROOT_TAG);
    h.update(positions.to_le_bytes());
    h.update(layers.to_le_bytes());
    h.update(merkle_root(leaves));
    h.finalize().into()
}

/// The four commitments of one generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commitments {
    pub model_id: Hash,
    pub prompt_hash: Hash,
    pub output_hash: Hash,
    pub trace_root: Hash,
}

/// The per-(position, layer) leaves of one run, position-major.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub layers: u32,
    pub leaves: Vec<Hash>,
}

impl Trace {
    pub fn positions(&self) -> u32 {
        (self.leaves.len() / self.layers.max(1) as usize) as u32
    }

    pub fn root(&self) -> Hash {
        trace_root(self.positions(), self.layers, &self.leaves)
    }

    pub fn leaf(&self, position: u32, layer: u32) -> Option<&Hash> {
        if layer >= self.layers {
            return None;
        }
        self.leaves.get(position as usize * self.layers as usize + layer as usize)
    }

    /// Proof that leaf (position, layer) is in this trace's Merkle tree.
    pub fn prove(&self, position: u32, layer: u32) -> Option<InclusionProof> {
        if layer >= self.layers {
            return None;
        }
        prove(&self.leaves, position as usize * self.layers as usize + layer as usize)
    }
}

/// Lowercase hex, for goldens and logs.
pub fn hex(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}
