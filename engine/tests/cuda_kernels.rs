//! The CUDA kernels without a GPU: every kernel compiles with NVRTC (alone,
//! e.g. from the PyPI wheel scripts/install-nvrtc.sh installs) for several
//! architectures and its PTX passes the bit-exactness check; the check
//! itself catches rule-breaking kernels; the sources name their CPU twins
//! and call nothing the rules ban. NVRTC tests print `SKIPPED: ...` and pass
//! when NVRTC is absent, unless `SPOTCHECK_REQUIRE_NVRTC` is set (then they
//! fail).

mod common;

use std::path::PathBuf;

use spotcheck_engine::engine::cuda::kernels::{self, BASELINE_ARCH, COMMON, KERNELS, TEST_ARCHS, compile_options};
use spotcheck_engine::engine::cuda::ptx;

#[test]
fn every_kernel_compiles_and_its_ptx_is_exact() {
    if !common::nvrtc_or_skip() {
        return;
    }
    for arch in TEST_ARCHS {
        for k in KERNELS {
            let ptx = kernels::compile(k, arch).unwrap_or_else(|e| panic!("{} for {arch}: {e}", k.file));
            // The PTX really is IEEE arithmetic with explicit rounding.
            if k.file != "hash_rows.cu" && k.file != "argmax.cu" {
                assert!(ptx.contains(".rn.f32"), "{}: no rounded float op", k.file);
            }
        }
    }
    let (major, minor) = spotcheck_engine::engine::cuda::driver::nvrtc_version().unwrap();
    eprintln!("{} kernel files x {} architectures compiled by NVRTC {major}.{minor}", KERNELS.len(), TEST_ARCHS.len());
}

/// PTX of `body` (a kernel `k(float* o, const float* a, const float* b,
/// const float* c)`), compiled with the project's options, or with FMA
/// contraction on.
fn ptx_of(body: &str, fmad: bool) -> String {
    let src = format!(
        "{COMMON}\nextern \"C\" __global__ void k(float* o, const float* a, const float* b, const float* c) {{\n\
         int i = threadIdx.x;\n{body}\n}}\n"
    );
    let mut options = compile_options(BASELINE_ARCH);
    options.fmad = Some(fmad);
    kernels::compile_raw(&src, options).unwrap_or_else(|e| panic!("{body}: {e}"))
}

fn reasons(ptx: &str) -> Vec<&'static str> {
    ptx::check(ptx).into_iter().map(|v| v.reason).collect()
}

#[test]
fn the_ptx_check_catches_rule_breaking_kernels() {
    if !common::nvrtc_or_skip() {
        return;
    }
    let caught = |body: &str, fmad: bool, what: &str| {
        let r = reasons(&ptx_of(body, fmad));
        assert!(r.iter().any(|x| x.contains(what)), "{body} (fmad={fmad}): {r:?}");
    };
    // a*b+c contracted into an FMA when --fmad=true.
    caught("o[i] = a[i] * b[i] + c[i];", true, "fused multiply-add");
    // Fast-math intrinsics and libm-style device functions.
    caught("o[i] = __expf(a[i]);", false, "approximate");
    caught("o[i] = __fdividef(a[i], b[i]);", false, "approximate");
    caught("o[i] = rsqrtf(a[i]);", false, "approximate");
    caught("o[i] = __sinf(a[i]);", false, "approximate");
    caught("o[i] = sinf(a[i]);", false, "multiply-add"); // CUDA's sinf is built on FMAs
    caught("o[i] = expf(a[i]);", false, "");
    caught("o[i] = __fmaf_rn(a[i], b[i], c[i]);", false, "fused multiply-add");
    // Atomics in a reduction.
    caught("atomicAdd(o, a[i] * b[i]);", false, "atomic");
    // Flush-to-zero: the project's options turn it off; a source that asks
    // for it through inline PTX is caught.
    caught(
        "float r; asm(\"add.rn.ftz.f32 %0, %1, %2;\" : \"=f\"(r) : \"f\"(a[i]), \"f\"(b[i])); o[i] = r;",
        false,
        "flush",
    );
}

#[test]
fn the_ptx_check_passes_the_rules_kept() {
    if !common::nvrtc_or_skip() {
        return;
    }
    // With --fmad=false even a plain a*b+c stays two rounded operations,
    // and the explicit intrinsics the kernels use survive --fmad=true.
    assert_eq!(reasons(&ptx_of("o[i] = a[i] * b[i] + c[i];", false)), Vec::<&str>::new());
    let explicit = "o[i] = __fadd_rn(__fadd_rn(__fmul_rn(a[i], b[i]), c[i]), __fdiv_rn(__fsqrt_rn(a[i]), b[i]));";
    assert_eq!(reasons(&ptx_of(explicit, true)), Vec::<&str>::new());
    // ... while a plain `+` under --fmad=true is left contractible, and caught.
    assert!(!reasons(&ptx_of("o[i] = __fmul_rn(a[i], b[i]) + c[i];", true)).is_empty());
    // The project's exp and SiLU are clean.
    assert_eq!(reasons(&ptx_of("o[i] = silu(a[i]) + exp_f32(b[i]);", false)), Vec::<&str>::new());
}

/// The source with comments removed (line and block comments).
fn code_of(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = rest[i..].split_once("*/").map_or("", |(_, r)| r);
    }
    out.push_str(rest);
    out.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

#[test]
fn kernel_sources_name_their_cpu_twin_and_avoid_banned_calls() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for k in KERNELS {
        let first = k.source.lines().next().unwrap_or("");
        let twin = first.strip_prefix("// CPU twin: ").unwrap_or_else(|| panic!("{}: first line {first:?}", k.file));
        let path = twin.split_whitespace().next().unwrap();
        let text = std::fs::read_to_string(root.join(path)).unwrap_or_else(|_| panic!("{}: no file {path}", k.file));
        let names: Vec<&str> = twin.split('`').skip(1).step_by(2).collect();
        assert!(!names.is_empty(), "{}: name the twin function in backticks", k.file);
        let first_name = names[0];
        assert!(text.contains(&format!("fn {first_name}(")), "{}: {path} has no fn {first_name}", k.file);
    }
    let banned = [
        "__expf",
        "__exp10f",
        "__logf",
        "__powf",
        "__sinf",
        "__cosf",
        "__tanf",
        "__fdividef",
        "__frcp",
        "__frsqrt",
        "__fmaf",
        "__fma_",
        "fmaf(",
        "fma(",
        "expf(",
        "exp2f(",
        "logf(",
        "powf(",
        "sinf(",
        "cosf(",
        "tanhf(",
        "rsqrtf(",
        "sqrtf(",
        "atomic",
        "__fsqrt_r",
        "_ru(",
        "_rd(",
        "_rz(",
    ];
    for (file, src) in KERNELS.iter().map(|k| (k.file, k.source)).chain([("common.cuh", COMMON)]) {
        let code = code_of(src);
        for b in banned {
            // __fsqrt_rn (IEEE) is the one square root allowed.
            let hits = code.matches(b).count() - if b == "__fsqrt_r" { code.matches("__fsqrt_rn").count() } else { 0 };
            let hits = if b == "_rz(" { hits - code.matches("__float2int_rz(").count() } else { hits };
            assert_eq!(hits, 0, "{file} uses {b}");
        }
    }
}
