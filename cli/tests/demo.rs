//! `spotcheck demo` end to end, through the binary: real SmolLM2 answers, the
//! cheat caught (sampled or challenged) and slashed, honest work paid, and
//! every token accounted for.

use std::path::PathBuf;
use std::process::Command;

fn smollm2() -> Option<PathBuf> {
    let found = std::env::var_os("SPOTCHECK_SMOLLM2_GGUF").map(PathBuf::from).filter(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("SPOTCHECK_REQUIRE_MODEL").is_none(),
            "SPOTCHECK_REQUIRE_MODEL is set but SPOTCHECK_SMOLLM2_GGUF names no file"
        );
        eprintln!("SKIPPED: set SPOTCHECK_SMOLLM2_GGUF (engine/scripts/install-model.sh prints it)");
    }
    found
}

#[test]
fn the_demo_pays_honest_work_and_slashes_the_cheat() {
    let Some(model) = smollm2() else { return };
    let output = Command::new(env!("CARGO_BIN_EXE_spotcheck"))
        .args(["demo", "--max-tokens", "12", "--output", "json", "--model"])
        .arg(&model)
        .output()
        .expect("run spotcheck demo");
    assert!(output.status.success(), "demo failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");

    assert_eq!(report["conserved"], true);
    let jobs = report["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 6);
    for job in jobs {
        let (provider, outcome) = (job["provider"].as_str().unwrap(), job["outcome"].as_str().unwrap());
        if provider == "lazy-cheat" {
            assert_eq!(outcome, "slashed", "every cheat is caught: {job}");
            assert!(job["sampled"].as_bool().unwrap() || job["challenged"].as_bool().unwrap());
        } else {
            assert!(outcome.contains("paid"), "honest work is paid: {job}");
            assert_eq!(job["challenged"], false);
        }
    }
    // The default seed exercises both detection paths.
    assert!(jobs.iter().any(|j| j["provider"] == "lazy-cheat" && j["sampled"] == true));
    assert!(jobs.iter().any(|j| j["provider"] == "lazy-cheat" && j["challenged"] == true));
    // llama.cpp's answer on the same file, too (engine/tests/smollm2.rs pins its token ids).
    let sum = &jobs[0];
    assert!(sum["answer"].as_str().unwrap().contains('4'), "SmolLM2 knows: {sum}");

    let providers = report["providers"].as_array().expect("providers");
    let cheat = providers.iter().find(|p| p["name"] == "lazy-cheat").expect("cheat");
    assert_eq!((cheat["jobs_slashed"].as_u64(), cheat["status"].as_str()), (Some(3), Some("Jailed")));
    let honest = providers.iter().find(|p| p["name"] == "honest-gpu").expect("honest");
    assert_eq!((honest["jobs_completed"].as_u64(), honest["faults"].as_u64()), (Some(3), Some(0)));
}

#[test]
fn the_demo_explains_a_missing_model() {
    let output = Command::new(env!("CARGO_BIN_EXE_spotcheck"))
        .args(["demo", "--model", "/nonexistent/model.gguf"])
        .output()
        .expect("run spotcheck demo");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("loading the model") && stderr.contains("setup.sh"), "{stderr}");
}
