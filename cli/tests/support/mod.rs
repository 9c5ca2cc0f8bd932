//! What the CLI's test files share: the tool as a user runs it, the module it embeds, and the
//! CREATE request of an object written from the API's definition rather than taken from the
//! tool, so that the two can disagree.

#![allow(dead_code)] // each test file uses its part

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn manifests() -> PathBuf {
    root().join("test_data/manifests")
}

/// The tool with `args`, `stdin` on its standard input (none: empty), its compiled-module cache
/// inside target/.
pub fn tool(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_security-context-policy"))
        .args(args)
        .current_dir(root())
        .env(
            "SECURITY_CONTEXT_POLICY_CACHE_DIR",
            root().join("target/tmp/cli-cache"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tool runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

pub fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            stdout(output),
            stderr(output)
        )
    })
}

/// The module the tool embeds (`make policy.wasm`), loaded once per test binary.
pub fn module() -> &'static policy_runner::PolicyModule {
    static MODULE: OnceLock<policy_runner::PolicyModule> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = std::env::var("POLICY_WASM")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root().join("policy.wasm"));
        policy_runner::PolicyModule::from_file(&path).expect("policy.wasm (make policy.wasm)")
    })
}

/// The real install manifests of test_data/manifests (and the rendered helm and kustomize
/// output), one file each: 17 workloads in all.
pub const REAL_MANIFESTS: &[&str] = &[
    "flannel-kube-flannel.yml",
    "local-path-storage.yaml",
    "ingress-nginx-cloud-deploy.yaml",
    "kubernetes-dashboard-recommended.yaml",
    "metallb-native.yaml",
    "guestbook-all-in-one.yaml",
    "helm-template-output.yaml",
    "kustomize-build-output.yaml",
    "kube-state-metrics-standard/deployment.yaml",
];

const POD_BEARING: &[(&str, &str)] = &[
    ("", "Pod"),
    ("", "ReplicationController"),
    ("", "PodTemplate"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
];

/// The CREATE request for an object that carries a pod, in its namespace or `namespace`.
pub fn create_request(object: &Value, namespace: &str) -> Option<Value> {
    let api_version = object["apiVersion"].as_str()?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str()?;
    POD_BEARING
        .iter()
        .find(|(g, k)| *g == group && *k == kind)?;
    let namespace = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or(namespace)
        .to_string();
    let mut object = object.clone();
    object["metadata"]["namespace"] = json!(namespace);
    let resource = format!("{}s", kind.to_lowercase());
    Some(json!({
        "uid": "test",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": resource},
        "name": object["metadata"]["name"],
        "namespace": namespace,
        "operation": "CREATE",
        "userInfo": {"username": "security-context-policy-check", "groups": ["system:authenticated"]},
        "object": object,
    }))
}

/// The documents of a YAML file, in order.
pub fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .filter_map(|d| {
            let v: Value = serde::Deserialize::deserialize(d).unwrap();
            (!v.is_null()).then_some(v)
        })
        .collect()
}
