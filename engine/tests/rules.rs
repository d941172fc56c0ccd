//! Determinism rule 3/4 guards: no FMA, no libm transcendental, no
//! target-cpu=native in the engine's sources or build.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_fma_or_libm_calls_in_library_code() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    // Method calls that would hand bits to libm or fuse a multiply-add.
    // `.sqrt()` is allowed (IEEE correctly rounded); `f64::exp/ln/sin` are
    // only used by the f64 accuracy unit tests, which compare against libm.
    let banned = [
        ".mul_add(",
        "_fmadd_",
        "fmaf(",
        ".exp(",
        ".exp2(",
        ".ln(",
        ".log(",
        ".log2(",
        ".powf(",
        ".powi(",
        ".sin(",
        ".cos(",
        ".tan(",
        ".tanh(",
        ".sin_cos(",
        ".recip_sqrt(",
    ];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        // Unit tests compare against libm on purpose.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            let line = line.split("//").next().unwrap_or("");
            for b in banned {
                assert!(!line.contains(b), "{}:{}: uses {b}", f.display(), n + 1);
            }
        }
    }
}

#[test]
fn not_built_with_fma_or_native_cpu() {
    // Compile-time: the test crate is built with the same RUSTFLAGS.
    const { assert!(!cfg!(target_feature = "fma"), "built with the fma target feature") };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for cfg in [root.join(".cargo/config.toml"), root.join("../.cargo/config.toml")] {
        if let Ok(text) = std::fs::read_to_string(&cfg) {
            assert!(!text.contains("target-cpu=native"), "{}", cfg.display());
            assert!(!text.contains("+fma"), "{}", cfg.display());
        }
    }
}
