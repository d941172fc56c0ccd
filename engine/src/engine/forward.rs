//! The Llama forward pass, read top to bottom like llama2.c's `forward()`.
//! It runs M consecutive tokens (a prefill chunk, or one decode token) at
//! positions `kv.len ..`, appends their keys/values to the cache, records
//! one trace leaf per (position, layer), and returns logits for the rows
//! asked for. Every op is row-exact (engine rule 6), so splitting a prompt
//! into chunks of any size gives the same bits.

use super::{AttnShape, Backend, KvCache, Q8Acts, Weight, Weights};
use crate::commit::Hash;
use crate::error::{Error, Result};

/// Quantizes `x` for the matmuls that follow, if any of their weights are
/// quantized (F32 weights read `x` directly).
fn prepare(be: &dyn Backend, x: &[f32], cols: usize, ws: &[&Weight], xq: &mut Q8Acts) -> Result<()> {
    if ws.iter().any(|w| w.is_quantized()) {
        be.quantize_q8(x, cols, xq)?;
    }
    Ok(())
}

/// Runs `tokens` and returns logits `[tokens.len() - logits_from][vocab]`
/// for rows `logits_from..` (none if `logits_from >= tokens.len()`). Trace
/// leaves are appended position-major.
pub fn forward(
    model: &Weights,
    be: &dyn Backend,
    kv: &mut KvCache,
    tokens: &[u32],
    logits_from: usize,
    trace: Option<&mut Vec<Hash>>,
) -> Result<Vec<f32>> {
    let c = &model.config;
    let (dim, hidden, q_dim, kv_dim, hd) = (c.dim, c.hidden_dim, c.q_dim(), c.kv_dim(), c.head_dim);
    let m = tokens.len();
    let start = kv.len;
    if m == 0 {
        return Err(Error::EmptyPrompt);
    }
    if start + m > kv.capacity || start + m > model.rope.positions() {
        return Err(Error::ContextOverflow {
            prompt: start + m,
            max_new_tokens: 0,
            context_length: kv.capacity.min(model.rope.positions()),
        });
    }
    let logits_from = logits_from.min(m);
    if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= c.vocab_size) {
        return Err(Error::TokenOutOfRange { id: bad, vocab_size: c.vocab_size });
    }
    let positions: Vec<u32> = (start..start + m).map(|p| p as u32).collect();
    let shape = AttnShape { n_heads: c.n_heads, n_kv_heads: c.n_kv_heads, head_dim: hd };

    // ---- Buffers (M = tokens in this call) ----
    let mut x = vec![0.0f32; m * dim]; // [M][dim] residual stream
    let mut xb = vec![0.0f32; m * dim]; // [M][dim] normed input / block output
    let mut q = vec![0.0f32; m * q_dim]; // [M][n_heads*head_dim]
    let mut k = vec![0.0f32; m * kv_dim]; // [M][n_kv_heads*head_dim]
    let mut v = vec![0.0f32; m * kv_dim]; // [M][n_kv_heads*head_dim]
    let mut att = vec![0.0f32; m * q_dim]; // [M][n_heads*head_dim] attention output
    let mut hb = vec![0.0f32; m * hidden]; // [M][hidden] gate, then silu(gate)*up
    let mut hb2 = vec![0.0f32; m * hidden]; // [M][hidden] up
    let mut xq = Q8Acts::default(); // the current matmul input, quantized
    let mut leaves: Vec<Vec<Hash>> = Vec::new(); // [layer][M]

    // ---- Token embedding ----
    be.embed(&model.token_embd, tokens, &mut x)?;

    for (l, layer) in model.layers.iter().enumerate() {
        // ---- Attention: x += Wo · attn(rope(Wq xn), rope(Wk xn), Wv xn) ----
        be.rmsnorm(&x, &layer.attn_norm, c.norm_eps, &mut xb)?;
        prepare(be, &xb, dim, &[&layer.wq, &layer.wk, &layer.wv], &mut xq)?;
        // Hot spot: the seven matmuls per layer are ~95% of the time.
        be.matmul(&xb, &xq, &layer.wq, &mut q)?;
        be.matmul(&xb, &xq, &layer.wk, &mut k)?;
        be.matmul(&xb, &xq, &layer.wv, &mut v)?;
        be.rope(&mut q, hd, &positions, &model.rope)?;
        be.rope(&mut k, hd, &positions, &model.rope)?;

        let (k_cache, v_cache) = (&mut kv.k[l], &mut kv.v[l]);
        k_cache[start * kv_dim..(start + m) * kv_dim].copy_from_slice(&k);
        v_cache[start * kv_dim..(start + m) * kv_dim].copy_from_slice(&v);
        let filled = (start + m) * kv_dim;
        be.attention(&q, &k_cache[..filled], &v_cache[..filled], &positions, shape, &mut att)?;

        prepare(be, &att, q_dim, &[&layer.wo], &mut xq)?;
        be.matmul(&att, &xq, &layer.wo, &mut xb)?;
        be.add(&mut x, &xb)?;

        // ---- Feed-forward: x += W2 · (silu(W1 xn) * W3 xn) ----
        be.rmsnorm(&x, &layer.ffn_norm, c.norm_eps, &mut xb)?;
        prepare(be, &xb, dim, &[&layer.w_gate, &layer.w_up], &mut xq)?;
        be.matmul(&xb, &xq, &layer.w_gate, &mut hb)?;
        be.matmul(&xb, &xq, &layer.w_up, &mut hb2)?;
        be.silu_mul(&mut hb, &hb2)?;
        prepare(be, &hb, hidden, &[&layer.w_down], &mut xq)?;
        be.matmul(&hb, &xq, &layer.w_down, &mut xb)?;
        be.add(&mut x, &xb)?;

        // ---- Trace: one leaf per (position, layer) ----
        if trace.is_some() {
            leaves.push(be.hash_rows(&x, dim, &positions, l as u32)?);
        }
    }
    kv.len = start + m;

    if let Some(trace) = trace {
        for row in 0..m {
            trace.extend(leaves.iter().map(|layer_leaves| layer_leaves[row]));
        }
    }

    // ---- Final norm and LM head, only for the rows that need logits ----
    let rows = m - logits_from;
    if rows == 0 {
        return Ok(Vec::new());
    }
    let xs = &x[logits_from * dim..];
    let mut xn = vec![0.0f32; rows * dim]; // [rows][dim]
    be.rmsnorm(xs, &model.output_norm, c.norm_eps, &mut xn)?;
    let head = model.lm_head();
    prepare(be, &xn, dim, &[head], &mut xq)?;
    let mut logits = vec![0.0f32; rows * c.vocab_size]; // [rows][vocab]
    be.matmul(&xn, &xq, head, &mut logits)?;
    Ok(logits)
}
