//! Accuracy and throughput benchmark (not a test):
//!
//! ```text
//! cargo run --release --example bench -- <model.gguf> [answer_tokens] [repeats] [threads,..]
//!     [--device auto|cpu|cuda] [--llama-cpp <python>] [--only accuracy|speed]
//! ```
//!
//! **Accuracy** first: the file's quantized model and a Q8_0 copy, each
//! against the F32 copy of the same file (its weights dequantized exactly),
//! teacher-forced over [`ACCURACY_POSITIONS`] positions (a chat prompt and
//! the F32 copy's greedy answer): mean |Δlogit| over every logit and how
//! often the greedy argmax agrees. With `--llama-cpp`, llama.cpp runs the
//! same three files on the same ids, so the engine's error and llama.cpp's
//! are measured against the same reference.
//!
//! Prints, for the CPU backend at each thread count (default 1 and 2):
//! prefill tok/s (one batched pass over a long prompt), decode tok/s (one
//! token at a time, EOS ignored), and the time to verify an answer of
//! `answer_tokens` (default 128) versus generating it. Each number is the
//! best of `repeats` (default 3) runs.
//!
//! `--device auto` (the default) or `cuda` also runs the CUDA backend when
//! it can start (`cuda`: or fails saying why) and prints its speed as a
//! ratio to the fastest CPU row of the same run; `--device cpu` skips it. `--llama-cpp <python>` runs `scripts/bench-llama-cpp.py` with
//! that interpreter (one with llama-cpp-python installed), the same GGUF,
//! answer length, repeats and thread counts, and prints our speed over
//! llama.cpp's for decode and verification, thread count by thread count.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use spotcheck_engine::engine::KvCache;
use spotcheck_engine::engine::forward::{RunState, forward, forward_into};
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::model::quantize::convert_gguf;
use spotcheck_engine::{
    Backend, Claim, CpuBackend, Device, DeviceChoice, DeviceOptions, Message, Model, Verdict, verify,
};

const PREFILL_TEXT: &str = "The history of the printing press begins in the fifteenth century, when \
Johannes Gutenberg combined movable metal type, oil-based ink and a wooden screw press into a system \
that could produce books quickly and cheaply. Within fifty years presses were running in more than two \
hundred cities across Europe, and the number of books in circulation grew from thousands to millions. \
Scholars argue about the consequences, but most agree that printing helped spread literacy, standardise \
languages, and speed up the exchange of scientific ideas.";

const USAGE: &str = "usage: bench <model.gguf> [answer_tokens] [repeats] [threads,..] [--device auto|cpu|cuda] \
[--llama-cpp <python>] [--only accuracy|speed]";

/// Teacher-forced positions of the accuracy comparison.
const ACCURACY_POSITIONS: usize = 256;
const ACCURACY_QUESTION: &str = "Explain why the sky is blue in a few sentences.";

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
    let c = model.config();
    let mut kv = KvCache::new(c.n_layers, c.kv_dim(), prompt.len() + n);
    let mut leaves = Vec::new();
    let t = Instant::now();
    let mut st = RunState::default();
    forward_into(&model.weights, be, &mut kv, prompt, prompt.len() - 1, Some(&mut leaves), &mut st).unwrap();
    let prefill = t.elapsed();
    let t = Instant::now();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let next = be.argmax(st.logits()).unwrap();
        out.push(next);
        if i + 1 < n {
            forward_into(&model.weights, be, &mut kv, &[next], 0, Some(&mut leaves), &mut st).unwrap();
        }
    }
    (prefill, t.elapsed(), out)
}

/// One backend's numbers.
struct Row {
    name: String,
    threads: Option<usize>,
    prefill_tok_s: f64,
    decode_tok_s: f64,
    generate: Duration,
    verify: Duration,
}

struct Workload<'a> {
    model: &'a Model,
    long_prompt: Vec<u32>,
    chat: Vec<u32>,
    n: usize,
    repeats: usize,
}

fn measure(w: &Workload<'_>, be: &dyn Backend, threads: Option<usize>) -> Row {
    let (model, n, repeats) = (w.model, w.n, w.repeats);
    let (prefill, _) = best(repeats, || {
        let (p, _, _) = run(model, be, &w.long_prompt, 1);
        (p, ())
    });
    // Generation as a worker does it: prefill + n greedy steps.
    let (generate, (decode, answer)) = best(repeats, || {
        let (p, d, out) = run(model, be, &w.chat, n);
        (p + d, (d, out))
    });
    // Verification: one batched teacher-forced pass over chat + answer.
    let claim = Claim::tokens(&w.chat, &answer, n);
    let (verify_t, verdict) = best(repeats, || {
        let t = Instant::now();
        let v = verify(model, be, &claim).unwrap();
        (t.elapsed(), v)
    });
    // EOS is ignored above, so an answer with an early EOS is (rightly)
    // rejected; the timing is still the full pass.
    let status = match verdict {
        Verdict::Pass(_) => "pass".to_string(),
        Verdict::Fail(d) => format!("{:?} at {}", d.kind, d.token_index),
    };
    let row = Row {
        name: be.name(),
        threads,
        prefill_tok_s: w.long_prompt.len() as f64 / prefill.as_secs_f64(),
        decode_tok_s: (n - 1) as f64 / decode.as_secs_f64(),
        generate,
        verify: verify_t,
    };
    println!(
        "{:>16}: prefill {:7.1} tok/s | decode {:6.1} tok/s | generate {} tokens {:6.0} ms, verify {:6.0} ms ({status}) => verify/generate = 1/{:.1}",
        row.name,
        row.prefill_tok_s,
        row.decode_tok_s,
        w.chat.len() + n,
        generate.as_secs_f64() * 1e3,
        verify_t.as_secs_f64() * 1e3,
        generate.as_secs_f64() / verify_t.as_secs_f64(),
    );
    row
}

/// llama.cpp's numbers for one thread count: one line of
/// `scripts/bench-llama-cpp.py --json` (its other fields are not read).
#[derive(serde::Deserialize)]
struct LlamaRow {
    threads: usize,
    prompt_tokens: Option<usize>,
    decode_tok_s: f64,
    verify_all_ms: f64,
    verify_last_ms: f64,
    #[serde(default)]
    batch_argmax_agrees: bool,
    #[serde(default)]
    prefill_tok_s: Option<f64>,
}

fn llama_cpp(python: &str, model: &str, w: &Workload<'_>, threads: &[usize]) -> Result<Vec<LlamaRow>, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench-llama-cpp.py");
    let list: Vec<String> = threads.iter().map(usize::to_string).collect();
    let out = Command::new(python)
        .arg(&script)
        .arg(model)
        .arg(list.join(","))
        .args(["--tokens", &w.n.to_string(), "--repeats", &w.repeats.to_string(), "--json"])
        .args(["--prefill-ids", &w.long_prompt.iter().map(u32::to_string).collect::<Vec<_>>().join(",")])
        .output()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr)));
    }
    let mut rows = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with('{')) {
        let row: LlamaRow = serde_json::from_str(line).map_err(|e| format!("{line}: {e}"))?;
        if let Some(p) = row.prompt_tokens
            && p != w.chat.len()
        {
            eprintln!("note: llama.cpp's chat prompt has {p} tokens, ours {}", w.chat.len());
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Logits `[tokens.len()][vocab]` of one batched teacher-forced pass.
fn all_logits(model: &Model, be: &dyn Backend, tokens: &[u32]) -> Vec<f32> {
    let c = model.config();
    let mut kv = KvCache::new(c.n_layers, c.kv_dim(), tokens.len());
    forward(&model.weights, be, &mut kv, tokens, 0, None).unwrap()
}

/// How close one model's logits are to a reference's.
struct Agreement {
    mean_abs: f64,
    argmax_agree: usize,
    positions: usize,
}

impl std::fmt::Display for Agreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mean |Δlogit| {:.3}, argmax agrees {}/{}", self.mean_abs, self.argmax_agree, self.positions)
    }
}

fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().fold(0, |best, (i, &v)| if v > row[best] { i } else { best })
}

fn agreement(got: &[f32], reference: &[f32], vocab: usize) -> Agreement {
    let sum: f64 = got.iter().zip(reference).map(|(a, b)| f64::from((a - b).abs())).sum();
    let rows = || got.chunks_exact(vocab).zip(reference.chunks_exact(vocab));
    Agreement {
        mean_abs: sum / got.len().max(1) as f64,
        argmax_agree: rows().filter(|(a, b)| argmax(a) == argmax(b)).count(),
        positions: rows().count(),
    }
}

/// llama.cpp's logits for `ids` on the GGUF at `path` (accuracy mode of
/// `scripts/bench-llama-cpp.py`).
fn llama_cpp_logits(python: &str, path: &Path, ids: &[u32], threads: usize) -> Result<Vec<f32>, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench-llama-cpp.py");
    let dir = std::env::temp_dir();
    let (ids_path, out_path) = (dir.join("spotcheck-bench-ids.json"), dir.join("spotcheck-bench-logits.f32"));
    std::fs::write(&ids_path, serde_json::to_string(ids).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let out = Command::new(python)
        .arg(&script)
        .arg("--logits")
        .arg(&ids_path)
        .arg(&out_path)
        .arg(path)
        .arg(threads.to_string())
        .output()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{} --logits failed: {}", script.display(), String::from_utf8_lossy(&out.stderr)));
    }
    let bytes = std::fs::read(&out_path).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&out_path);
    Ok(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// The accuracy table: each quantized copy vs the F32 copy, ours and
/// llama.cpp's. Writes the converted copies next to the system temp dir.
fn accuracy(path: &str, model: &Model, threads: usize, python: Option<&str>) -> Result<(), Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    let dir = std::env::temp_dir();
    let f32_path = dir.join("spotcheck-bench-f32.gguf");
    std::fs::write(&f32_path, convert_gguf(&bytes, GgmlType::F32)?)?;
    let f32_model = Model::load(&f32_path)?;
    let own = model.weights.layers.first().map_or("?", |l| l.w_down.type_name());
    let mut quants: Vec<(String, std::path::PathBuf, Model)> = Vec::new();
    if own != "F32" {
        quants.push((format!("{own} (the file)"), Path::new(path).to_owned(), model.clone()));
    }
    if own != "Q8_0" {
        let q8_path = dir.join("spotcheck-bench-q8_0.gguf");
        std::fs::write(&q8_path, convert_gguf(&bytes, GgmlType::Q8_0)?)?;
        let q8 = Model::load(&q8_path)?;
        quants.push(("Q8_0 (copy)".to_string(), q8_path, q8));
    }
    drop(bytes);
    let be = CpuBackend::new(threads)?;
    let tok = model.tokenizer()?;
    let chat = tok.encode_chat(&[Message::new("user", ACCURACY_QUESTION)])?;
    let answer = ACCURACY_POSITIONS.saturating_sub(chat.len()).max(1);
    let (_, _, greedy) = run(&f32_model, &be, &chat, answer);
    let ids: Vec<u32> = chat.iter().chain(&greedy).copied().take(ACCURACY_POSITIONS).collect();
    let vocab = model.config().vocab_size;
    println!(
        "accuracy: {} teacher-forced positions ({} prompt + the F32 copy's greedy answer), each model vs the F32 copy of the same file",
        ids.len(),
        chat.len()
    );
    let reference = all_logits(&f32_model, &be, &ids);
    drop(f32_model);
    let llama_ref = match python {
        Some(py) => {
            let theirs = llama_cpp_logits(py, &f32_path, &ids, threads)?;
            println!("{:>16}  engine F32 vs llama.cpp F32: {}", "", agreement(&reference, &theirs, vocab));
            Some(theirs)
        }
        None => None,
    };
    for (name, qpath, qmodel) in &quants {
        let ours = agreement(&all_logits(qmodel, &be, &ids), &reference, vocab);
        print!("{name:>16}: engine {ours}");
        if let (Some(py), Some(llama_ref)) = (python, &llama_ref) {
            let theirs = agreement(&llama_cpp_logits(py, qpath, &ids, threads)?, llama_ref, vocab);
            let verdict = if ours.mean_abs <= theirs.mean_abs { "<=" } else { ">" };
            print!(" | llama.cpp {theirs} | engine error {verdict} llama.cpp's");
        }
        println!();
    }
    let _ = std::fs::remove_file(&f32_path);
    let _ = std::fs::remove_file(dir.join("spotcheck-bench-q8_0.gguf"));
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut take_flag = |name: &str| -> Option<String> {
        let i = args.iter().position(|a| a == name)?;
        let v = args.get(i + 1).cloned();
        args.drain(i..(i + 2).min(args.len()));
        v
    };
    let device: DeviceChoice = take_flag("--device").as_deref().unwrap_or("auto").parse()?;
    let python = take_flag("--llama-cpp");
    let only = take_flag("--only");
    if !matches!(only.as_deref(), None | Some("accuracy" | "speed")) {
        return Err(format!("--only takes accuracy or speed\n{USAGE}").into());
    }
    let Some(path) = args.first().cloned() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let n: usize = args.get(1).map_or(Ok(128), |s| s.parse())?;
    let repeats: usize = args.get(2).map_or(Ok(3), |s| s.parse())?;
    let thread_counts: Vec<usize> = match args.get(3) {
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => vec![1, 2],
    };
    if n < 2 {
        return Err("answer_tokens must be at least 2".into());
    }
    let model = Model::load(&path)?;
    if only.as_deref() != Some("speed") {
        let threads = thread_counts.iter().copied().max().unwrap_or(1);
        accuracy(&path, &model, threads, python.as_deref())?;
        if only.is_some() {
            return Ok(());
        }
    }
    let tok = model.tokenizer()?;
    let w = Workload {
        model: &model,
        long_prompt: tok.encode(PREFILL_TEXT)?,
        chat: tok.encode_chat(&[Message::new("user", "Write a short story about a lighthouse keeper.")])?,
        n,
        repeats,
    };
    println!(
        "model {} layers, dim {}; prefill prompt {} tokens; chat prompt {} + {n} answer tokens; best of {repeats}",
        model.config().n_layers,
        model.config().dim,
        w.long_prompt.len(),
        w.chat.len()
    );
    let mut cpu_rows = Vec::new();
    for &threads in &thread_counts {
        let be = CpuBackend::new(threads)?;
        cpu_rows.push(measure(&w, &be, Some(threads)));
    }

    if device != DeviceChoice::Cpu {
        let options = DeviceOptions { threads: thread_counts.iter().copied().max().unwrap_or(1), ..Default::default() };
        let dev = Device::open(device, &model.weights, &options).map_err(|e| e.to_string())?;
        if dev.is_cuda() {
            let gpu = measure(&w, &dev, None);
            if let Some(cpu) = cpu_rows.iter().max_by(|a, b| a.decode_tok_s.total_cmp(&b.decode_tok_s)) {
                println!(
                    "CUDA / CPU ({} vs {}): prefill {:.2}x, decode {:.2}x, generate {:.2}x, verify {:.2}x (speed ratios; > 1 = CUDA faster)",
                    gpu.name,
                    cpu.name,
                    gpu.prefill_tok_s / cpu.prefill_tok_s,
                    gpu.decode_tok_s / cpu.decode_tok_s,
                    cpu.generate.as_secs_f64() / gpu.generate.as_secs_f64(),
                    cpu.verify.as_secs_f64() / gpu.verify.as_secs_f64(),
                );
            }
        }
    }

    if let Some(python) = python {
        let theirs = llama_cpp(&python, &path, &w, &thread_counts)?;
        for ours in &cpu_rows {
            let Some(t) = theirs.iter().find(|t| Some(t.threads) == ours.threads) else { continue };
            println!(
                "{:>16} vs llama.cpp {}T: prefill {:.1} vs {:.1} tok/s, decode {:.1} vs {:.1} tok/s, verify {:.0} vs {:.0} ms (llama.cpp all logits; {:.0} ms last row only) => speed ours/llama.cpp: prefill {:.2}x, decode {:.2}x, verify {:.2}x{}",
                ours.name,
                t.threads,
                ours.prefill_tok_s,
                t.prefill_tok_s.unwrap_or(f64::NAN),
                ours.decode_tok_s,
                t.decode_tok_s,
                ours.verify.as_secs_f64() * 1e3,
                t.verify_all_ms,
                t.verify_last_ms,
                ours.prefill_tok_s / t.prefill_tok_s.unwrap_or(f64::NAN),
                ours.decode_tok_s / t.decode_tok_s,
                t.verify_all_ms / (ours.verify.as_secs_f64() * 1e3),
                if t.batch_argmax_agrees { "" } else { " (llama.cpp's batched argmax differs from its own decode)" },
            );
        }
    }
    Ok(())
}
