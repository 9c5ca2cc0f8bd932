//! Constraints and the warn level on whole AdmissionRequests, natively.

mod support;

use security_context_policy::admission::{validate, Decision};
use serde_json::{json, Value};
use support::validation_payload;

fn decide(spec: Value, settings: Value) -> Decision {
    validate(&validation_payload(
        &support::deployment_of_spec(spec),
        &settings,
    ))
}

/// A pod spec that satisfies restricted:latest.
fn restricted_spec() -> Value {
    json!({
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": [{"name": "init", "image": "busybox",
            "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
        "containers": [{"name": "app", "image": "registry.example.com/app:1",
            "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
    })
}

#[test]
fn constraints_tighten_the_level_on_the_effective_context() {
    let settings =
        json!({"runAsUser": {"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 65535}]}});
    let mut spec = restricted_spec();
    spec["securityContext"]["runAsUser"] = json!(1000);
    assert_eq!(decide(spec.clone(), settings.clone()), Decision::accept());
    spec["containers"][0]["securityContext"]["runAsUser"] = json!(70000);
    assert_eq!(
        decide(spec, settings),
        Decision::Reject {
            message: r#"violates PodSecurity "restricted:latest": runAsUser (container "app" must set securityContext.runAsUser within 1000-65535, got 70000)"#.to_string(),
            warnings: vec![]
        }
    );
}

#[test]
fn constraint_violations_follow_the_level_violations_in_one_message() {
    let settings = json!({"level": "baseline", "readOnlyRootFilesystem": true, "capabilities": {"requiredDrop": ["NET_RAW"]}});
    let spec = json!({"hostPID": true, "containers": [{"name": "app", "image": "x"}]});
    let Decision::Reject { message, .. } = decide(spec, settings) else {
        panic!()
    };
    assert_eq!(
        message,
        r#"violates PodSecurity "baseline:latest": host namespaces (hostPID=true), readOnlyRootFilesystem != true (container "app" must set securityContext.readOnlyRootFilesystem=true), capabilities (container "app" must drop "NET_RAW" in securityContext.capabilities.drop)"#
    );
}

#[test]
fn constraints_apply_at_the_privileged_level_too() {
    let settings = json!({"level": "privileged", "readOnlyRootFilesystem": true});
    let spec = json!({"hostPID": true, "containers": [{"name": "app", "image": "x", "securityContext": {"privileged": true}}]});
    let Decision::Reject { message, .. } = decide(spec, settings) else {
        panic!()
    };
    assert!(
        message.starts_with(
            r#"violates PodSecurity "privileged:latest": readOnlyRootFilesystem != true"#
        ),
        "{message}"
    );
}

#[test]
fn constraints_can_be_exempted_by_id() {
    let spec = json!({"containers": [
        {"name": "app", "image": "registry.example.com/app:1", "securityContext": {"readOnlyRootFilesystem": true}},
        {"name": "nginx", "image": "docker.io/library/nginx:1.27"}
    ]});
    let base = json!({"level": "privileged", "readOnlyRootFilesystem": true});
    assert!(matches!(
        decide(spec.clone(), base),
        Decision::Reject { .. }
    ));
    let exempted = json!({"level": "privileged", "readOnlyRootFilesystem": true,
        "exemptions": [{"checks": ["readOnlyRootFilesystemConstraint"], "images": ["docker.io/library/nginx:*"]}]});
    assert_eq!(decide(spec, exempted), Decision::accept());
}

#[test]
fn the_warn_level_warns_without_rejecting() {
    let spec = json!({"containers": [{"name": "app", "image": "x"}]});
    let settings =
        json!({"level": "baseline", "warn": {"level": "restricted", "version": "v1.30"}});
    let Decision::Accept { warnings, .. } = decide(spec, settings) else {
        panic!()
    };
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with(r#"would violate PodSecurity "restricted:v1.30": allowPrivilegeEscalation != false (container "app""#),
        "{warnings:?}"
    );
}

#[test]
fn a_rejection_carries_no_duplicate_warnings() {
    // privileged fails both levels: reported once, in the rejection; the restricted-only
    // violations remain as the warning.
    let spec = json!({"containers": [{"name": "app", "image": "x", "securityContext": {"privileged": true}}]});
    let settings = json!({"level": "baseline", "warn": {"level": "restricted"}});
    let Decision::Reject { message, warnings } = decide(spec, settings) else {
        panic!()
    };
    assert!(message.contains("privileged ("), "{message}");
    assert_eq!(warnings.len(), 1);
    assert!(!warnings[0].contains("privileged ("), "{warnings:?}");
    assert!(warnings[0].contains("runAsNonRoot != true"), "{warnings:?}");
    // When the warn level finds nothing the enforced level did not, there is no warning.
    let spec = json!({"hostIPC": true, "containers": [{"name": "app", "image": "x"}]});
    let settings = json!({"level": "restricted", "warn": {"level": "baseline"}});
    let Decision::Reject { warnings, .. } = decide(spec, settings) else {
        panic!()
    };
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn warnings_reach_the_response() {
    let payload = validation_payload(
        &support::deployment_of_spec(json!({"containers": [{"name": "app", "image": "x"}]})),
        &json!({"level": "privileged", "warn": {"level": "baseline"}}),
    );
    let answer: Value =
        serde_json::from_slice(&security_context_policy::validate(&payload).unwrap()).unwrap();
    assert_eq!(answer["accepted"], true);
    assert!(
        answer.get("warnings").is_none_or(|w| w.is_null()),
        "{answer}"
    );
    let payload = validation_payload(
        &support::deployment_of_spec(
            json!({"hostNetwork": true, "containers": [{"name": "app", "image": "x"}]}),
        ),
        &json!({"level": "privileged", "warn": {"level": "baseline"}}),
    );
    let answer: Value =
        serde_json::from_slice(&security_context_policy::validate(&payload).unwrap()).unwrap();
    assert_eq!(answer["accepted"], true);
    assert_eq!(
        answer["warnings"],
        json!([
            r#"would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)"#
        ])
    );
}

/// Each PodSecurityPolicy control: a Deployment that violates it is rejected, and an exemption
/// naming its id (for the offending container where the control is per container, for the
/// whole workload where it is the pod's) admits it.
#[test]
fn every_psp_control_denies_and_can_be_exempted() {
    let debug = json!({"name": "debug", "image": "busybox"});
    let app = |sc: Value| json!({"name": "app", "image": "registry.example.com/app:1", "securityContext": sc});
    let cases: Vec<(&str, Value, Value, bool)> = vec![
        (
            "hostNetworkConstraint",
            json!({"hostNetwork": false}),
            json!({"hostNetwork": true, "containers": [app(json!({}))]}),
            false,
        ),
        (
            "hostPIDConstraint",
            json!({"hostPID": false}),
            json!({"hostPID": true, "containers": [app(json!({}))]}),
            false,
        ),
        (
            "hostIPCConstraint",
            json!({"hostIPC": false}),
            json!({"hostIPC": true, "containers": [app(json!({}))]}),
            false,
        ),
        (
            "hostPortsConstraint",
            json!({"hostPorts": [{"min": 8000, "max": 8080}]}),
            json!({"containers": [debug.clone(), {"name": "app", "image": "x", "ports": [{"containerPort": 80, "hostPort": 80}]}]}),
            true,
        ),
        (
            "allowedHostPathsConstraint",
            json!({"allowedHostPaths": [{"pathPrefix": "/var/log", "readOnly": true}]}),
            json!({"volumes": [{"name": "l", "hostPath": {"path": "/var/log"}}],
                   "containers": [debug.clone(), {"name": "app", "image": "x", "volumeMounts": [{"name": "l", "mountPath": "/l"}]}]}),
            true,
        ),
        (
            "allowedHostPathsConstraint",
            json!({"allowedHostPaths": [{"pathPrefix": "/var/log"}]}),
            json!({"volumes": [{"name": "l", "hostPath": {"path": "/var/logs"}}], "containers": [app(json!({}))]}),
            false,
        ),
        (
            "volumesConstraint",
            json!({"volumes": ["configMap"]}),
            json!({"volumes": [{"name": "e", "emptyDir": {}}], "containers": [app(json!({}))]}),
            false,
        ),
        (
            "allowedFlexVolumesConstraint",
            json!({"allowedFlexVolumes": [{"driver": "example/lvm"}]}),
            json!({"volumes": [{"name": "f", "flexVolume": {"driver": "example/nfs"}}], "containers": [app(json!({}))]}),
            false,
        ),
        (
            "allowedCSIDriversConstraint",
            json!({"allowedCSIDrivers": [{"name": "a.csi.example.com"}]}),
            json!({"volumes": [{"name": "c", "csi": {"driver": "b.csi.example.com"}}], "containers": [app(json!({}))]}),
            false,
        ),
        (
            "allowedProcMountTypesConstraint",
            json!({"allowedProcMountTypes": ["Default"]}),
            json!({"containers": [debug.clone(), app(json!({"procMount": "Unmasked"}))]}),
            true,
        ),
        (
            "runtimeClassConstraint",
            json!({"runtimeClass": {"allowedRuntimeClassNames": ["gvisor"]}}),
            json!({"runtimeClassName": "runc", "containers": [app(json!({}))]}),
            false,
        ),
        (
            "privilegedConstraint",
            json!({"privileged": false}),
            json!({"containers": [debug.clone(), app(json!({"privileged": true}))]}),
            true,
        ),
        (
            "allowPrivilegeEscalationConstraint",
            json!({"allowPrivilegeEscalation": false}),
            json!({"containers": [app(json!({"allowPrivilegeEscalation": true}))],
                   "initContainers": [{"name": "init", "image": "x", "securityContext": {"allowPrivilegeEscalation": false}}]}),
            true,
        ),
    ];
    for (id, constraint, spec, per_container) in cases {
        let settings = merged(json!({"level": "privileged"}), constraint.clone());
        let Decision::Reject { message, .. } = decide(spec.clone(), settings.clone()) else {
            panic!("{id}: not rejected");
        };
        assert!(!message.contains("\"debug\""), "{id}: {message}");
        let exemption = if per_container {
            json!({"checks": [id], "containers": ["app"]})
        } else {
            json!({"checks": [id]})
        };
        let exempted = merged(settings, json!({"exemptions": [exemption]}));
        assert_eq!(decide(spec, exempted), Decision::accept(), "{id}");
    }
}

fn merged(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[test]
fn a_constraint_repeating_a_level_check_is_reported_once() {
    let spec = json!({"containers": [{"name": "app", "image": "x", "securityContext": {"privileged": true}}]});
    let settings = json!({"level": "baseline", "privileged": false});
    let Decision::Reject { message, .. } = decide(spec, settings) else {
        panic!()
    };
    assert_eq!(
        message,
        r#"violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)"#
    );
}
