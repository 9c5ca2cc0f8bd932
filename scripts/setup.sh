#!/usr/bin/env bash
# Installs what building and testing need beyond the Rust toolchain: bats for the end-to-end
# tests and binaryen's wasm-opt. The wasm toolchain itself is set up by scripts/build-wasm.sh
# (the rustup target when present, Debian's packages otherwise). Idempotent and quiet.
set -euo pipefail

missing=()
command -v bats >/dev/null 2>&1 || missing+=(bats)
command -v wasm-opt >/dev/null 2>&1 || missing+=(binaryen)
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: please install: ${missing[*]}" >&2
    exit 1
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
echo "setup: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
