#!/usr/bin/env bash
# Bounded-time fuzzing of every target, for CI or before a release:
#
#   fuzz/run.sh [seconds-per-target]     (default 60)
#
# Each target starts from its kept corpus (fuzz/corpus/<target>) and its regression inputs
# (fuzz/regressions/<target>); inputs found during the run go to fuzz/target/new-inputs/<target>
# (ignored by git; merge worthwhile ones with `cargo +nightly fuzz cmin`). Crashes are written to
# fuzz/artifacts/<target>/. Exits non-zero when any target fails.
set -uo pipefail

seconds="${1:-60}"
case "$seconds" in
'' | *[!0-9]*)
    echo "usage: $0 [seconds-per-target]" >&2
    exit 2
    ;;
esac
cd "$(dirname "$0")"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo +nightly install cargo-fuzz --locked || exit 2
fi

# Safe Rust: AddressSanitizer finds nothing the panics do not, and halves the speed; debug
# assertions turn integer overflows into findings.
build_flags=(--sanitizer none --debug-assertions)
cargo +nightly fuzz build "${build_flags[@]}" || exit 2

max_len_of() {
    case "$1" in
    *_bytes) echo 16384 ;;
    *) echo 65536 ;;
    esac
}

failed=()
for target in validate_bytes validate_structured settings_bytes settings_structured; do
    new_inputs="target/new-inputs/$target"
    mkdir -p "$new_inputs" "corpus/$target" "regressions/$target" "artifacts/$target"
    echo "=== $target: ${seconds}s"
    if ! cargo +nightly fuzz run "${build_flags[@]}" "$target" \
        "$new_inputs" "corpus/$target" "regressions/$target" -- \
        -max_total_time="$seconds" -max_len="$(max_len_of "$target")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
        failed+=("$target")
    fi
done

if ((${#failed[@]})); then
    echo "fuzzing failed for: ${failed[*]} (see fuzz/artifacts/)" >&2
    exit 1
fi
echo "all targets ran ${seconds}s without a finding"
