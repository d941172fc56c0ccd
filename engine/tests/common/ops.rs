//! One test body per backend op: runs the op on the CPU backend (the
//! reference) and on another backend over a spread of shapes and values —
//! remainders of the 32-lane reductions, batches that are not multiples of
//! the kernels' row groups, subnormals, zeros, ties, huge and tiny inputs —
//! and compares the outputs bit for bit. Used with the emulated GPU
//! (tests/cuda_emulated.rs) and the real one (tests/cuda_gpu.rs).

use spotcheck_engine::Backend;
use spotcheck_engine::engine::Weight;
use spotcheck_engine::engine::{AttnShape, Q8Acts, RopeTable};
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::model::decode_matrix;
use spotcheck_engine::model::quantize::{quantize_q4_1, quantize_q8_0};

/// Deterministic values in [-scale, scale).
pub fn noise(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 23) as f32 - 1.0) * scale
        })
        .collect()
}

fn assert_bits(want: &[f32], got: &[f32], what: &str) {
    assert_eq!(want.len(), got.len(), "{what}: lengths");
    for (i, (a, b)) in want.iter().zip(got).enumerate() {
        assert!(
            a.to_bits() == b.to_bits(),
            "{what}: element {i}: cpu {a:e} ({:#010x}) vs {b:e} ({:#010x})",
            a.to_bits(),
            b.to_bits()
        );
    }
}

/// Values that stress the element-wise math: zeros of both signs,
/// subnormals, the ends of exp's range, large magnitudes.
pub fn special_values() -> Vec<f32> {
    let mut v = vec![
        0.0, -0.0, 1e-45, -1e-45, 1e-40, -3e-39, 1.17e-38, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 15.0, -15.0, 87.0, -87.0,
        88.7, 88.8, -88.8, -103.9, -104.0, -110.0, 100.0, -100.0, 1e10, -1e10, 1e30, -1e30, 3.0e38, -3.0e38,
    ];
    v.extend(noise(480, 3, 20.0));
    v.extend(noise(500, 4, 120.0));
    v
}

fn weight(ty: GgmlType, rows: usize, cols: usize, seed: u64) -> Weight {
    let raw = noise(rows * cols, seed, 1.0);
    let bytes: Vec<u8> = match ty {
        GgmlType::Q8_0 => quantize_q8_0(&raw),
        GgmlType::Q4_1 => quantize_q4_1(&raw),
        _ => return Weight::F32 { rows, cols, data: raw },
    };
    decode_matrix("w", ty, rows, cols, &bytes).expect("weight")
}

pub fn op_embed(cpu: &dyn Backend, other: &dyn Backend) {
    for ty in [GgmlType::F32, GgmlType::Q8_0, GgmlType::Q4_1] {
        for cols in [32, 64, 576] {
            let table = weight(ty, 37, cols, cols as u64);
            let tokens = [0u32, 36, 5, 5, 17];
            let mut want = vec![0.0f32; tokens.len() * cols];
            let mut got = vec![1.0f32; tokens.len() * cols];
            cpu.embed(&table, &tokens, &mut want).unwrap();
            other.embed(&table, &tokens, &mut got).unwrap();
            assert_bits(&want, &got, &format!("embed {ty} cols={cols}"));
        }
    }
}

pub fn op_rmsnorm(cpu: &dyn Backend, other: &dyn Backend) {
    for (n, rows) in [(32, 1), (64, 3), (100, 2), (576, 9), (1536, 1)] {
        let mut x = noise(n * rows, n as u64, 3.0);
        x[0] = 1e-40;
        let w = noise(n, 7, 2.0);
        for eps in [1e-5f32, 1e-6, 0.0] {
            let mut want = vec![0.0; x.len()];
            let mut got = vec![0.0; x.len()];
            cpu.rmsnorm(&x, &w, eps, &mut want).unwrap();
            other.rmsnorm(&x, &w, eps, &mut got).unwrap();
            assert_bits(&want, &got, &format!("rmsnorm n={n} rows={rows} eps={eps}"));
        }
    }
}

fn quantized(be: &dyn Backend, x: &[f32], cols: usize) -> Q8Acts {
    let mut q = Q8Acts::default();
    be.quantize_q8(x, cols, &mut q).unwrap();
    q
}

pub fn op_quantize_q8(cpu: &dyn Backend, other: &dyn Backend) {
    for (cols, rows) in [(32, 1), (96, 3), (576, 2), (1536, 5)] {
        let mut x = noise(cols * rows, cols as u64 + 1, 5.0);
        // An all-zero block, ties at .5 after scaling, tiny and huge values.
        for v in &mut x[..32] {
            *v = 0.0;
        }
        if cols >= 64 {
            x[32] = 127.0;
            x[33] = 0.5;
            x[34] = -0.5;
            x[35] = 1.5;
            x[36] = -2.5;
            x[37] = 1e-41;
            x[38] = -0.0;
        }
        let (a, b) = (quantized(cpu, &x, cols), quantized(other, &x, cols));
        assert_eq!(a.cols, b.cols);
        assert_eq!(a.q, b.q, "quantize q cols={cols} rows={rows}");
        assert_bits(&a.d, &b.d, &format!("quantize d cols={cols}"));
        assert_bits(&a.s, &b.s, &format!("quantize s cols={cols}"));
    }
}

pub fn op_matmul(cpu: &dyn Backend, other: &dyn Backend) {
    for ty in [GgmlType::F32, GgmlType::Q8_0, GgmlType::Q4_1] {
        let ks: &[usize] = if ty == GgmlType::F32 { &[7, 32, 100, 600] } else { &[32, 160, 1600] };
        for &k in ks {
            for (n_out, m_rows) in [(13, 1), (8, 5), (33, 9), (3, 4)] {
                let w = weight(ty, n_out, k, (k * 31 + n_out) as u64);
                let x = noise(m_rows * k, (k + m_rows) as u64, 2.0);
                let xq = if k % 32 == 0 { quantized(cpu, &x, k) } else { Q8Acts::default() };
                let mut want = vec![0.0; m_rows * n_out];
                let mut got = vec![0.0; m_rows * n_out];
                cpu.matmul(&x, &xq, &w, &mut want).unwrap();
                other.matmul(&x, &xq, &w, &mut got).unwrap();
                assert_bits(&want, &got, &format!("matmul {ty} k={k} n={n_out} m={m_rows}"));
            }
        }
    }
}

pub fn op_rope(cpu: &dyn Backend, other: &dyn Backend) {
    for (head_dim, n_rot, heads) in [(16, 16, 4), (64, 64, 3), (64, 32, 2), (48, 48, 1)] {
        let table = RopeTable::new(n_rot, 10000.0, 200);
        let positions = [0u32, 1, 57, 199, 3];
        let x = noise(positions.len() * heads * head_dim, head_dim as u64, 4.0);
        let (mut want, mut got) = (x.clone(), x);
        cpu.rope(&mut want, head_dim, &positions, &table).unwrap();
        other.rope(&mut got, head_dim, &positions, &table).unwrap();
        assert_bits(&want, &got, &format!("rope head_dim={head_dim} n_rot={n_rot}"));
    }
}

pub fn op_attention(cpu: &dyn Backend, other: &dyn Backend) {
    let shapes = [
        AttnShape { n_heads: 4, n_kv_heads: 2, head_dim: 16 },
        AttnShape { n_heads: 9, n_kv_heads: 3, head_dim: 64 },
        AttnShape { n_heads: 2, n_kv_heads: 2, head_dim: 48 },
    ];
    for shape in shapes {
        for positions in [vec![0u32], vec![40], vec![3, 4, 5, 6, 7], vec![70, 0, 31, 32, 33]] {
            let kv_dim = shape.n_kv_heads * shape.head_dim;
            let q_dim = shape.n_heads * shape.head_dim;
            let cached = *positions.iter().max().unwrap() as usize + 1;
            let q = noise(positions.len() * q_dim, cached as u64, 3.0);
            let k = noise(cached * kv_dim, 11, 3.0);
            let v = noise(cached * kv_dim, 12, 2.0);
            let mut want = vec![0.0; q.len()];
            let mut got = vec![0.0; q.len()];
            cpu.attention(&q, &k, &v, &positions, shape, &mut want).unwrap();
            other.attention(&q, &k, &v, &positions, shape, &mut got).unwrap();
            assert_bits(&want, &got, &format!("attention {shape:?} positions {positions:?}"));
        }
    }
}

pub fn op_silu_mul(cpu: &dyn Backend, other: &dyn Backend) {
    // The special values, then a dense sweep of exp's whole range (every
    // constant of the polynomial decides some of these bits).
    let mut gate = special_values();
    gate.extend((0..200_000).map(|i| -105.0 + i as f32 * (200.0 / 200_000.0)));
    gate.extend(noise(100_000, 8, 2.0));
    let up = noise(gate.len(), 5, 3.0);
    let (mut want, mut got) = (gate.clone(), gate);
    cpu.silu_mul(&mut want, &up).unwrap();
    other.silu_mul(&mut got, &up).unwrap();
    assert_bits(&want, &got, "silu_mul");
}

pub fn op_add(cpu: &dyn Backend, other: &dyn Backend) {
    let x = special_values();
    let mut y = noise(x.len(), 6, 1.0);
    y[0] = -0.0;
    y[1] = 0.0;
    let (mut want, mut got) = (x.clone(), x);
    cpu.add(&mut want, &y).unwrap();
    other.add(&mut got, &y).unwrap();
    assert_bits(&want, &got, "add");
}

pub fn op_argmax(cpu: &dyn Backend, other: &dyn Backend) {
    let nan = f32::NAN;
    let ninf = f32::NEG_INFINITY;
    let mut big = noise(49152, 9, 10.0);
    big[40000] = 11.0;
    big[45000] = 11.0;
    let mut late = vec![0.0f32; 3000];
    late[2999] = 1.0;
    let cases: Vec<Vec<f32>> = vec![
        vec![1.0, 3.0, 3.0, 2.0],
        vec![nan, 0.5, nan, 0.5],
        vec![nan, nan],
        vec![-0.0, 0.0],
        vec![0.0, -0.0],
        vec![ninf, ninf],
        vec![nan, ninf, -1e38],
        vec![f32::INFINITY, nan, f32::INFINITY],
        big,
        late,
        noise(1025, 10, 1.0),
    ];
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(cpu.argmax(c).unwrap(), other.argmax(c).unwrap(), "argmax case {i}");
    }
}

pub fn op_hash_rows(cpu: &dyn Backend, other: &dyn Backend) {
    for (dim, rows) in [(64, 1), (576, 3), (1, 2), (13, 70)] {
        let x = noise(dim * rows, dim as u64, 5.0);
        let positions: Vec<u32> = (0..rows as u32).map(|p| p * 7 + 1).collect();
        assert_eq!(
            cpu.hash_rows(&x, dim, &positions, 29).unwrap(),
            other.hash_rows(&x, dim, &positions, 29).unwrap(),
            "hash_rows dim={dim} rows={rows}"
        );
    }
}
