//! Greedy chat completion with commitments, then verification:
//! `cargo run --release --example chat -- <model.gguf> "question" [max_tokens] [threads]`

use std::io::Write;
use std::time::Instant;

use spotcheck_worker::commit::hex;
use spotcheck_worker::{Claim, CpuBackend, GenerateParams, Message, Model, Verdict, generate_streaming, verify};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(question)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: chat <model.gguf> \"question\" [max_tokens] [threads]");
        std::process::exit(2);
    };
    let max_tokens: usize = args.get(3).map_or(Ok(64), |s| s.parse())?;
    let threads: usize = args.get(4).map_or(Ok(2), |s| s.parse())?;

    let t = Instant::now();
    let model = Model::load(path)?;
    eprintln!("loaded in {:.2?}; model id {}", t.elapsed(), hex(&model.id));
    let tok = model.tokenizer()?;
    let prompt = tok.encode_chat(&[Message::new("user", question)])?;
    let backend = CpuBackend::new(threads)?;

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
        spotcheck_worker::Backend::name(&backend)
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
