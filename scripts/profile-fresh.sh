#!/usr/bin/env bash
# Where a `validate` on a fresh instance spends its time: builds policy.wasm with its function
# names kept, writes the bench's payloads, and runs `perf record` over fresh-instance calls of
# one of them (default: fresh1.json, the bench's row (i)).
#
# Usage: scripts/profile-fresh.sh [PAYLOAD-NAME] [SECONDS]      e.g. fresh2.json 5
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
payload=${1:-fresh1.json}
seconds=${2:-5}
out=target/profile
mkdir -p "$out"
command -v perf >/dev/null || { echo "profile-fresh: needs perf (linux-perf)" >&2; exit 1; }

# The release build, keeping the name section through wasm-opt (-g).
CARGO_PROFILE_RELEASE_STRIP=false NO_WASM_OPT=1 \
    scripts/build-wasm.sh security-context-policy "$out/policy-raw.wasm"
wasm-opt -O3 -g --enable-bulk-memory --enable-sign-ext \
    --enable-nontrapping-float-to-int --enable-mutable-globals \
    "$out/policy-raw.wasm" -o "$out/policy-names.wasm"
scripts/build-wasm.sh floor-policy target/floor-policy.wasm
BENCH_DUMP="$out" cargo run --quiet --profile runner -p security-context-policy --example bench -- \
    policy.wasm target/floor-policy.wasm >/dev/null
cargo build --quiet --profile runner -p security-context-policy --example profile_fresh
perf record -q -e cpu-clock -F 20000 -o "$out/perf.data" \
    target/runner/examples/profile_fresh "$out/policy-names.wasm" "$out/$payload" "$seconds" fresh
echo "== where the time goes (kernel: page faults and unmapping; JIT: the guest)"
perf report -i "$out/perf.data" --no-children --sort dso 2>/dev/null | grep -v '^#' | grep . | head -6
echo "== the guest's functions"
perf report -i "$out/perf.data" --no-children --sort dso,sym 2>/dev/null | grep -v '^#' |
    grep 'JIT' | sed 's/\[[0-9a-f]\{16\}\]//g' | cut -c1-160 | head -40
