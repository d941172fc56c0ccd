//! GGML-typed tensor bytes (from GGUF, or safetensors' float types) to the
//! engine's [`Weight`] layouts. F16/BF16 are widened to f32 exactly.

use half::f16;

use crate::engine::Weight;
use crate::error::{Error, Result};
use crate::gguf::GgmlType;

/// Decodes a GGML-typed `[rows][cols]` tensor into the kernels' layout.
/// `bytes` must be exactly the tensor's size (checked).
pub fn decode_matrix(name: &str, ty: GgmlType, rows: usize, cols: usize, bytes: &[u8]) -> Result<Weight> {
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
