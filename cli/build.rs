//! Embeds the release `policy.wasm` (built by `make policy.wasm`, or named by
//! `SECURITY_CONTEXT_POLICY_WASM`) in the tool, so that one binary judges with the module the
//! cluster runs. Without one (a plain `cargo build` on a fresh clone) the tool is built without
//! a module and asks for `--module`, rather than failing the whole workspace's build.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=SECURITY_CONTEXT_POLICY_WASM");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let module = std::env::var_os("SECURITY_CONTEXT_POLICY_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("..").join("policy.wasm"));
    println!("cargo:rerun-if-changed={}", module.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("policy.wasm");
    match std::fs::read(&module) {
        Ok(bytes) => std::fs::write(&out, bytes).unwrap(),
        Err(_) => {
            println!(
                "cargo:warning=no {} to embed: the tool needs --module FILE (run `make cli`)",
                module.display()
            );
            std::fs::write(&out, b"").unwrap();
        }
    }
}
