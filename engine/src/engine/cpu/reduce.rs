//! The R32 reduction (engine rule 1) on the CPU. Written as plain loops over
//! a `[f32; 32]` lane array so the compiler may keep lanes in SIMD registers
//! of any width; each lane's sequence of operations, and the final tree,
//! are fixed by the source, so the bits are the same with SSE2 or AVX2.

pub const LANES: usize = 32;

/// Folds the 32 lanes: `acc[l] += acc[l + w]` for w = 16, 8, 4, 2, 1.
#[inline(always)]
pub fn tree(acc: &mut [f32; LANES]) -> f32 {
    let mut w = LANES / 2;
    while w > 0 {
        for l in 0..w {
            acc[l] += acc[l + w];
        }
        w /= 2;
    }
    acc[0]
}

/// R32 of the products `a[i] * b[i]` (the shorter length wins).
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ca.remainder().iter().zip(cb.remainder()).enumerate() {
        acc[l] += x * y;
    }
    tree(&mut acc)
}

/// R32 of `x[i] * x[i]`.
#[inline(always)]
pub fn sum_squares(x: &[f32]) -> f32 {
    dot(x, x)
}

/// R32 of `x[i]`.
#[inline(always)]
pub fn sum(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut cx = x.chunks_exact(LANES);
    for c in &mut cx {
        for l in 0..LANES {
            acc[l] += c[l];
        }
    }
    for (l, v) in cx.remainder().iter().enumerate() {
        acc[l] += v;
    }
    tree(&mut acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule written out literally, one term at a time.
    fn reference(terms: &[f32]) -> f32 {
        let mut acc = [0.0f32; 32];
        for (i, t) in terms.iter().enumerate() {
            acc[i % 32] += t;
        }
        for w in [16, 8, 4, 2, 1] {
            for l in 0..w {
                acc[l] += acc[l + w];
            }
        }
        acc[0]
    }

    #[test]
    fn matches_the_written_rule() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 1e3
        };
        for n in [0, 1, 5, 31, 32, 33, 64, 100, 577, 1536] {
            let a: Vec<f32> = (0..n).map(|_| next()).collect();
            let b: Vec<f32> = (0..n).map(|_| next()).collect();
            let prods: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
            assert_eq!(dot(&a, &b).to_bits(), reference(&prods).to_bits(), "dot n={n}");
            assert_eq!(sum(&a).to_bits(), reference(&a).to_bits(), "sum n={n}");
        }
    }
}
