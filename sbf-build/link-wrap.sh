#!/usr/bin/env bash
# The `-C linker` of the SBF build (see README.md in this folder).
#
# rustc hands the linker LLVM bitcode (.o objects and .rlib archives of bitcode
# members). Before sbpf-linker turns it into an SBPF ELF, every bitcode module
# is disassembled and fixed up for LLVM 22's BPF backend:
#   - `sret(...)` attributes are removed (the backend rejects aggregate returns;
#     on BPF sret is only a pointer in r1, so dropping the attribute keeps the ABI);
#   - calls to `llvm.umul.with.overflow.i64` go to the libcall-free version in
#     umulo.ll (the default expansion needs __multi3, which BPF cannot call).
# Operations that would need a libcall (i128 mul/div, floats) are noted, and
# printed if the link fails, so a link error names its likely cause.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
llvm_bin=${SPOTCHECK_LLVM_BIN:-/usr/lib/llvm-22/bin}
sbf_home=${SPOTCHECK_SBF_HOME:-$HOME/.local/share/spotcheck-sbf}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

is_bitcode() { [ "$(head -c4 "$1" | od -An -tx1 | tr -d ' \n')" = "4243c0de" ]; }

fix_bitcode() { # $1: bitcode file, rewritten in place
  local ll="$1.ll"
  "$llvm_bin/llvm-dis" "$1" -o "$ll"
  sed -E -i 's/ sret\((\[[0-9]+ x i[0-9]+\]|%[A-Za-z0-9_."$:<>-]+|\{[^}]*\}|i[0-9]+)\)//g' "$ll"
  if grep -q 'call { i64, i1 } @llvm.umul.with.overflow.i64(' "$ll"; then
    sed -i 's/call { i64, i1 } @llvm.umul.with.overflow.i64(/call { i64, i1 } @__spotcheck_umulo64(/g' "$ll"
    cat "$here/umulo.ll" >> "$ll"
  fi
  local libcalls
  libcalls=$(grep -oE 'smul.with.overflow.i64\(|= (mul|udiv|urem|sdiv|srem)( nuw| nsw)* i128 |= (fadd|fsub|fmul|fdiv|fptoui|fptosi|uitofp|sitofp) [a-z0-9]+' "$ll" | sort | uniq -c || true)
  if [ -n "$libcalls" ]; then
    { echo "  $(basename "$(dirname "$1")")/$(basename "$1"):"; echo "$libcalls" | head -12; } >> "$scratch/libcalls.txt"
  fi
  "$llvm_bin/llvm-as" "$ll" -o "$1"
  rm -f "$ll"
}

args=()
n=0
for arg in "$@"; do
  if [[ -f "$arg" && "$arg" == *.o ]] && is_bitcode "$arg"; then
    n=$((n + 1))
    cp "$arg" "$scratch/obj$n.o"
    fix_bitcode "$scratch/obj$n.o"
    args+=("$scratch/obj$n.o")
  elif [[ -f "$arg" && "$arg" == *.rlib ]]; then
    n=$((n + 1))
    dir="$scratch/rlib$n"
    mkdir -p "$dir"
    (cd "$dir" && "$llvm_bin/llvm-ar" x "$arg")
    for member in "$dir"/*; do
      if is_bitcode "$member"; then fix_bitcode "$member"; fi
    done
    (cd "$dir" && "$llvm_bin/llvm-ar" rc "$scratch/$(basename "$arg")" *)
    args+=("$scratch/$(basename "$arg")")
  else
    args+=("$arg")
  fi
done

# Inline aggressively: what survives as a call is bound by BPF's five
# argument registers, and Anchor's generated code has many small calls.
"$sbf_home/bin/sbpf-linker" "${args[@]}" --llvm-args=-inline-threshold="${SPOTCHECK_SBF_INLINE_THRESHOLD:-100000}" || {
  status=$?
  if [ -s "$scratch/libcalls.txt" ]; then
    echo "sbf link-wrap: inputs with operations BPF can only do by libcall (fine if optimised away; a cause if not):" >&2
    cat "$scratch/libcalls.txt" >&2
  fi
  exit $status
}
