//! The RoPE rotation table, computed once per model on the host from the
//! engine's own f64 routines (rule 4), so every backend reads the same f32s.

use super::math::{SinCos, exp_f64, ln_f64};

#[derive(Clone)]
pub struct RopeTable {
    /// Rotated dimensions per head (pairs = n_rot / 2).
    pub n_rot: usize,
    /// `[position][n_rot/2]` cos(pos * base^(-2j/n_rot)).
    pub cos: Vec<f32>,
    /// `[position][n_rot/2]` sin(pos * base^(-2j/n_rot)).
    pub sin: Vec<f32>,
}

impl std::fmt::Debug for RopeTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RopeTable[{} positions x {} dims]", self.positions(), self.n_rot)
    }
}

impl RopeTable {
    pub fn new(n_rot: usize, base: f32, positions: usize) -> Self {
        let half = n_rot / 2;
        let ln_base = ln_f64(base as f64);
        let freqs: Vec<f64> = (0..half).map(|j| exp_f64(-((2 * j) as f64 / n_rot as f64) * ln_base)).collect();
        let sc = SinCos::new();
        let mut cos = Vec::with_capacity(positions * half);
        let mut sin = Vec::with_capacity(positions * half);
        for pos in 0..positions {
            for f in &freqs {
                let (s, c) = sc.eval(pos as f64 * f);
                cos.push(c as f32);
                sin.push(s as f32);
            }
        }
        Self { n_rot, cos, sin }
    }

    pub fn positions(&self) -> usize {
        if self.n_rot < 2 { 0 } else { self.cos.len() / (self.n_rot / 2) }
    }
}
