#!/usr/bin/env bash
# Installs NVIDIA's NVRTC runtime compiler (PyPI wheel nvidia-cuda-nvrtc-cu12,
# the CUDA 12.9 NVRTC, no GPU or CUDA toolkit needed) into the project's
# virtualenv and prints the absolute directory holding libnvrtc.so.12 on
# stdout (everything else goes to stderr). Idempotent: when the pinned
# version is already installed nothing touches the network.
#
# The engine never downloads anything: point it at this directory with
#   export SPOTCHECK_NVRTC_LIB_DIR="$(engine/scripts/install-nvrtc.sh)"
# (see engine/README.md, "CUDA backend").
#
#   SPOTCHECK_VENV            virtualenv to create/use (default: <repo>/.venv)
#   PYTHON                    interpreter used to create it (default: python3)
#   SPOTCHECK_NVRTC_VERSION   wheel version (default 12.9.86). A GPU driver
#                             older than CUDA 12.9 cannot load 12.9's PTX:
#                             pick a 12.x release the driver supports, e.g.
#                             12.4.127 for a CUDA 12.4 driver (nvidia-smi
#                             prints the driver's CUDA version).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${SPOTCHECK_VENV:-$(cd "$here/../.." && pwd)/.venv}"
python="${PYTHON:-python3}"
version="${SPOTCHECK_NVRTC_VERSION:-12.9.86}"
package="nvidia-cuda-nvrtc-cu12==$version"

# Prints the lib directory if the pinned version is installed in the venv.
find_lib() {
    [ -x "$venv/bin/python" ] || return 1
    "$venv/bin/python" - "$version" <<'PY'
import importlib.metadata as md, pathlib, sys
try:
    if md.version("nvidia-cuda-nvrtc-cu12") != sys.argv[1]:
        sys.exit(1)
    dist = md.distribution("nvidia-cuda-nvrtc-cu12")
except md.PackageNotFoundError:
    sys.exit(1)
for f in dist.files or []:
    if f.name == "libnvrtc.so.12":
        p = pathlib.Path(dist.locate_file(f)).resolve()
        if p.is_file():
            print(p.parent)
            sys.exit(0)
sys.exit(1)
PY
}

if dir="$(find_lib 2>/dev/null)"; then
    echo "$dir"
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "creating virtualenv $venv" >&2
    "$python" -m venv "$venv" >&2
fi
echo "installing $package into $venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$package" >&2

if ! dir="$(find_lib)"; then
    echo "error: $package installed but libnvrtc.so.12 was not found in it" >&2
    exit 1
fi
echo "$dir"
