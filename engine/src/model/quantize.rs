//! Weight quantizers (GGML reference rounding), used to write the Q8_0 and
//! Q4_1 variants of the seeded test models, and [`convert_gguf`], which
//! writes the F32 (dequantized) or Q8_0 copy of a GGUF that the bench's
//! accuracy figures compare against. Not on the inference path.

use half::f16;

use super::decode_matrix;
use crate::error::{Error, Result};
use crate::gguf::{GgmlType, GgufWriter, Value};

/// The same model with every matrix re-encoded as `to` (F32: the exact
/// dequantized values; Q8_0: those values quantized by [`quantize_q8_0`]);
/// vectors (norms) stay F32, the metadata is kept (but `general.alignment`,
/// which the writer sets, and `general.file_type`, which would be wrong).
pub fn convert_gguf(bytes: &[u8], to: GgmlType) -> Result<Vec<u8>> {
    if !matches!(to, GgmlType::F32 | GgmlType::Q8_0) {
        return Err(Error::invalid(format!("convert_gguf writes F32 or Q8_0, not {to}")));
    }
    let g = crate::gguf::parse(bytes)?;
    let mut w = GgufWriter::new();
    for (k, v) in &g.metadata {
        if k != "general.alignment" && k != "general.file_type" {
            w.meta(k, v.clone());
        }
    }
    w.meta("general.file_type", Value::U32(if to == GgmlType::F32 { 0 } else { 7 }));
    for info in &g.tensors {
        let raw = g.tensor_bytes(info).ok_or_else(|| Error::corrupt(format!("{}: out of bounds", info.name)))?;
        let (cols, rows) = match info.dims.as_slice() {
            [c, r] => (*c as usize, *r as usize),
            [c] => (*c as usize, 1),
            _ => return Err(Error::invalid(format!("{}: {} dims", info.name, info.dims.len()))),
        };
        let m = decode_matrix(&info.name, info.ty, rows, cols, raw)?;
        let mut f = vec![0.0f32; rows * cols];
        for (r, row) in f.chunks_exact_mut(cols).enumerate() {
            m.dequantize_row(r, row);
        }
        let (ty, data) = if to == GgmlType::Q8_0 && info.dims.len() == 2 && cols % 32 == 0 {
            (GgmlType::Q8_0, quantize_q8_0(&f))
        } else {
            (GgmlType::F32, f.iter().flat_map(|v| v.to_le_bytes()).collect())
        };
        w.tensor(&info.name, &info.dims, ty, data);
    }
    Ok(w.to_bytes())
}

/// GGML Q8_0 blocks: f16 d = amax/127, then round(x/d) per element.
pub fn quantize_q8_0(x: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.len() / 32 * 34);
    for blk in x.chunks_exact(32) {
        let amax = blk.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        out.extend(blk.iter().map(|v| ((v * id).round() as i8) as u8));
    }
    out
}

/// GGML Q4_1 blocks: f16 d = (max-min)/15 and m = min, then
/// min(15, trunc((x-min)/d + 0.5)) per element, two per byte.
pub fn quantize_q4_1(x: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.len() / 32 * 20);
    for blk in x.chunks_exact(32) {
        let min = blk.iter().fold(f32::INFINITY, |m, &v| m.min(v));
        let max = blk.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let d = (max - min) / 15.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        out.extend_from_slice(&f16::from_f32(min).to_le_bytes());
        for j in 0..16 {
            let q0 = (((blk[j] - min) * id + 0.5) as u8).min(15);
            let q1 = (((blk[j + 16] - min) * id + 0.5) as u8).min(15);
            out.push(q0 | (q1 << 4));
        }
    }
    out
}
