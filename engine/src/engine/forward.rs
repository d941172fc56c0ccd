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

/// The buffers of a forward pass, allocated on first use and reused by
/// every later call (llama2.c's `RunState`): a decode loop that keeps one
/// allocates nothing per token after the first. Contents between calls are
/// scratch; every buffer is fully written before it is read.
#[derive(Default)]
pub struct RunState {
    x: Vec<f32>,         // [M][dim] residual stream
    xb: Vec<f32>,        // [M][dim] normed input / block output
    q: Vec<f32>,         // [M][n_heads*head_dim]
    k: Vec<f32>,         // [M][n_kv_heads*head_dim]
    v: Vec<f32>,         // [M][n_kv_heads*head_dim]
    att: Vec<f32>,       // [M][n_heads*head_dim] attention output
    hb: Vec<f32>,        // [M][hidden] gate, then silu(gate)*up
    hb2: Vec<f32>,       // [M][hidden] up
    xq: Q8Acts,          // the current matmul input, quantized
    xn: Vec<f32>,        // [rows][dim] final-normed rows that need logits
    logits: Vec<f32>,    // [rows][vocab]
    positions: Vec<u32>, // [M]
    leaves: Vec<Hash>,   // [layer][M]
}

impl RunState {
    /// The logits of the last [`forward_into`] call, `[rows][vocab]`.
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }
}

/// Runs `tokens` and returns logits `[tokens.len() - logits_from][vocab]`
/// for rows `logits_from..` (none if `logits_from >= tokens.len()`). Trace
/// leaves are appended position-major. Allocates its buffers; a loop should
/// call [`forward_into`] with one [`RunState`].
pub fn forward(
    model: &Weights,
    be: &dyn Backend,
    kv: &mut KvCache,
    tokens: &[u32],
    logits_from: usize,
    trace: Option<&mut Vec<Hash>>,
) -> Result<Vec<f32>> {
    let mut st = RunState::default();
    forward_into(model, be, kv, tokens, logits_from, trace, &mut st)?;
    Ok(std::mem::take(&mut st.logits))
}

/// [`forward`] into `st`'s buffers; the logits are `st.logits()`.
pub fn forward_into(
    model: &Weights,
    be: &dyn Backend,
    kv: &mut KvCache,
    tokens: &[u32],
    logits_from: usize,
    trace: Option<&mut Vec<Hash>>,
    st: &mut RunState,
) -> Result<()> {
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
    let shape = AttnShape { n_heads: c.n_heads, n_kv_heads: c.n_kv_heads, head_dim: hd };

    // ---- Buffers (M = tokens in this call; shapes on RunState's fields) ----
    let RunState { x, xb, q, k, v, att, hb, hb2, xq, xn, logits, positions, leaves } = st;
    positions.clear();
    positions.extend((start..start + m).map(|p| p as u32));
    for (buf, len) in
        [(&mut *x, dim), (xb, dim), (q, q_dim), (k, kv_dim), (v, kv_dim), (att, q_dim), (hb, hidden), (hb2, hidden)]
    {
        buf.resize(m * len, 0.0);
    }
    if trace.is_some() {
        leaves.resize(model.layers.len() * m, [0; 32]);
    }

    // ---- Token embedding ----
    be.embed(&model.token_embd, tokens, x)?;

    for (l, layer) in model.layers.iter().enumerate() {
        // ---- Attention: x += Wo · attn(rope(Wq xn), rope(Wk xn), Wv xn) ----
        be.rmsnorm(x, &layer.attn_norm, c.norm_eps, xb)?;
        prepare(be, xb, dim, &[&layer.wq, &layer.wk, &layer.wv], xq)?;
        // Hot spot: the seven matmuls per layer are ~95% of the time.
        be.matmul(xb, xq, &layer.wq, q)?;
        be.matmul(xb, xq, &layer.wk, k)?;
        be.matmul(xb, xq, &layer.wv, v)?;
        be.rope(q, hd, positions, &model.rope)?;
        be.rope(k, hd, positions, &model.rope)?;

        let (k_cache, v_cache) = (&mut kv.k[l], &mut kv.v[l]);
        k_cache[start * kv_dim..(start + m) * kv_dim].copy_from_slice(k);
        v_cache[start * kv_dim..(start + m) * kv_dim].copy_from_slice(v);
        let filled = (start + m) * kv_dim;
        be.attention(q, &k_cache[..filled], &v_cache[..filled], positions, shape, att)?;

        prepare(be, att, q_dim, &[&layer.wo], xq)?;
        be.matmul(att, xq, &layer.wo, xb)?;
        be.add(x, xb)?;

        // ---- Feed-forward: x += W2 · (silu(W1 xn) * W3 xn) ----
        be.rmsnorm(x, &layer.ffn_norm, c.norm_eps, xb)?;
        prepare(be, xb, dim, &[&layer.w_gate, &layer.w_up], xq)?;
        be.matmul(xb, xq, &layer.w_gate, hb)?;
        be.matmul(xb, xq, &layer.w_up, hb2)?;
        be.silu_mul(hb, hb2)?;
        prepare(be, hb, hidden, &[&layer.w_down], xq)?;
        be.matmul(hb, xq, &layer.w_down, xb)?;
        be.add(x, xb)?;

        // ---- Trace: one leaf per (position, layer) ----
        if trace.is_some() {
            be.hash_rows_into(x, dim, positions, l as u32, &mut leaves[l * m..(l + 1) * m])?;
        }
    }
    kv.len = start + m;

    if let Some(trace) = trace {
        for row in 0..m {
            trace.extend(leaves.iter().skip(row).step_by(m).take(model.layers.len()));
        }
    }

    // ---- Final norm and LM head, only for the rows that need logits ----
    let rows = m - logits_from;
    if rows == 0 {
        logits.clear();
        return Ok(());
    }
    let xs = &x[logits_from * dim..];
    xn.resize(rows * dim, 0.0);
    be.rmsnorm(xs, &model.output_norm, c.norm_eps, xn)?;
    let head = model.lm_head();
    prepare(be, xn, dim, &[head], xq)?;
    logits.resize(rows * c.vocab_size, 0.0);
    be.matmul(xn, xq, head, logits)?;
    Ok(())
}
