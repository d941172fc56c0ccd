//! Golden greedy outputs of the seeded tiny model, byte for byte: model id
//! (pins the GGUF writer), generated token ids, output hash and trace root
//! for each stored weight type. Regenerate deliberately with
//! `SPOTCHECK_BLESS=1 cargo test --test golden` (a change here means every
//! previously issued commitment changes).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use spotcheck_engine::commit::hex;
use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::{GenerateParams, generate};

const MAX_NEW: usize = 24;

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/tiny.txt")
}

fn line_for(ty: GgmlType) -> String {
    let model = common::tiny(ty);
    let prompt = common::tiny_prompt(&model);
    let out = generate(&model, &common::one_backend(), &prompt, &GenerateParams::new(MAX_NEW)).unwrap();
    let tokens: Vec<String> = out.tokens.iter().map(u32::to_string).collect();
    format!(
        "model_id={} prompt_tokens={} tokens={} stop={:?} output_hash={} trace_root={}",
        hex(&model.id),
        prompt.len(),
        tokens.join(","),
        out.stop,
        hex(&out.commitments.output_hash),
        hex(&out.commitments.trace_root)
    )
}

#[test]
fn tiny_model_goldens() {
    let variants = [
        ("gguf-f32", GgmlType::F32),
        ("gguf-f16", GgmlType::F16),
        ("gguf-q8_0", GgmlType::Q8_0),
        ("gguf-q4_1", GgmlType::Q4_1),
    ];
    let got: BTreeMap<String, String> = variants.iter().map(|(name, ty)| (name.to_string(), line_for(*ty))).collect();
    let rendered: String = got.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
    if std::env::var_os("SPOTCHECK_BLESS").is_some() {
        std::fs::write(golden_path(), &rendered).unwrap();
        eprintln!("blessed {}", golden_path().display());
        return;
    }
    let want =
        std::fs::read_to_string(golden_path()).expect("tests/golden/tiny.txt missing: run with SPOTCHECK_BLESS=1 once");
    for (name, line) in &got {
        let stored = want
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no golden for {name}"));
        assert_eq!(line, stored, "{name} differs from its golden");
    }
    // The variants are really different models and outputs.
    let hashes: std::collections::BTreeSet<_> = got.values().collect();
    assert_eq!(hashes.len(), variants.len());
}
