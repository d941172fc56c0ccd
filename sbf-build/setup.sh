#!/usr/bin/env bash
# Installs the SBF toolchain this folder builds with (see README.md). Idempotent:
# each step checks for its result first, so a second run takes about a second.
#   1. Debian packages: rustc-web / cargo-web 1.96 (LLVM 22), rust-web-src (std source)
#   2. sbpf-linker 0.2.6 from crates.io, built against Debian's LLVM 22
#   3. a patched copy of rustc 1.96's library/ for the custom os = "solana" target
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sbf_home=${SPOTCHECK_SBF_HOME:-$HOME/.local/share/spotcheck-sbf}
rust_src=/usr/src/rustc-1.96.0/library
llvm_prefix=/usr/lib/llvm-22
sbpf_linker_version=0.2.6

say() { echo "sbf-setup: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Debian packages -----------------------------------------------------------
# (Version checks capture the output first: `cmd | grep -q` under pipefail
# fails when grep exits before cmd has written everything.)
rustc_version=$(/usr/bin/rustc --version 2>/dev/null || true)
if [[ $rustc_version != "rustc 1.96"* ]] \
  || [ ! -d "$rust_src/std" ] || [ ! -x "$llvm_prefix/bin/llvm-dis" ] || [ ! -x "$llvm_prefix/bin/llvm-config" ]; then
  say "installing rustc-web, cargo-web, rust-web-src (Debian; ~45 s)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc-web cargo-web rust-web-src >/dev/null
fi
rustc_version=$(/usr/bin/rustc --version 2>/dev/null || true)
[[ $rustc_version == "rustc 1.96"* ]] || { say "Debian's rustc-web is not 1.96 ($rustc_version). The std patch in std/ is written for 1.96; update it for this version."; exit 1; }

# 2. sbpf-linker ---------------------------------------------------------------
linker_version=$("$sbf_home/bin/sbpf-linker" --version 2>/dev/null || true)
if [[ $linker_version != *"sbpf-linker $sbpf_linker_version"* ]]; then
  say "building sbpf-linker $sbpf_linker_version against LLVM 22 (~5 min on 2 cores)"
  # Build with the rustup toolchain (1.95), not Debian's cargo: sbpf-linker's lock pins
  # crates that need a rustc this recent, and it links Debian's libLLVM.so.22.1.
  LLVM_PREFIX=$llvm_prefix LLVM_SYS_221_PREFIX=$llvm_prefix \
    cargo install "sbpf-linker@$sbpf_linker_version" --locked --no-default-features \
    --features bpf-linker/llvm-22 --root "$sbf_home" --quiet
fi

# 3. patched std ----------------------------------------------------------------
patch_hash=$(cat "$here/std/std-solana.patch" "$here/std/alloc-solana.rs" | sha256sum | cut -c1-16)
std_dir="$sbf_home/std-$patch_hash"
if [ ! -f "$std_dir/.complete" ]; then
  say "patching a copy of rustc 1.96's library/ for os = \"solana\" -> $std_dir"
  rm -rf "$std_dir"
  mkdir -p "$std_dir"
  cp -r "$rust_src" "$std_dir/library"
  patch -s -d "$std_dir/library" -p1 < "$here/std/std-solana.patch"
  cp "$here/std/alloc-solana.rs" "$std_dir/library/std/src/sys/alloc/solana.rs"
  touch "$std_dir/.complete"
fi
echo "$std_dir/library"
