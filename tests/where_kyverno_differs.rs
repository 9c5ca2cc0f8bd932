//! The cases where Kyverno's `podSecurity` engine or its CEL Pod Security Standards policies
//! have been reported to decide differently from Pod Security Admission
//! (docs/migrating-from-kyverno.md, "Where Kyverno is not PSA-exact"): this policy decides each
//! as PSA does, through a Kyverno policy pasted as it is and through the native settings alike.

mod support;

use security_context_policy::admission::{validate, Decision};
use serde_json::{json, Value};

fn restricted_container() -> Value {
    json!({"name": "app", "image": "registry.example.com/app:1", "securityContext": {
        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}})
}

fn restricted_spec() -> Value {
    json!({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [restricted_container()]})
}

/// The decision at `level:version`, natively and through a pasted Kyverno podSecurity rule,
/// which must agree; `None` when admitted, else the message.
fn decide(spec: Value, level: &str, version: &str) -> Option<String> {
    let request = support::pod_request(&json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p"}, "spec": spec}));
    let decide = |settings: Value| match validate(&support::validation_payload(&request, &settings))
    {
        Decision::Accept { .. } => None,
        Decision::Reject { message, .. } => Some(message),
    };
    let native = decide(json!({"level": level, "version": version}));
    let kyverno = decide(
        json!({"kyvernoPolicy": {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
        "metadata": {"name": "psa"}, "spec": {"validationFailureAction": "Enforce", "rules": [{
            "name": "psa", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "validate": {"podSecurity": {"level": level, "version": version}}}]}}}),
    );
    assert_eq!(native, kyverno, "{level}:{version}");
    native
}

#[test]
fn restricted_requires_dropping_all_capabilities() {
    let mut spec = restricted_spec();
    spec["containers"][0]["securityContext"]["capabilities"] = json!({"drop": ["NET_RAW"]});
    assert!(decide(spec, "restricted", "latest")
        .unwrap()
        .contains("unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"])"));
}

#[test]
fn a_pod_level_run_as_non_root_false_is_a_violation_even_when_containers_set_true() {
    let mut spec = restricted_spec();
    spec["securityContext"]["runAsNonRoot"] = json!(false);
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = json!(true);
    assert!(decide(spec, "restricted", "latest")
        .unwrap()
        .contains("runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)"));
}

#[test]
fn a_probe_or_lifecycle_host_is_refused_from_v1_34_only() {
    let mut spec = restricted_spec();
    spec["containers"][0]["livenessProbe"] = json!({"httpGet": {"host": "10.0.0.1", "port": 8080}});
    assert!(decide(spec.clone(), "baseline", "v1.34")
        .unwrap()
        .contains("probe or lifecycle host"));
    // Pinned to v1.33, the check does not exist yet: checks newer than the pinned version
    // never run.
    assert_eq!(decide(spec, "baseline", "v1.33"), None);
}

#[test]
fn user_namespace_pods_may_run_as_root_from_v1_35() {
    let mut spec = restricted_spec();
    spec["hostUsers"] = json!(false);
    spec["securityContext"] = json!({"seccompProfile": {"type": "RuntimeDefault"}, "runAsUser": 0});
    assert_eq!(decide(spec.clone(), "restricted", "v1.35"), None);
    assert!(decide(spec, "restricted", "v1.34").is_some());
}

#[test]
fn windows_pods_are_not_held_to_linux_only_fields_from_v1_25() {
    let spec = json!({"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true},
        "containers": [{"name": "app", "image": "mcr.microsoft.com/windows/nanoserver:ltsc2022"}]});
    assert_eq!(decide(spec.clone(), "restricted", "v1.25"), None);
    assert!(decide(spec, "restricted", "v1.24").is_some());
}

#[test]
fn image_volumes_are_allowed_at_restricted() {
    let mut spec = restricted_spec();
    spec["volumes"] =
        json!([{"name": "models", "image": {"reference": "registry.example.com/models:1"}}]);
    assert_eq!(decide(spec, "restricted", "latest"), None);
}

#[test]
fn the_safe_sysctls_grow_by_version() {
    let mut spec = restricted_spec();
    spec["securityContext"]["sysctls"] =
        json!([{"name": "net.ipv4.tcp_keepalive_time", "value": "600"}]);
    assert_eq!(decide(spec.clone(), "baseline", "v1.29"), None);
    assert!(decide(spec, "baseline", "v1.28")
        .unwrap()
        .contains("forbidden sysctls (net.ipv4.tcp_keepalive_time)"));
}
