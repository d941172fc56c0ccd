//! The CUDA kernel sources (`engine/kernels/*.cu`, embedded at build time)
//! and their run-time compilation by NVRTC with the options that keep the
//! arithmetic IEEE: no FMA contraction, no flush-to-zero, IEEE division and
//! square root. Every PTX is checked by [`super::ptx::check`] before use.

use cudarc::nvrtc::{CompileError, CompileOptions, compile_ptx_with_opts};

use super::ptx;

/// Prepended to every kernel: R32 tree, exp, SiLU, rounding.
pub const COMMON: &str = include_str!("../../../kernels/common.cuh");

/// One kernel file: one op (or one op's per-type variants).
#[derive(Clone, Copy, Debug)]
pub struct KernelSource {
    /// File name under `engine/kernels/`.
    pub file: &'static str,
    /// The file's text (without [`COMMON`]).
    pub source: &'static str,
    /// The `extern "C" __global__` functions it defines.
    pub entries: &'static [&'static str],
}

macro_rules! kernel {
    ($file:literal, [$($entry:literal),+]) => {
        KernelSource { file: $file, source: include_str!(concat!("../../../kernels/", $file)), entries: &[$($entry),+] }
    };
}

/// Every kernel, one file per op.
pub const KERNELS: &[KernelSource] = &[
    kernel!("embed.cu", ["embed_f32", "embed_q8_0", "embed_q4_1"]),
    kernel!("rmsnorm.cu", ["rmsnorm"]),
    kernel!("quantize_q8.cu", ["quantize_q8"]),
    kernel!("matmul.cu", ["matmul_f32", "matmul_q8_0", "matmul_q4_1"]),
    kernel!("rope.cu", ["rope"]),
    kernel!("attention.cu", ["attention"]),
    kernel!("silu_mul.cu", ["silu_mul"]),
    kernel!("add.cu", ["add"]),
    kernel!("argmax.cu", ["argmax"]),
    kernel!("hash_rows.cu", ["hash_rows"]),
];

impl KernelSource {
    /// What NVRTC compiles: [`COMMON`], then the file (with a `#line` so
    /// compiler messages name the file and its own line numbers).
    pub fn full_source(&self) -> String {
        format!("{COMMON}\n#line 1 \"{}\"\n{}", self.file, self.source)
    }
}

/// The virtual architecture the tests compile for, and the fallback when
/// NVRTC does not know the device's own: Volta, the oldest GPU generation
/// CUDA 12 fully supports (dp4a and the *_sync warp shuffles need 6.1+).
pub const BASELINE_ARCH: &str = "compute_70";

/// Virtual architectures the tests compile every kernel for: Volta to
/// Blackwell (the backend compiles for the device's own at run time and
/// checks that PTX too).
pub const TEST_ARCHS: &[&str] =
    &["compute_70", "compute_75", "compute_80", "compute_86", "compute_89", "compute_90", "compute_100", "compute_120"];

/// NVRTC options of rule 3: `--fmad=false --ftz=false --prec-div=true
/// --prec-sqrt=true`, no fast math.
pub fn compile_options(arch: &str) -> CompileOptions {
    CompileOptions {
        ftz: Some(false),
        prec_sqrt: Some(true),
        prec_div: Some(true),
        fmad: Some(false),
        use_fast_math: Some(false),
        options: vec![format!("--gpu-architecture={arch}"), "--std=c++17".into()],
        ..Default::default()
    }
}

/// Why a kernel could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileFailure {
    /// NVRTC rejected the source or the options.
    Nvrtc(String),
    /// The PTX breaks a determinism rule.
    Rules(Vec<ptx::Violation>),
    /// An entry point listed in [`KERNELS`] is missing from the PTX.
    MissingEntry(&'static str),
}

impl std::fmt::Display for CompileFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileFailure::Nvrtc(log) => write!(f, "NVRTC: {log}"),
            CompileFailure::Rules(v) => {
                write!(f, "{} rule-breaking PTX instruction(s)", v.len())?;
                for x in v.iter().take(5) {
                    write!(f, "; {x}")?;
                }
                Ok(())
            }
            CompileFailure::MissingEntry(e) => write!(f, "entry point {e} missing from the PTX"),
        }
    }
}

fn nvrtc_message(e: CompileError) -> String {
    match e {
        CompileError::CompileError { nvrtc, options, log } => {
            format!("{nvrtc:?} with {options:?}: {}", log.to_string_lossy())
        }
        other => format!("{other:?}"),
    }
}

/// Compiles `source` (complete, e.g. [`KernelSource::full_source`]) to PTX.
/// NVRTC must be loaded (see [`super::driver::load_nvrtc`]); this function
/// does not check the rules.
pub fn compile_raw(source: &str, options: CompileOptions) -> Result<String, CompileFailure> {
    if source.contains('\0') {
        return Err(CompileFailure::Nvrtc("source contains a NUL byte".into()));
    }
    let ptx = compile_ptx_with_opts(source, options).map_err(|e| CompileFailure::Nvrtc(nvrtc_message(e)))?;
    // NVRTC output is always PTX text (never a cubin) here.
    Ok(ptx.to_src())
}

/// Compiles one kernel file for `arch` and checks its PTX: the rules, and
/// that every listed entry point is there.
pub fn compile(kernel: &KernelSource, arch: &str) -> Result<String, CompileFailure> {
    let ptx = compile_raw(&kernel.full_source(), compile_options(arch))?;
    let violations = ptx::check(&ptx);
    if !violations.is_empty() {
        return Err(CompileFailure::Rules(violations));
    }
    let found = ptx::entries(&ptx);
    if let Some(missing) = kernel.entries.iter().find(|e| !found.iter().any(|f| f == *e)) {
        return Err(CompileFailure::MissingEntry(missing));
    }
    Ok(ptx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_file_is_listed_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".cu"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = KERNELS.iter().map(|k| k.file.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }

    /// The value of a C hex-float literal such as `-0x1.bd0106p-13f`.
    fn hex_float(lit: &str) -> f64 {
        let (neg, rest) = lit.strip_prefix('-').map_or((false, lit), |r| (true, r));
        let rest = rest.trim_start_matches("0x").trim_end_matches('f');
        let (mant, exp) = rest.split_once('p').unwrap();
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        let mut v = u64::from_str_radix(int, 16).unwrap() as f64;
        for (i, c) in frac.chars().enumerate() {
            v += c.to_digit(16).unwrap() as f64 / 16f64.powi(i as i32 + 1);
        }
        let v = v * 2f64.powi(exp.parse().unwrap());
        if neg { -v } else { v }
    }

    #[test]
    fn exp_constants_match_the_cpu() {
        use crate::engine::math::exp_consts::*;
        let body = COMMON.split("float exp_f32(float x)").nth(1).unwrap().split("float silu").next().unwrap();
        let lits: Vec<f32> = body
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '+'))
            .filter(|t| t.trim_start_matches('-').starts_with("0x1."))
            .map(|t| hex_float(t) as f32)
            .collect();
        let want = [LOG2E, C1, C2, MAX, MIN, POLY[0], POLY[1], POLY[2], POLY[3], POLY[4]];
        assert_eq!(lits.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want.map(f32::to_bits).to_vec());
    }

    #[test]
    fn options_are_the_ieee_ones() {
        let o = compile_options(BASELINE_ARCH);
        assert_eq!(
            (o.fmad, o.ftz, o.prec_div, o.prec_sqrt, o.use_fast_math),
            (Some(false), Some(false), Some(true), Some(true), Some(false))
        );
    }
}
