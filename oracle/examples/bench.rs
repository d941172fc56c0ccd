//! Re-execution throughput next to generation of the same outputs, in the
//! same run: what an oracle's capacity (jobs verified per second) and the
//! market's overhead (sample rate x cost of a check) rest on.
//!
//! ```sh
//! cargo run --release -p spotcheck-oracle --example bench -- <GGUF> [tokens=128] [jobs=3] [threads=1]
//! ```
//!
//! For each of `jobs` chat prompts it generates an answer of at most
//! `tokens` tokens with the job protocol (greedy; EOS ends it, and the
//! counts printed are what ran), then re-executes it through the oracle's verifier (one
//! teacher-forced pass, the same call a verdict makes). It prints both
//! rates and `verify/generate = 1/X`, the ratio of their times.

use std::sync::Arc;
use std::time::{Duration, Instant};

use spotcheck_engine::{CpuBackend, DeviceChoice, GenerateParams, Job, Model, commit, generate};
use spotcheck_oracle::verifier::{ReExecution, Verifier};

const PROMPTS: [&str; 4] = [
    "Explain why the sky is blue in a few sentences.",
    "Write a short story about a lighthouse keeper.",
    "What are the main causes of inflation?",
    "Describe how a bicycle works.",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: bench <GGUF> [tokens=128] [jobs=3] [threads=1]")?;
    let tokens: usize = args.get(1).map_or(Ok(128), |a| a.parse())?;
    let jobs: usize = args.get(2).map_or(Ok(3), |a| a.parse())?;
    let threads: usize = args.get(3).map_or(Ok(1), |a| a.parse())?;
    let model = Arc::new(Model::load(std::path::Path::new(path))?);
    let backend = CpuBackend::new(threads)?;
    let verifier = Verifier::start(std::slice::from_ref(&model), DeviceChoice::Cpu, threads)?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;

    let (mut generating, mut verifying) = (Duration::ZERO, Duration::ZERO);
    let (mut generated, mut positions) = (0usize, 0usize);
    for i in 0..jobs {
        let prompt = PROMPTS[i % PROMPTS.len()];
        let job = Job { model_id: model.id, prompt, token_budget: tokens as u32 };
        let input = job.prompt_tokens(&model)?;
        let params = GenerateParams::new(tokens);
        let started = Instant::now();
        let generation = generate(&model, &backend, &input, &params)?;
        generating += started.elapsed();
        let output_hash = commit::output_hash(&model.id, &commit::prompt_hash(&input), &generation.tokens);
        let request = ReExecution {
            model_id: model.id,
            prompt: prompt.to_string(),
            token_budget: tokens as u32,
            output_hash,
            trace_root: generation.commitments.trace_root,
            tokens: generation.tokens.clone(),
        };
        let started = Instant::now();
        let judged = runtime.block_on(verifier.re_execute(request))?;
        verifying += started.elapsed();
        if !judged.verdict.passed() {
            return Err(format!("re-execution of job {i} did not pass: {:?}", judged.verdict.divergence).into());
        }
        generated += generation.tokens.len();
        positions += judged.positions;
    }
    let (g, v) = (generating.as_secs_f64(), verifying.as_secs_f64());
    println!("model {} ({} threads), {jobs} jobs of {tokens} tokens", path, threads);
    println!("generate: {:.3} jobs/s, {:.1} tokens/s ({g:.2} s)", jobs as f64 / g, generated as f64 / g);
    println!("verify:   {:.3} jobs/s, {:.1} positions/s ({v:.2} s)", jobs as f64 / v, positions as f64 / v);
    println!("verify/generate = 1/{:.2}", g / v);
    Ok(())
}
