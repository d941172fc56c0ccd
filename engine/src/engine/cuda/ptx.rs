//! The PTX check: scans the PTX that NVRTC generated for instructions that
//! would let the GPU round differently from the CPU backend. Run by the
//! tests on every kernel and by [`super::CudaBackend`] on the PTX it is
//! about to load, so a kernel that breaks the rules never runs.
//!
//! Rejected (one [`Violation`] per offending instruction):
//!
//! | instruction | why |
//! |---|---|
//! | `fma.*`, float `mad.*` | fused multiply-add rounds once where the CPU rounds twice (rule 3) |
//! | `mul/add/sub.f32` without a rounding modifier | ptxas may contract them into an FMA; `.rn` forbids it |
//! | any `.approx`, `div.full` | approximate division, reciprocal, sqrt, rsqrt, sin, cos, ex2, lg2 |
//! | `ex2`, `lg2`, `sin`, `cos`, `tanh`, `rsqrt` | hardware transcendentals (rule 4: the engine's own routines only) |
//! | any `.ftz` | flush-to-zero (subnormals are kept) |
//! | `atom.*`, `red.*` | atomics: their order, and so a float sum's bits, depends on scheduling (rule 1) |
//! | `.sat` on a float op | saturating float arithmetic the CPU does not do |

/// One rejected instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// 1-based line in the PTX text.
    pub line: usize,
    /// The instruction as written (trimmed).
    pub instruction: String,
    pub reason: &'static str,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: `{}`: {}", self.line, self.instruction, self.reason)
    }
}

const FLOAT_TYPES: [&str; 5] = ["f16", "f16x2", "bf16", "f32", "f64"];
const ROUNDING: [&str; 4] = ["rn", "rz", "rm", "rp"];
const TRANSCENDENTAL: [&str; 6] = ["ex2", "lg2", "sin", "cos", "tanh", "rsqrt"];

/// The opcode of a PTX instruction line (`fma.rn.f32`), or None for
/// directives, labels, braces, blank lines and comments.
fn opcode(line: &str) -> Option<&str> {
    let code = line.split("//").next().unwrap_or("").trim();
    if code.is_empty() || code.starts_with('.') || code.starts_with('{') || code.starts_with('}') {
        return None;
    }
    if code.ends_with(':') {
        return None; // a label
    }
    let mut tokens = code.split_whitespace();
    let mut first = tokens.next()?;
    if first.starts_with('@') {
        first = tokens.next()?; // predicated: `@%p1 bra $L__BB0_2;`
    }
    let op = first.trim_end_matches(';');
    // Directive-like tokens inside function bodies (`.reg`, `.loc`) start with '.'.
    if op.starts_with('.') || op.is_empty() { None } else { Some(op) }
}

/// Why an opcode breaks bit-exactness, if it does.
fn reject(op: &str) -> Option<&'static str> {
    let parts: Vec<&str> = op.split('.').collect();
    let base = parts[0];
    let has = |p: &str| parts[1..].contains(&p);
    let is_float = parts[1..].iter().any(|p| FLOAT_TYPES.contains(p));
    if base == "fma" {
        return Some("fused multiply-add (rule 3)");
    }
    if base == "mad" && (is_float || parts[1..].iter().any(|p| ROUNDING.contains(p))) {
        return Some("float multiply-add (rule 3)");
    }
    if has("approx") {
        return Some("approximate math (rule 4)");
    }
    if base == "div" && has("full") {
        return Some("approximate full-range division");
    }
    if TRANSCENDENTAL.contains(&base) {
        return Some("hardware transcendental (rule 4)");
    }
    if has("ftz") {
        return Some("flush-to-zero (rule 3)");
    }
    if base == "atom" || base == "red" {
        return Some("atomic operation (rule 1: reductions have one order)");
    }
    if is_float && has("sat") && base != "cvt" {
        return Some("saturating float arithmetic");
    }
    if matches!(base, "mul" | "add" | "sub") && is_float && !parts[1..].iter().any(|p| ROUNDING.contains(p)) {
        return Some("float arithmetic without a rounding modifier may be contracted into an FMA by ptxas");
    }
    None
}

/// Every rule-breaking instruction in `ptx` (empty when the PTX is clean).
pub fn check(ptx: &str) -> Vec<Violation> {
    ptx.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let op = opcode(line)?;
            let reason = reject(op)?;
            Some(Violation { line: i + 1, instruction: line.trim().to_owned(), reason })
        })
        .collect()
}

/// The kernel entry points the PTX defines (`.entry name(`).
pub fn entries(ptx: &str) -> Vec<String> {
    ptx.lines()
        .filter_map(|line| {
            let code = line.split("//").next().unwrap_or("");
            let at = code.find(".entry ")?;
            let rest = code[at + ".entry ".len()..].trim_start();
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(line: &str) -> bool {
        !check(line).is_empty()
    }

    #[test]
    fn rejects_what_breaks_bits() {
        for bad in [
            "\tfma.rn.f32 \t%f3, %f1, %f2, %f3;",
            "fma.rn.f64 %fd1, %fd2, %fd3, %fd4;",
            "mad.rn.f32 %f1, %f2, %f3, %f4;",
            "mad.f32 %f1, %f2, %f3, %f4;",
            "ex2.approx.ftz.f32 %f2, %f1;",
            "ex2.approx.f32 %f2, %f1;",
            "lg2.approx.f32 %f2, %f1;",
            "rsqrt.approx.f32 %f2, %f1;",
            "rcp.approx.ftz.f64 %fd1, %fd2;",
            "sqrt.approx.f32 %f2, %f1;",
            "div.approx.f32 %f3, %f1, %f2;",
            "div.full.f32 %f3, %f1, %f2;",
            "sin.approx.f32 %f2, %f1;",
            "cos.approx.f32 %f2, %f1;",
            "tanh.approx.f32 %f2, %f1;",
            "add.rn.ftz.f32 %f3, %f1, %f2;",
            "cvt.ftz.f32.f16 %f1, %h1;",
            "atom.global.add.f32 %f1, [%rd1], %f2;",
            "red.global.add.f32 [%rd1], %f2;",
            "@%p1 red.shared.add.u32 [%r1], 1;",
            "mul.f32 %f3, %f1, %f2;",
            "add.f32 %f3, %f1, %f2;",
            "sub.f64 %fd3, %fd1, %fd2;",
            "add.sat.f32 %f3, %f1, %f2;",
        ] {
            assert!(flagged(bad), "{bad:?} passed");
        }
    }

    #[test]
    fn accepts_exact_instructions() {
        let clean = "\
.version 8.8
.target sm_70
.address_size 64
	// .globl	rmsnorm
.visible .entry rmsnorm(
	.param .u64 rmsnorm_param_0
)
{
	.reg .f32 %f<9>;
$L__BB0_2:
	mul.rn.f32 %f3, %f1, %f2;
	add.rn.f32 %f4, %f3, %f4;
	sub.rn.f32 %f4, %f3, %f4;
	div.rn.f32 %f5, %f4, %f6;
	sqrt.rn.f32 %f7, %f5;
	rcp.rn.f32 %f8, %f7;
	mad.lo.s32 %r1, %r2, %r3, %r4;
	mad.wide.s32 %rd1, %r1, 4, %rd2;
	mul.wide.u32 %rd3, %r1, 4;
	add.s64 %rd4, %rd3, %rd2;
	dp4a.s32.s32 %r5, %r6, %r7, %r5;
	cvt.rzi.s32.f32 %r8, %f1;
	cvt.rn.f32.s32 %f1, %r8;
	cvt.sat.s8.s32 %r1, %r2;
	shfl.sync.down.b32 %f2|%p1, %f1, 16, 31, -1;
	abs.f32 %f1, %f2;
	neg.f32 %f1, %f2;
	setp.gt.f32 %p1, %f1, %f2;
	@%p1 bra $L__BB0_2;
	redux.sync.add.u32 %r1, %r2, -1;
	ret;
}
";
        assert_eq!(check(clean), Vec::new());
        assert_eq!(entries(clean), vec!["rmsnorm".to_string()]);
    }

    #[test]
    fn names_the_line() {
        let v = check("ret;\n// fma.rn.f32 in a comment\n  fma.rn.f32 %f1, %f2, %f3, %f4; // here\n");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].line, 3);
        assert!(v[0].to_string().contains("fused multiply-add"));
    }
}
