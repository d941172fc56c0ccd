#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs `spotcheck demo`: a market on
# an embedded chain (LiteSVM running the SBF build of the program), with a report.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
cargo run --quiet --locked --release -p spotcheck-cli -- demo "$@"
