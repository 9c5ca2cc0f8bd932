//! Shared by the integration tests: the upstream Pod Security Admission conformance fixtures,
//! and AdmissionRequests built around pods.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::PathBuf;

/// `../shared/conformance/psa` beside the checkout, or `PSA_CONFORMANCE_DIR`.
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("PSA_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/psa"),
    };
    dir.join("manifest.json").is_file().then_some(dir)
}

pub struct Fixture {
    pub path: String,
    pub level: String,
    pub version: String,
    pub expect_allow: bool,
    pub reason_substring: Option<String>,
    pub pod: Value,
}

pub fn load_fixtures(dir: &std::path::Path) -> Vec<Fixture> {
    let manifest: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    manifest
        .into_iter()
        .map(|record| {
            let path = record["path"].as_str().unwrap().to_string();
            let text = std::fs::read_to_string(dir.join(&path)).unwrap();
            let pod: Value = serde_yaml::from_str(&text).unwrap();
            Fixture {
                level: record["level"].as_str().unwrap().to_string(),
                version: record["version"].as_str().unwrap().to_string(),
                expect_allow: record["expect"] == "allow",
                reason_substring: record["reason_substring"].as_str().map(str::to_string),
                path,
                pod,
            }
        })
        .collect()
}

pub fn request(group: &str, version: &str, kind: &str, object: Value) -> Value {
    json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
        "operation": "CREATE",
        "name": object["metadata"]["name"].clone(),
        "namespace": "default",
        "userInfo": {"username": "tester"},
        "object": object,
    })
}

pub fn pod_request(pod: &Value) -> Value {
    request("", "v1", "Pod", pod.clone())
}

/// The pod as the template of a Deployment.
pub fn deployment_request(pod: &Value) -> Value {
    let name = pod["metadata"]["name"].clone();
    let mut template = json!({"metadata": {"labels": {"app": name}}, "spec": pod["spec"].clone()});
    if let Some(annotations) = pod["metadata"].get("annotations") {
        template["metadata"]["annotations"] = annotations.clone();
    }
    request(
        "apps",
        "v1",
        "Deployment",
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": template}
        }),
    )
}

pub fn validation_payload(request: &Value, settings: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"request": request, "settings": settings})).unwrap()
}

/// Runs every fixture as a Pod and as a Deployment through `validate` (a Kubewarden `validate`
/// call: payload in, ValidationResponse JSON out) and returns (passed, failures).
pub fn run_conformance(
    dir: &std::path::Path,
    mut validate: impl FnMut(&[u8]) -> Value,
) -> (usize, Vec<String>) {
    let mut passed = 0;
    let mut failures = Vec::new();
    for fixture in load_fixtures(dir) {
        let settings = json!({"level": fixture.level, "version": fixture.version});
        for (shape, request) in [
            ("Pod", pod_request(&fixture.pod)),
            ("Deployment", deployment_request(&fixture.pod)),
        ] {
            let response = validate(&validation_payload(&request, &settings));
            let accepted = response["accepted"].as_bool();
            let message = response["message"].as_str().unwrap_or("");
            let ok = match (fixture.expect_allow, accepted) {
                (true, Some(true)) => true,
                (false, Some(false)) => fixture
                    .reason_substring
                    .as_deref()
                    .is_none_or(|r| message.contains(r)),
                _ => false,
            };
            if ok {
                passed += 1;
            } else {
                failures.push(format!(
                    "{} as {shape}: expected {}, got {response}",
                    fixture.path,
                    if fixture.expect_allow {
                        "allow"
                    } else {
                        "deny"
                    }
                ));
            }
        }
    }
    (passed, failures)
}

/// One example of `test_data/cases.json`: a request file, settings and the expected decision.
pub struct Case {
    pub name: String,
    pub request: Value,
    pub settings: Value,
    pub expect_allow: bool,
    pub message: Option<String>,
    /// A substring some warning must contain.
    pub warning: Option<String>,
    /// Whether the answer must carry a mutated object.
    pub mutated: bool,
}

pub fn test_data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data")
}

pub fn load_cases() -> Vec<Case> {
    let dir = test_data_dir();
    let cases: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap();
    cases
        .into_iter()
        .map(|c| {
            let file = c["request"].as_str().unwrap();
            let request: Value =
                serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
            Case {
                name: c["name"].as_str().unwrap().to_string(),
                request,
                settings: c["settings"].clone(),
                expect_allow: c["expect"] == "allow",
                message: c["message"].as_str().map(str::to_string),
                warning: c["warning"].as_str().map(str::to_string),
                mutated: c["mutated"] == true,
            }
        })
        .collect()
}

/// Checks a `validate` answer against a case; the reason when it does not match.
pub fn check_case(case: &Case, response: &Value) -> Result<(), String> {
    let accepted = response["accepted"].as_bool();
    if accepted != Some(case.expect_allow) {
        return Err(format!(
            "{}: expected {}, got {response}",
            case.name,
            if case.expect_allow { "allow" } else { "deny" }
        ));
    }
    if let Some(expected) = &case.message {
        let message = response["message"].as_str().unwrap_or("");
        if !message.contains(expected.as_str()) {
            return Err(format!(
                "{}: message {message:?} does not contain {expected:?}",
                case.name
            ));
        }
    }
    let has_mutation = response["mutated_object"].is_object();
    if has_mutation != case.mutated {
        return Err(format!(
            "{}: expected {} mutated object, got {response}",
            case.name,
            if case.mutated { "a" } else { "no" }
        ));
    }
    if let Some(expected) = &case.warning {
        let warned = response["warnings"].as_array().is_some_and(|ws| {
            ws.iter()
                .any(|w| w.as_str().is_some_and(|w| w.contains(expected.as_str())))
        });
        if !warned {
            return Err(format!(
                "{}: no warning contains {expected:?}: {response}",
                case.name
            ));
        }
    }
    Ok(())
}

/// The compiled policy: `POLICY_WASM` (which must exist when set, as `make test` sets it), else
/// `policy.wasm` at the repository root when it has been built. `None` means skip.
pub fn policy_wasm() -> Option<PathBuf> {
    match std::env::var_os("POLICY_WASM") {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "POLICY_WASM={} does not exist",
                path.display()
            );
            Some(path)
        }
        None => {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policy.wasm");
            if path.is_file() {
                Some(path)
            } else {
                eprintln!(
                    "skipped: policy.wasm not built (run `make policy.wasm` or set POLICY_WASM)"
                );
                None
            }
        }
    }
}

/// policy.wasm loaded in wasmtime through the waPC host Kubewarden uses: compiled once per test
/// binary, a fresh instance per caller.
pub fn load_policy() -> Option<policy_runner::Policy> {
    static MODULE: std::sync::OnceLock<Option<policy_runner::PolicyModule>> =
        std::sync::OnceLock::new();
    let module = MODULE.get_or_init(|| {
        let path = policy_wasm()?;
        Some(policy_runner::PolicyModule::from_file(&path).expect("policy.wasm compiles"))
    });
    Some(
        module
            .as_ref()?
            .instantiate()
            .expect("policy.wasm instantiates"),
    )
}

/// A `validate` call into the loaded module; the raw ValidationResponse JSON.
pub fn wasm_validate(policy: &policy_runner::Policy, payload: &[u8]) -> Value {
    let answer = policy.call("validate", payload).expect("validate answers");
    serde_json::from_slice(&answer).expect("validate answers JSON")
}

/// Every default the policy would set on a request's object, whatever the decision.
pub fn defaults_for(request: &Value, settings: &Value) -> Option<Value> {
    let settings = security_context_policy::settings::Settings::from_value(settings).unwrap();
    let policy = security_context_policy::policy::Policy::new(settings);
    let request: security_context_policy::admission::AdmissionRequest =
        serde_json::from_value(request.clone()).unwrap();
    security_context_policy::admission::defaults_for(&policy, &request)
}

/// Keeps a test's summary line where `make unit-tests` prints it after the run (cargo captures
/// the output of passing tests), in `target/tmp/summaries/<name>.txt`.
pub fn record_summary(name: &str, line: &str) {
    println!("{line}");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("summaries");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.txt")), format!("{line}\n")).unwrap();
}

/// The sysctls the kubelet allows without `--allowed-unsafe-sysctls`, newest revision, written
/// out independently of the policy's own list.
pub const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];
