#!/usr/bin/env bash
# Builds the local node launcher (localnet/, `spotcheck-localnet`: Surfpool's
# surfpool-core around the SBF program) once per machine and prints the
# binary's absolute path on stdout (everything else goes to stderr).
#
# The build is keyed by a hash of localnet/'s sources, Cargo.toml and
# Cargo.lock: a binary built from exactly these is reused without running
# cargo; any change rebuilds (incrementally, in one shared target dir, so
# only the launcher crate recompiles unless the lock changed). A cold build
# compiles ~1,000 crates (see README, "Local node"), so it runs under `nice`
# to leave the machine usable.
#
#   --check                 print the path if a binary for the current sources
#                           is installed, else exit 1 with a message; never builds
#   --test [ARGS]           run the launcher's tests (cargo test --release, in the
#                           same target dir, so the build's crates are reused);
#                           ARGS go to cargo test (scripts/test.sh runs this)
#   SPOTCHECK_LOCALNET_HOME where builds and binaries live
#                           (default: ${XDG_DATA_HOME:-~/.local/share}/spotcheck-localnet)
#   CARGO_BUILD_JOBS        cargo's parallelism (default: 2)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
home="${SPOTCHECK_LOCALNET_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/spotcheck-localnet}"
say() { echo "install-localnet: $*" >&2; }

mode=install
case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    --test) mode=test; shift ;;
    *) say "unknown argument '$1' (usage: install-localnet.sh [--check | --test [CARGO TEST ARGS]])"; exit 2 ;;
esac

cargo_in_home() {
    command -v cargo >/dev/null || { say "cargo not found: install Rust 1.95 with rustup first (https://rustup.rs)"; exit 1; }
    mkdir -p "$home"
    CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" CARGO_TARGET_DIR="$home/target" \
        nice -n 15 cargo "$1" --release --locked --manifest-path "$root/localnet/Cargo.toml" "${@:2}"
}

if [ "$mode" = test ]; then
    say "testing spotcheck-localnet (cargo test --release in $home/target)"
    # The tests' output is the point here, so it goes to stdout as cargo prints it.
    cargo_in_home test "$@"
    exit 0
fi

# The key covers every file in localnet/ except a local target/ (build output);
# file names are part of it, so a rename or a new file also rebuilds.
key="$(cd "$root/localnet" &&
    find . -path ./target -prune -o -type f -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum | sha256sum | cut -c1-16)"
bin="$home/bin-$key/spotcheck-localnet"

if [ -x "$bin" ]; then
    echo "$bin"
    exit 0
fi
if [ "$mode" = check ]; then
    say "no spotcheck-localnet built for the current localnet/ sources (looked for $bin):"
    say "run scripts/install-localnet.sh to build it (a first build takes 20-35 min on 2 cores)"
    exit 1
fi

say "building spotcheck-localnet (surfpool-core 1.6.1) into $home/target"
say "a first build compiles ~1,000 crates (20-35 min on 2 cores); later ones reuse them"
cargo_in_home build >&2

# Publish atomically: a half-copied binary must never look installed.
mkdir -p "$home/bin-$key"
cp "$home/target/release/spotcheck-localnet" "$bin.tmp"
mv "$bin.tmp" "$bin"
# Binaries of older sources are ~45 MB each and nothing looks for them.
find "$home" -maxdepth 1 -type d -name 'bin-*' ! -name "bin-$key" -exec rm -rf {} +
say "installed $bin"
echo "$bin"
