//! Throughput benchmark (not a test):
//! `cargo run --release --example bench -- <model.gguf> [answer_tokens] [repeats] [threads,..]`
//!
//! Prints, at 1 and 2 threads: prefill tok/s (one batched pass over a long
//! prompt), decode tok/s (one token at a time, EOS ignored), and the time to
//! verify an answer of `answer_tokens` (default 128) versus generating it.
//! Each number is the best of `repeats` (default 3) runs.

use std::time::{Duration, Instant};

use spotcheck_worker::engine::KvCache;
use spotcheck_worker::engine::forward::forward;
use spotcheck_worker::{Backend, Claim, CpuBackend, Message, Model, Verdict, verify};

const PREFILL_TEXT: &str = "The history of the printing press begins in the fifteenth century, when \
Johannes Gutenberg combined movable metal type, oil-based ink and a wooden screw press into a system \
that could produce books quickly and cheaply. Within fifty years presses were running in more than two \
hundred cities across Europe, and the number of books in circulation grew from thousands to millions. \
Scholars argue about the consequences, but most agree that printing helped spread literacy, standardise \
languages, and speed up the exchange of scientific ideas.";

fn best<T>(repeats: usize, mut f: impl FnMut() -> (Duration, T)) -> (Duration, T) {
    let mut best: Option<(Duration, T)> = None;
    for _ in 0..repeats.max(1) {
        let (d, v) = f();
        if best.as_ref().is_none_or(|(b, _)| d < *b) {
            best = Some((d, v));
        }
    }
    best.unwrap_or_else(f)
}

/// Greedy decode of exactly `n` tokens after a prefill (EOS ignored), as
/// generate() does it; returns (prefill time, decode time, tokens).
fn run(model: &Model, be: &dyn Backend, prompt: &[u32], n: usize) -> (Duration, Duration, Vec<u32>) {
    let c = &model.config;
    let mut kv = KvCache::new(c.n_layers, c.kv_dim(), prompt.len() + n);
    let mut leaves = Vec::new();
    let t = Instant::now();
    let mut logits = forward(model, be, &mut kv, prompt, prompt.len() - 1, Some(&mut leaves)).unwrap();
    let prefill = t.elapsed();
    let t = Instant::now();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let next = be.argmax(&logits);
        out.push(next);
        if i + 1 < n {
            logits = forward(model, be, &mut kv, &[next], 0, Some(&mut leaves)).unwrap();
        }
    }
    (prefill, t.elapsed(), out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: bench <model.gguf> [answer_tokens] [repeats] [threads,..]");
        std::process::exit(2);
    };
    let n: usize = args.get(2).map_or(Ok(128), |s| s.parse())?;
    let repeats: usize = args.get(3).map_or(Ok(3), |s| s.parse())?;
    let thread_counts: Vec<usize> = match args.get(4) {
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => vec![1, 2],
    };
    let model = Model::load(path)?;
    let tok = model.tokenizer()?;
    let long_prompt = tok.encode(PREFILL_TEXT)?;
    let chat = tok.encode_chat(&[Message::new("user", "Write a short story about a lighthouse keeper.")])?;
    println!(
        "model {} ({} layers, dim {}); prefill prompt {} tokens; chat prompt {} + {n} answer tokens",
        model.config.n_layers,
        model.config.n_layers,
        model.config.dim,
        long_prompt.len(),
        chat.len()
    );
    for threads in thread_counts {
        let be = CpuBackend::new(threads)?;
        let (prefill, _) = best(repeats, || {
            let (p, _, _) = run(&model, &be, &long_prompt, 1);
            (p, ())
        });
        // Generation as a worker does it: prefill + n greedy steps.
        let (generate, answer) = best(repeats, || {
            let (p, d, out) = run(&model, &be, &chat, n);
            (p + d, (d, out))
        });
        let (decode, answer) = answer;
        // Verification: one batched teacher-forced pass over chat + answer.
        let claim = Claim::tokens(&chat, &answer, n);
        let (verify_t, verdict) = best(repeats, || {
            let t = Instant::now();
            let v = verify(&model, &be, &claim).unwrap();
            (t.elapsed(), v)
        });
        // EOS is ignored above, so an answer with an early EOS is (rightly)
        // rejected; the timing is still the full pass.
        let status = match verdict {
            Verdict::Pass(_) => "pass".to_string(),
            Verdict::Fail(d) => format!("{:?} at {}", d.kind, d.token_index),
        };
        println!(
            "{:>16}: prefill {:7.1} tok/s | decode {:6.1} tok/s | generate {} tokens {:6.0} ms, verify {:6.0} ms ({status}) => verify/generate = 1/{:.1}",
            be.name(),
            long_prompt.len() as f64 / prefill.as_secs_f64(),
            (n - 1) as f64 / decode.as_secs_f64(),
            chat.len() + n,
            generate.as_secs_f64() * 1e3,
            verify_t.as_secs_f64() * 1e3,
            generate.as_secs_f64() / verify_t.as_secs_f64(),
        );
    }
    Ok(())
}
