//! Shared fixtures: the floor policy module, built once per test process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use policy_runner::PolicyModule;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runner/ has a parent")
        .to_owned()
}

/// Path of floor-policy.wasm: `$FLOOR_POLICY_WASM` when set, otherwise built
/// with scripts/build-wasm.sh into target/test-fixtures/.
pub fn floor_wasm() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(path) = std::env::var_os("FLOOR_POLICY_WASM").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "FLOOR_POLICY_WASM={} is not a file",
                path.display()
            );
            return path;
        }
        let root = workspace_root();
        let out = root.join("target/test-fixtures/floor-policy.wasm");
        let status = Command::new(root.join("scripts/build-wasm.sh"))
            .arg("floor-policy")
            .arg(&out)
            .status()
            .expect("cannot run scripts/build-wasm.sh");
        assert!(
            status.success(),
            "scripts/build-wasm.sh floor-policy failed"
        );
        out
    })
}

/// The floor policy, compiled once and shared by every test thread.
pub fn floor_module() -> &'static PolicyModule {
    static MODULE: OnceLock<PolicyModule> = OnceLock::new();
    MODULE.get_or_init(|| PolicyModule::from_file(floor_wasm()).expect("floor policy compiles"))
}

/// A unique scratch directory under target/.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = workspace_root()
        .join("target/test-scratch")
        .join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

pub const POD_REQUEST: &str = r#"{
  "uid": "1299d386-525b-4032-98ae-1949f69f9cfc",
  "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "resource": {"group": "", "version": "v1", "resource": "pods"},
  "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
  "requestResource": {"group": "", "version": "v1", "resource": "pods"},
  "name": "nginx",
  "namespace": "default",
  "operation": "CREATE",
  "userInfo": {"username": "alice", "uid": "alice-uid", "groups": ["system:authenticated"]},
  "object": {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
    "spec": {
      "containers": [
        {"name": "nginx", "image": "nginx:1.27", "securityContext": {"runAsNonRoot": true}}
      ]
    }
  },
  "oldObject": null,
  "dryRun": false,
  "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
}"#;

pub const POD_UID: &str = "1299d386-525b-4032-98ae-1949f69f9cfc";
