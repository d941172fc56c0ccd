//! The daemon's throughput next to bare generation, in the same run:
//!
//!     cargo run --release -p spotcheck-worker --example bench -- [tiny | <GGUF>] [jobs] [budget] [threads]
//!
//! Bare: the engine's job protocol (`Job::run`) on each prompt, one after
//! another, on the same device and threads, before and after the daemon's
//! run (the mean is the reference). Daemon: the same jobs submitted
//! to a market on the embedded chain, the real daemon claiming, generating,
//! storing and submitting them; timed from its start to the last result
//! landing. Prints jobs/s, tokens/s and the daemon's overhead.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Running, World, params, tiny_model_bytes, wait_until};
use spotcheck::state::JobStatus;
use spotcheck_client::chain::Chain;
use spotcheck_engine::{CpuBackend, Job, Model};

const PROMPTS: &[&str] = &[
    "Explain why the sky is blue in a few sentences.",
    "Write a short story about a lighthouse keeper.",
    "Describe how a bicycle works.",
    "What should I pack for a week of hiking?",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let model_arg = args.next().unwrap_or_else(|| "tiny".into());
    let jobs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let budget: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let bytes = if model_arg == "tiny" {
        tiny_model_bytes()
    } else {
        std::fs::read(&model_arg).unwrap_or_else(|err| panic!("cannot read {model_arg}: {err}"))
    };
    let model = Model::from_gguf_bytes(&bytes).expect("the model loads");
    let prompts: Vec<&str> = (0..jobs).map(|i| PROMPTS[i % PROMPTS.len()]).collect();

    // Bare generation, before and after the daemon (a machine shared with
    // other work drifts; the mean of the two is the reference).
    let bare_run = || {
        let backend = CpuBackend::new(threads).expect("threads start");
        let start = Instant::now();
        let mut tokens = 0usize;
        for prompt in &prompts {
            let job = Job { model_id: model.id, prompt, token_budget: budget };
            tokens += job.run(&model, &backend).expect("generates").tokens.len();
        }
        (start.elapsed(), tokens)
    };
    let (bare_before, bare_tokens) = bare_run();

    // The daemon on the embedded chain.
    let world = World::with_model(params(), 500_000_000, bytes, budget.max(64));
    let submitted: Vec<_> = prompts.iter().map(|prompt| world.submit(prompt, budget)).collect();
    let mut config = world.config("bench");
    config.threads = threads;
    config.max_in_flight = jobs;
    let chain: Arc<dyn Chain> = Arc::new(world.chain.clone());
    let start = Instant::now();
    let running = Running::start(config, chain).expect("the daemon starts");
    let started = start.elapsed();
    wait_until("every result", Duration::from_secs(3600), || {
        submitted.iter().all(|job| world.job(job).is_some_and(|j| j.status == JobStatus::Submitted))
    });
    let daemon = start.elapsed();
    let daemon_tokens: u64 = submitted.iter().map(|job| u64::from(world.job(job).unwrap().token_count)).sum();
    running.stop().expect("the daemon stops");
    let (bare_after, _) = bare_run();
    let bare = (bare_before + bare_after) / 2;

    let rate = |n: f64, t: Duration| n / t.as_secs_f64();
    println!("model {model_arg}, {jobs} jobs of budget {budget}, {threads} threads");
    println!(
        "bare generation before / after the daemon: {:.2} s / {:.2} s",
        bare_before.as_secs_f64(),
        bare_after.as_secs_f64()
    );
    println!(
        "bare generation: {:.2} s, {:.2} jobs/s, {:.1} tokens/s ({bare_tokens} tokens)",
        bare.as_secs_f64(),
        rate(jobs as f64, bare),
        rate(bare_tokens as f64, bare)
    );
    println!(
        "daemon:          {:.2} s, {:.2} jobs/s, {:.1} tokens/s ({daemon_tokens} tokens; start-up {:.2} s of it)",
        daemon.as_secs_f64(),
        rate(jobs as f64, daemon),
        rate(daemon_tokens as f64, daemon),
        started.as_secs_f64()
    );
    println!(
        "daemon / bare = {:.3} (overhead {:+.1} %; without start-up {:+.1} %)",
        daemon.as_secs_f64() / bare.as_secs_f64(),
        (daemon.as_secs_f64() / bare.as_secs_f64() - 1.0) * 100.0,
        ((daemon - started).as_secs_f64() / bare.as_secs_f64() - 1.0) * 100.0
    );
}
