//! What a failed re-execution names: the kind of the first disagreement
//! between a claim and the recomputation, and where it is. A leaf module, so
//! that both [`crate::verify`], which finds it, and [`crate::Error`], which
//! carries it, can use it without importing each other.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DivergenceKind {
    /// A claimed trace leaf differs from the recomputed one.
    Activation,
    /// The claimed token is not the argmax of the previous position.
    NotArgmax,
    /// Tokens follow an end-of-sequence token.
    ContinuesAfterStop,
    /// The output stops before EOS and before the budget.
    Truncated,
    /// More tokens than the budget allows.
    OverBudget,
    /// Tokens check out but the claimed output hash doesn't.
    OutputHash,
    /// Tokens check out but the claimed trace root doesn't.
    TraceRoot,
    /// The claimed trace doesn't have one leaf per (position, layer); no
    /// leaf is compared (`token_index` 0, no position or layer).
    TraceLength,
}

/// The first point where a claim and the re-execution disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub kind: DivergenceKind,
    /// Index (into the generated tokens) of the first token affected.
    pub token_index: usize,
    /// Sequence position and layer of the first differing trace leaf.
    pub position: Option<u32>,
    pub layer: Option<u32>,
    /// The token re-execution chose at `token_index`, if known.
    pub expected: Option<u32>,
    /// The claimed token at `token_index`, if any.
    pub claimed: Option<u32>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} at generated token {}", self.kind, self.token_index)?;
        if let (Some(p), Some(l)) = (self.position, self.layer) {
            write!(f, " (position {p}, layer {l})")?;
        }
        if let Some(e) = self.expected {
            write!(f, ", expected token {e}")?;
        }
        if let Some(c) = self.claimed {
            write!(f, ", claimed {c}")?;
        }
        Ok(())
    }
}
