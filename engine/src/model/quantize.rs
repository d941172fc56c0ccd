//! Weight quantizers (GGML reference rounding), used to write the Q8_0 and
//! Q4_1 variants of the seeded test models. Not on the inference path.

use half::f16;

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
