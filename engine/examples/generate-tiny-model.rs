//! Writes the seeded tiny test model:
//! `cargo run --example generate-tiny-model -- <out_dir> [seed]`
//! produces tiny-{f32,f16,q8_0,q4_1}.gguf and a Hugging Face style
//! model.safetensors + config.json (F32), all pure functions of the seed.

use spotcheck_engine::commit::hex;
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::model::model_id;
use spotcheck_engine::model::tiny::{TinySpec, tiny_gguf, tiny_safetensors};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1) else {
        eprintln!("usage: generate-tiny-model <out_dir> [seed]");
        std::process::exit(2);
    };
    let seed = match args.get(2).map(|s| s.parse::<u64>()) {
        None => TinySpec::default().seed,
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            eprintln!("bad seed: {e}");
            std::process::exit(2);
        }
    };
    let spec = TinySpec { seed, ..TinySpec::default() };
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir)?;
    for (name, ty) in
        [("f32", GgmlType::F32), ("f16", GgmlType::F16), ("q8_0", GgmlType::Q8_0), ("q4_1", GgmlType::Q4_1)]
    {
        let bytes = tiny_gguf(&spec, ty);
        let path = dir.join(format!("tiny-{name}.gguf"));
        std::fs::write(&path, &bytes)?;
        println!("{}  {}", hex(&model_id(&bytes)), path.display());
    }
    let (weights, config) = tiny_safetensors(&spec, "F32")?;
    std::fs::write(dir.join("model.safetensors"), &weights)?;
    std::fs::write(dir.join("config.json"), config)?;
    println!("{}  {}", hex(&model_id(&weights)), dir.join("model.safetensors").display());
    Ok(())
}
