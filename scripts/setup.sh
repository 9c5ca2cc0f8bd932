#!/usr/bin/env bash
# Installs what building and testing need beyond the Rust toolchain: bats for the end-to-end
# tests and binaryen's wasm-opt (required), and Chromium for the playground's browser tests
# (optional: those tests skip with a message where it cannot be installed). The wasm toolchains
# are set up by scripts/build-wasm.sh and scripts/build-playground.sh. Idempotent and quiet.
set -euo pipefail

required=()
command -v bats >/dev/null 2>&1 || required+=(bats)
command -v wasm-opt >/dev/null 2>&1 || required+=(binaryen)
# policy-server.bats posts AdmissionReviews with curl.
command -v curl >/dev/null 2>&1 || required+=(curl)
optional=()
[ -x /usr/bin/chromium ] || optional+=(chromium)
[ "${#required[@]}" -eq 0 ] && [ "${#optional[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    [ "${#required[@]}" -eq 0 ] && exit 0
    echo "setup: please install: ${required[*]}" >&2
    exit 1
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
if [ "${#required[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${required[*]}" >&2
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${required[@]}" >/dev/null
fi
if [ "${#optional[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${optional[*]}" >&2
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${optional[@]}" >/dev/null ||
        echo "setup: could not install ${optional[*]}; the playground's browser tests will skip" >&2
fi
