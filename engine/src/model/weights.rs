//! Weight matrices in the layouts the kernels read, decoded from GGML/
//! safetensors bytes. F16/BF16 are widened to f32 exactly at load.

use half::f16;

use crate::error::{Error, Result};
use crate::gguf::GgmlType;

/// A `[rows][cols]` matrix (rows = outputs, cols = the reduced axis).
#[derive(Clone)]
pub enum Weight {
    F32 {
        rows: usize,
        cols: usize,
        /// `[rows][cols]`
        data: Vec<f32>,
    },
    Q8_0 {
        rows: usize,
        cols: usize,
        /// `[rows][cols/32]` block scales.
        d: Vec<f32>,
        /// `[rows][cols]`
        q: Vec<i8>,
    },
    Q4_1 {
        rows: usize,
        cols: usize,
        /// `[rows][cols/32]` block scales.
        d: Vec<f32>,
        /// `[rows][cols/32]` block minimums.
        m: Vec<f32>,
        /// `[rows][cols/32][16]`: byte j holds element j (low nibble) and
        /// element j+16 (high nibble) of its block, as in GGML.
        qs: Vec<u8>,
    },
}

impl std::fmt::Debug for Weight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}x{}]", self.type_name(), self.rows(), self.cols())
    }
}

impl Weight {
    pub fn rows(&self) -> usize {
        match *self {
            Weight::F32 { rows, .. } | Weight::Q8_0 { rows, .. } | Weight::Q4_1 { rows, .. } => rows,
        }
    }

    pub fn cols(&self) -> usize {
        match *self {
            Weight::F32 { cols, .. } | Weight::Q8_0 { cols, .. } | Weight::Q4_1 { cols, .. } => cols,
        }
    }

    pub fn is_quantized(&self) -> bool {
        !matches!(self, Weight::F32 { .. })
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Weight::F32 { .. } => "F32",
            Weight::Q8_0 { .. } => "Q8_0",
            Weight::Q4_1 { .. } => "Q4_1",
        }
    }

    /// Row `r` dequantized into `out` (Q8_0: d*q; Q4_1: d*q + m). The
    /// caller guarantees `r < rows` and `out.len() == cols`.
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        match self {
            Weight::F32 { cols, data, .. } => out.copy_from_slice(&data[r * cols..(r + 1) * cols]),
            Weight::Q8_0 { cols, d, q, .. } => {
                let nb = cols / 32;
                let q = &q[r * cols..(r + 1) * cols];
                for (b, (o, qb)) in out.chunks_exact_mut(32).zip(q.chunks_exact(32)).enumerate() {
                    let db = d[r * nb + b];
                    for (x, &v) in o.iter_mut().zip(qb) {
                        *x = db * v as f32;
                    }
                }
            }
            Weight::Q4_1 { cols, d, m, qs, .. } => {
                let nb = cols / 32;
                let qs = &qs[r * cols / 2..(r + 1) * cols / 2];
                for (b, (o, qb)) in out.chunks_exact_mut(32).zip(qs.chunks_exact(16)).enumerate() {
                    let (db, mb) = (d[r * nb + b], m[r * nb + b]);
                    for (j, &byte) in qb.iter().enumerate() {
                        o[j] = db * (byte & 0x0f) as f32 + mb;
                        o[j + 16] = db * (byte >> 4) as f32 + mb;
                    }
                }
            }
        }
    }

    /// Decodes a GGML-typed `[rows][cols]` tensor. `bytes` must be exactly the
    /// tensor's size (the container readers check this).
    pub fn from_ggml(name: &str, ty: GgmlType, rows: usize, cols: usize, bytes: &[u8]) -> Result<Self> {
        let n = rows.checked_mul(cols).ok_or_else(|| Error::corrupt(format!("{name}: size overflows")))?;
        let unsupported = || Error::UnsupportedTensorType { name: name.to_owned(), ty: ty.to_string() };
        let expect = ty.bytes_for(n as u64).ok_or_else(unsupported)?;
        if bytes.len() as u64 != expect {
            return Err(Error::corrupt(format!("{name}: {} bytes for {rows}x{cols} {ty}", bytes.len())));
        }
        if matches!(ty, GgmlType::Q8_0 | GgmlType::Q4_1) && !cols.is_multiple_of(32) {
            return Err(Error::corrupt(format!("{name}: {cols} columns is not whole blocks")));
        }
        Ok(match ty {
            GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => {
                Weight::F32 { rows, cols, data: decode_floats(ty, bytes).ok_or_else(unsupported)? }
            }
            GgmlType::Q8_0 => {
                let mut d = Vec::with_capacity(n / 32);
                let mut q = Vec::with_capacity(n);
                for blk in bytes.chunks_exact(34) {
                    d.push(f16::from_le_bytes([blk[0], blk[1]]).to_f32());
                    q.extend(blk[2..].iter().map(|&b| b as i8));
                }
                Weight::Q8_0 { rows, cols, d, q }
            }
            GgmlType::Q4_1 => {
                let mut d = Vec::with_capacity(n / 32);
                let mut m = Vec::with_capacity(n / 32);
                let mut qs = Vec::with_capacity(n / 2);
                for blk in bytes.chunks_exact(20) {
                    d.push(f16::from_le_bytes([blk[0], blk[1]]).to_f32());
                    m.push(f16::from_le_bytes([blk[2], blk[3]]).to_f32());
                    qs.extend_from_slice(&blk[4..]);
                }
                Weight::Q4_1 { rows, cols, d, m, qs }
            }
            GgmlType::Q4_0 | GgmlType::Other(_) => return Err(unsupported()),
        })
    }
}

/// F32/F16/BF16 little-endian bytes to f32 (exact widening), or None for
/// other types.
pub fn decode_floats(ty: GgmlType, bytes: &[u8]) -> Option<Vec<f32>> {
    match ty {
        GgmlType::F32 => Some(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()),
        GgmlType::F16 => Some(bytes.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32()).collect()),
        GgmlType::BF16 => Some(
            bytes.chunks_exact(2).map(|c| f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16)).collect(),
        ),
        _ => None,
    }
}
