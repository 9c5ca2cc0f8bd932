#!/usr/bin/env bash
# Build a cdylib package of this workspace for wasm32-wasip1 (release profile)
# and write the module, optimised by wasm-opt when it is available, to OUTPUT.
#
# Usage: scripts/build-wasm.sh <package> <output.wasm>
#        scripts/build-wasm.sh --toolchain-only   (only install Debian's wasm toolchain)
#
# Toolchain selection:
#   * rustup with the wasm32-wasip1 target installed: plain `cargo build`.
#   * otherwise Debian's rustc-web/cargo-web toolchain, building std from
#     rust-web-src (-Zbuild-std) and linking with wasm-ld against wasi-libc.
#     Missing Debian packages are installed with apt-get (needs root or sudo).
#
# Environment:
#   WASM_OPT_LEVEL   wasm-opt optimisation flag (default: -O3)
#   NO_WASM_OPT=1    skip wasm-opt even when it exists
#   WASM_RUSTFLAGS   extra rustc flags for the Debian toolchain build (experiments)
#   WASM_INLINE_THRESHOLD  LLVM's inline thresholds for the Debian toolchain build (default 40)
#   CARGO_TARGET_DIR honoured like cargo does
set -euo pipefail

usage() {
    echo "usage: $(basename "$0") <package> <output.wasm>" >&2
    exit 2
}

toolchain_only=0
if [ "${1:-}" = "--toolchain-only" ]; then
    toolchain_only=1
    set -- toolchain-only /dev/null
fi
[ "$#" -eq 2 ] || usage
package=$1
output=$2
[ -n "$package" ] && [ -n "$output" ] || usage

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Resolve the output path against the caller's cwd before changing directory.
case "$output" in
    /*) ;;
    *) output="$PWD/$output" ;;
esac
mkdir -p "$(dirname "$output")"

target=wasm32-wasip1
target_dir=${CARGO_TARGET_DIR:-$root/target}
case "$target_dir" in
    /*) ;;
    *) target_dir="$root/$target_dir" ;;
esac
artifact="$target_dir/$target/release/${package//-/_}.wasm"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "build-wasm: need root to run: $*" >&2
        return 1
    fi
}

# Install the Debian packages given as arguments that are not installed yet.
ensure_debian_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    echo "build-wasm: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq >/dev/null
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

has_rustup_target() {
    command -v rustup >/dev/null 2>&1 &&
        rustup target list --installed 2>/dev/null | grep -qx "$target"
}

cd "$root"

if [ "$toolchain_only" = 1 ]; then
    ensure_debian_packages rustc-web cargo-web rust-web-src lld-19 wasi-libc binaryen
    exit 0
fi

if has_rustup_target; then
    cargo build --quiet --release --target "$target" -p "$package"
else
    ensure_debian_packages rustc-web cargo-web rust-web-src lld-19 wasi-libc binaryen
    wasm_ld=/usr/lib/llvm-19/bin/wasm-ld
    wasi_lib=/usr/lib/wasm32-wasi
    for f in /usr/bin/rustc /usr/bin/cargo "$wasm_ld" "$wasi_lib/libc.a"; do
        [ -e "$f" ] || { echo "build-wasm: missing $f" >&2; exit 1; }
    done
    # Debian's cargo must use Debian's rustc, whose std sources come from
    # rust-web-src; RUSTC_BOOTSTRAP unlocks -Zbuild-std on a stable compiler.
    # Building std ourselves also lets it drop what a policy never uses (make bench measures
    # the module size and cold start): panics abort at once, without formatting a message
    # nobody reads (a waPC host sees a trap either way), and carry no source locations.
    size_flags="-Zlocation-detail=none -Zunstable-options -Cpanic=immediate-abort"
    # LLVM inlines less than its defaults (-inline-threshold=40, with -inlinehint-threshold=40,
    # which is what counts for #[inline] code, and -unroll-threshold=0) and std is built with
    # its optimize_for_size feature (its smaller sorts and a few other routines): 617 KB ->
    # 485 KB on the code of 2026-12-06. Judged on the real policy-server (make
    # bench-policy-server, 2026-12-07), where the module with these flags cost the same server
    # CPU per request as without them (470 against 472 µs at level restricted, 593 against 596
    # µs with every constraint, four interleaved rounds of 2,000 requests). Measured and not
    # taken: thresholds of 15 (3 KB less, but serde_json's small readers stop being inlined and
    # a request's JSON is read slower: the model's fresh instance 75 against 70 µs), 0 (larger
    # than 15), the whole build at opt-level "z" (the model's guest 1.45x the floor), this crate
    # alone at "s" (larger). --cfg scp_optimize_size turns on #[optimize(size)] for the code
    # off the request path (src/lib.rs). tests/module_size.rs holds the size to a budget.
    inline=${WASM_INLINE_THRESHOLD:-40}
    size_flags="$size_flags --cfg scp_optimize_size"
    if [ "$inline" != default ]; then
        size_flags="$size_flags -C llvm-args=-inline-threshold=$inline -C llvm-args=-inlinehint-threshold=$inline -C llvm-args=-unroll-threshold=0"
    fi
    env -u RUSTUP_TOOLCHAIN \
        RUSTC_BOOTSTRAP=1 \
        RUSTC=/usr/bin/rustc \
        RUSTFLAGS="-C linker=$wasm_ld -C link-self-contained=no -L $wasi_lib $size_flags ${WASM_RUSTFLAGS:-}" \
        /usr/bin/cargo build --quiet --release -Zbuild-std=std,panic_abort \
        -Zbuild-std-features=optimize_for_size --target "$target" -p "$package"
fi

[ -f "$artifact" ] || {
    echo "build-wasm: expected artifact not found: $artifact" >&2
    exit 1
}

tmp="$output.tmp.$$"
trap 'rm -f "$tmp"' EXIT
if [ "${NO_WASM_OPT:-0}" != 1 ] && command -v wasm-opt >/dev/null 2>&1; then
    # --merge-similar-functions: functions that differ only in constants become one (the
    # monomorphised copies of generic code, mostly): 1.7 KB less, nothing measurable per request.
    if ! wasm-opt "${WASM_OPT_LEVEL:--O3}" --merge-similar-functions \
        --enable-bulk-memory --enable-sign-ext \
        --enable-nontrapping-float-to-int --enable-mutable-globals \
        "$artifact" -o "$tmp"; then
        echo "build-wasm: wasm-opt failed, keeping the unoptimised module" >&2
        cp "$artifact" "$tmp"
    fi
else
    cp "$artifact" "$tmp"
fi
mv -f "$tmp" "$output"
trap - EXIT
echo "build-wasm: wrote $output ($(wc -c <"$output") bytes)" >&2
