#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs every check and test:
# formatting, clippy with warnings as errors, the committed IDL against the
# program, the whole workspace's tests (the program's run on its SBF build in
# LiteSVM), the local node's tests (a real node started by scripts/localnet.sh),
# then prints the program's compute-unit table.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
start=$(date +%s)

SPOTCHECK_IDL_CHECK=1 "$root/scripts/setup.sh"

echo "test: cargo fmt --check" >&2
cargo fmt --all --check
cargo fmt --check --manifest-path localnet/Cargo.toml

echo "test: cargo clippy -D warnings" >&2
cargo clippy --quiet --locked --workspace --all-targets -- -D warnings

echo "test: cargo test" >&2
# The real-model tests, the NVRTC kernel compile + PTX checks and the CUDA
# kernels on the host SIMT emulator must run here, not skip, and so must the
# RPC tier of the chain conformance tests (client/tests/chain_conformance.rs,
# a real local node started by scripts/localnet.sh; setup built it). (On a
# CUDA machine, add SPOTCHECK_REQUIRE_CUDA=1 to run the GPU tests too.)
SPOTCHECK_SMOLLM2_GGUF=$("$root/engine/scripts/install-model.sh") SPOTCHECK_REQUIRE_MODEL=1 \
SPOTCHECK_NVRTC_LIB_DIR=$("$root/engine/scripts/install-nvrtc.sh") SPOTCHECK_REQUIRE_NVRTC=1 \
SPOTCHECK_REQUIRE_SIMT=1 SPOTCHECK_REQUIRE_LOCALNET=1 \
  cargo test --quiet --locked --workspace

echo "test: local node (scripts/localnet.sh with the Surfpool launcher)" >&2
# Its own package (not a workspace member), tested in the target dir
# setup built it in. SPOTCHECK_REQUIRE_LOCALNET: the node test must run here.
SPOTCHECK_REQUIRE_LOCALNET=1 "$root/scripts/install-localnet.sh" --test --quiet

echo "test: compute units per instruction (SBF build)" >&2
cargo test --quiet --locked -p spotcheck-tests --test compute_units -- --nocapture 2>&1 | grep '^|'

echo "test: all passed in $(( $(date +%s) - start )) s" >&2
