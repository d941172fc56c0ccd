#!/usr/bin/env bash
# Builds target/deploy/spotcheck.so, a real SBPF v0 ELF of the Anchor program,
# with the toolchain setup.sh installs (see README.md). Seconds when nothing
# changed. The workspace itself stays stock Anchor: the crate patches below
# are given to cargo on the command line, and Cargo.lock is put back after.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
std_library=$("$here/setup.sh")
target_dir="$root/target/sbf"
crates_dir="$target_dir/patched-crates"

cd "$root"
cargo fetch --locked --quiet 2>/dev/null || cargo fetch --quiet

# Patched copies of the two crates (see crate-patches/), keyed by the patch's
# hash so an edited patch makes a fresh copy.
registry_src() { # $1: crate-version -> its unpacked source in cargo's registry
  local dir
  for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$1"; do
    [ -d "$dir" ] && { echo "$dir"; return; }
  done
  echo "sbf-build: $1 is not in cargo's registry after 'cargo fetch'; is Cargo.lock pinning it?" >&2
  exit 1
}
patch_args=()
for patch_file in "$here"/crate-patches/*.patch; do
  crate_version=$(basename "$patch_file" .patch)        # e.g. anchor-syn-1.2.2
  crate=${crate_version%-*}
  version=${crate_version##*-}
  locked_versions=$(grep -A1 "^name = \"$crate\"$" Cargo.lock || true)
  [[ $locked_versions == *"version = \"$version\""* ]] || {
    echo "sbf-build: Cargo.lock no longer has $crate $version; port crate-patches/$crate_version.patch to the new version" >&2
    exit 1
  }
  hash=$(sha256sum "$patch_file" | cut -c1-12)
  copy="$crates_dir/$crate_version-$hash"
  if [ ! -f "$copy/.complete" ]; then
    rm -rf "$copy"
    mkdir -p "$crates_dir"
    cp -r "$(registry_src "$crate_version")" "$copy"
    patch -s -d "$copy" -p1 < "$patch_file"
    touch "$copy/.complete"
  fi
  patch_args+=(--config "patch.crates-io.$crate.path=\"$copy\"")
done

# The patches change Cargo.lock's entries for those crates to path sources;
# restore the committed lock however the build ends.
cp Cargo.lock "$target_dir.Cargo.lock.saved" 2>/dev/null || { mkdir -p "$root/target"; cp Cargo.lock "$target_dir.Cargo.lock.saved"; }
trap 'cp "$target_dir.Cargo.lock.saved" "$root/Cargo.lock"' EXIT

export RUSTC_BOOTSTRAP=1                       # -Zbuild-std on a stable rustc
export RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1      # a custom target may build std
export __CARGO_TESTS_ONLY_SRC_ROOT="$std_library"  # build std from the patched copy
export RUSTC=/usr/bin/rustc                    # Debian's rustc-web 1.96 (LLVM 22)
unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER
export CARGO_ENCODED_RUSTFLAGS=$(printf '%s\x1f' \
  -C "linker=$here/link-wrap.sh" \
  -C target-cpu=v2 \
  -C target-feature=+allows-misaligned-mem-access \
  -C link-arg=--arch=v0 \
  -C link-arg=--llvm-args=--bpf-stack-size=4096 \
  -C link-arg=--llvm-args=--disable-movsx \
  -C link-arg=--llvm-args=--disable-ldsx \
  -C link-arg=--disable-math-builtins \
  -C passes=lower-atomic \
  --cfg spotcheck_upstream_sbf | sed 's/\x1f$//')

# rustc warns once per crate that `allows-misaligned-mem-access` is an
# unstable target feature (SBPF v0 does allow misaligned access); drop just
# that warning so real diagnostics stand out.
/usr/bin/cargo build --release --quiet \
  -p spotcheck \
  --target "$here/bpfel-solana-solana.json" \
  -Zbuild-std=std,panic_abort -Zjson-target-spec \
  --target-dir "$target_dir" \
  "${patch_args[@]}" \
  2> >(grep -v -e 'unstable feature specified for `-Ctarget-feature`: `allows-misaligned-mem-access`' \
               -e 'this feature is not stably supported; its behavior can change in the future' \
               -e '^  |$' -e '^$' >&2)

so="$target_dir/bpfel-solana-solana/release/libspotcheck.so"
# e_machine at offset 18: 247 = EM_BPF
machine=$(od -An -tu2 -j18 -N2 "$so" | tr -d ' ')
[ "$machine" = 247 ] || { echo "sbf-build: $so is not a BPF ELF (e_machine $machine)" >&2; exit 1; }
mkdir -p "$root/target/deploy"
cp "$so" "$root/target/deploy/spotcheck.so"
cp "$root/keys/spotcheck-program-keypair.json" "$root/target/deploy/spotcheck-keypair.json"
echo "target/deploy/spotcheck.so: $(stat -c %s "$root/target/deploy/spotcheck.so") bytes, SBPF v0" >&2
