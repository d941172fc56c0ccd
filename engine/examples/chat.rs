//! Greedy chat completion with commitments, then verification:
//! `cargo run --release --example chat -- <model.gguf> "question" [max_tokens] [threads] [--device auto|cpu|cuda]`
//!
//! `--device auto` (the default) runs on the GPU when the CUDA backend can
//! start and on the CPU otherwise (saying why on stderr); the commitments
//! are the same bits either way.

use std::io::Write;
use std::time::Instant;

use spotcheck_engine::commit::hex;
use spotcheck_engine::{
    Backend, Claim, Device, DeviceChoice, DeviceOptions, GenerateParams, Message, Model, Verdict, generate_streaming,
    verify,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut device = DeviceChoice::Auto;
    if let Some(i) = args.iter().position(|a| a == "--device") {
        device = args.get(i + 1).ok_or("--device needs auto, cpu or cuda")?.parse()?;
        args.drain(i..i + 2);
    }
    let (Some(path), Some(question)) = (args.first(), args.get(1)) else {
        eprintln!("usage: chat <model.gguf> \"question\" [max_tokens] [threads] [--device auto|cpu|cuda]");
        std::process::exit(2);
    };
    let max_tokens: usize = args.get(2).map_or(Ok(64), |s| s.parse())?;
    let threads: usize = args.get(3).map_or(Ok(2), |s| s.parse())?;

    let t = Instant::now();
    let model = Model::load(path)?;
    eprintln!("loaded in {:.2?}; model id {}", t.elapsed(), hex(&model.id));
    let tok = model.tokenizer()?;
    let prompt = tok.encode_chat(&[Message::new("user", question)])?;
    let backend = Device::open(device, &model.weights, &DeviceOptions { threads, ..Default::default() })
        .map_err(|e| e.to_string())?;

    let t = Instant::now();
    let out = generate_streaming(&model, &backend, &prompt, &GenerateParams::new(max_tokens), |id| {
        print!("{}", tok.decode(&[id]));
        let _ = std::io::stdout().flush();
    })?;
    let gen_time = t.elapsed();
    println!();
    eprintln!(
        "{} prompt + {} generated tokens in {gen_time:.2?} ({:?}) on {}",
        prompt.len(),
        out.tokens.len(),
        out.stop,
        backend.name()
    );
    eprintln!("output hash {}", hex(&out.commitments.output_hash));
    eprintln!("trace root  {}", hex(&out.commitments.trace_root));

    let t = Instant::now();
    let claim = Claim {
        output_hash: Some(out.commitments.output_hash),
        trace_root: Some(out.commitments.trace_root),
        trace: Some(&out.trace.leaves),
        ..Claim::tokens(&prompt, &out.tokens, max_tokens)
    };
    let verdict = verify(&model, &backend, &claim)?;
    eprintln!(
        "verify: {} in {:.2?}",
        match &verdict {
            Verdict::Pass(_) => "pass".to_string(),
            Verdict::Fail(d) => format!("FAIL {d}"),
        },
        t.elapsed()
    );
    Ok(())
}
