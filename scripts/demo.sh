#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs `spotcheck demo`: a whole
# market on an embedded chain (LiteSVM running the SBF build of the program)
# with real SmolLM2 answers, a cheating provider caught and slashed, and a
# report of every balance. Extra arguments go to `spotcheck demo` (--help).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
# The dev profile: the tests have built most of it already, and the engine
# is compiled optimised even there (Cargo.toml).
cargo run --quiet --locked -p spotcheck-cli -- demo --model "$("$root/engine/scripts/install-model.sh")" "$@"
