#!/usr/bin/env bash
# Builds the browser playground: the evaluator for wasm32-unknown-unknown, bound to JavaScript
# by wasm-bindgen into playground/www/pkg/. Serve playground/www with any static file server.
#
# Toolchain: the rustup wasm32-unknown-unknown target when installed, else Debian's rustc-web
# building std from source (installed by scripts/build-wasm.sh's package list). wasm-bindgen-cli
# is installed from crates.io at the version of the wasm-bindgen crate when missing.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
target=wasm32-unknown-unknown
bindgen_version=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' playground/Cargo.toml)

if ! command -v wasm-bindgen >/dev/null 2>&1 || [ "$(wasm-bindgen --version | cut -d' ' -f2)" != "$bindgen_version" ]; then
    echo "build-playground: installing wasm-bindgen-cli $bindgen_version (a few minutes, once)" >&2
    cargo install --quiet wasm-bindgen-cli --version "$bindgen_version"
fi

if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    cargo build --quiet --profile playground --target "$target" -p playground
else
    # Debian's toolchain, as for policy.wasm.
    "$root/scripts/build-wasm.sh" --toolchain-only
    env -u RUSTUP_TOOLCHAIN RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc \
        RUSTFLAGS="-C linker=/usr/lib/llvm-19/bin/wasm-ld" \
        /usr/bin/cargo build --quiet --profile playground -Zbuild-std=std,panic_abort --target "$target" -p playground
fi

out=playground/www/pkg
rm -rf "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" "target/$target/playground/playground.wasm"
# No wasm-opt here: Debian's binaryen 108 rewrites the reference-typed table that wasm-bindgen's
# glue fills, and the page then fails to start.
echo "build-playground: wrote $out ($(wc -c <"$out/playground_bg.wasm") bytes of wasm)" >&2
