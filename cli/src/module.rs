//! The policy module the tool judges with: the release `policy.wasm` embedded at build time
//! (see build.rs), or another build given with `--module`.

use policy_runner::{cache_dir, LoadOptions, PolicyModule};
use std::path::Path;

/// The module embedded at build time; empty when the tool was built without one.
const EMBEDDED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/policy.wasm"));

/// Compiles the module to judge with: `path`, or the embedded one. Compiled code is cached on
/// disk (`$SECURITY_CONTEXT_POLICY_CACHE_DIR`, else the user's cache directory), so a second
/// run starts at once.
pub fn load(path: Option<&Path>) -> Result<PolicyModule, String> {
    let options = LoadOptions {
        cache_dir: cache_dir(
            "SECURITY_CONTEXT_POLICY_CACHE_DIR",
            "security-context-policy",
        )
        .filter(|dir| std::fs::create_dir_all(dir).is_ok()),
        ..LoadOptions::default()
    };
    match path {
        Some(path) => PolicyModule::from_file_with(path, &options)
            .map_err(|e| format!("cannot load the module {}: {e}", path.display())),
        None if EMBEDDED.is_empty() => Err(
            "this build has no embedded policy module: build it with `make cli`, or give one with --module FILE"
                .to_string(),
        ),
        None => PolicyModule::from_bytes_with(EMBEDDED, &options)
            .map_err(|e| format!("cannot load the embedded module: {e}")),
    }
}
