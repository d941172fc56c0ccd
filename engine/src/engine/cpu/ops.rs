//! The small element-wise and per-row ops (engine rules 4, 5, 7). They are
//! cheap next to the matmuls, so they run on the calling thread.

use super::reduce;
use crate::engine::RopeTable;
use crate::engine::Weight;
use crate::engine::math::silu;

/// `out[m]` = table row `tokens[m]`, dequantized. Token ids were checked
/// against the vocabulary by the caller.
pub fn embed(table: &Weight, tokens: &[u32], out: &mut [f32]) {
    let dim = table.cols();
    for (row, &t) in out.chunks_exact_mut(dim).zip(tokens) {
        table.dequantize_row(t as usize, row);
    }
}

/// out = (x * (1 / sqrt(R32(x²) / n + eps))) * w, per row of n = w.len().
pub fn rmsnorm(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    let n = w.len();
    for (xr, or) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
        let mean = reduce::sum_squares(xr) / n as f32;
        let r = 1.0 / (mean + eps).sqrt();
        for ((o, &v), &g) in or.iter_mut().zip(xr).zip(w) {
            *o = (v * r) * g;
        }
    }
}

/// Rotates adjacent pairs `(x[2j], x[2j+1])` of each head by the table angle
/// of (position, j) — the GGUF/llama.cpp "normal" RoPE layout.
pub fn rope(x: &mut [f32], head_dim: usize, positions: &[u32], table: &RopeTable) {
    let half = table.n_rot / 2;
    if half == 0 {
        return;
    }
    let row_len = x.len() / positions.len().max(1);
    for (row, &pos) in x.chunks_exact_mut(row_len).zip(positions) {
        let base = pos as usize * half;
        let (cos, sin) = (&table.cos[base..base + half], &table.sin[base..base + half]);
        for head in row.chunks_exact_mut(head_dim) {
            for (j, pair) in head[..2 * half].chunks_exact_mut(2).enumerate() {
                let (x0, x1) = (pair[0], pair[1]);
                pair[0] = x0 * cos[j] - x1 * sin[j];
                pair[1] = x0 * sin[j] + x1 * cos[j];
            }
        }
    }
}

pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    for (g, &u) in gate.iter_mut().zip(up) {
        *g = silu(*g) * u;
    }
}

pub fn add(x: &mut [f32], y: &[f32]) {
    for (a, &b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// Lowest index of the maximum; NaN never wins; all-NaN gives 0.
pub fn argmax(v: &[f32]) -> u32 {
    let mut best = 0usize;
    let mut best_v = f32::NEG_INFINITY;
    for (i, &x) in v.iter().enumerate() {
        if x > best_v {
            best_v = x;
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_prefers_lowest_index() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.5, f32::NAN, 0.5]), 1);
        assert_eq!(argmax(&[f32::NAN, f32::NAN]), 0);
        assert_eq!(argmax(&[-0.0, 0.0]), 0);
        assert_eq!(argmax(&[f32::NEG_INFINITY, f32::NEG_INFINITY]), 0);
    }
}
