//! `podSecurityPolicy`: real-world PodSecurityPolicies (the "privileged", "baseline" and
//! "restricted" examples of the Kubernetes documentation) judged on a matrix of pods, both as
//! pasted PSPs and as the equivalent native settings written by hand: the two must agree, and
//! each verdict is the one Kubernetes' PSP admission gave.

mod support;

use security_context_policy::admission::{validate, Decision};
use serde_json::{json, Value};
use support::{pod_request, request, validation_payload, SAFE_SYSCTLS};

fn privileged_psp() -> Value {
    json!({
        "apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy",
        "metadata": {"name": "privileged", "annotations": {
            "seccomp.security.alpha.kubernetes.io/allowedProfileNames": "*"}},
        "spec": {
            "privileged": true, "allowPrivilegeEscalation": true, "allowedCapabilities": ["*"],
            "volumes": ["*"], "hostNetwork": true, "hostPorts": [{"min": 0, "max": 65535}],
            "hostIPC": true, "hostPID": true,
            "runAsUser": {"rule": "RunAsAny"}, "seLinux": {"rule": "RunAsAny"},
            "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}
        }
    })
}

const BASELINE_VOLUMES: &[&str] = &[
    "configMap",
    "emptyDir",
    "projected",
    "secret",
    "downwardAPI",
    "csi",
    "persistentVolumeClaim",
    "ephemeral",
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephFS",
    "cinder",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "iscsi",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
];

const DEFAULT_CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

fn baseline_psp() -> Value {
    json!({
        "apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy",
        "metadata": {"name": "baseline", "annotations": {
            "apparmor.security.beta.kubernetes.io/allowedProfileNames": "runtime/default",
            "apparmor.security.beta.kubernetes.io/defaultProfileName": "runtime/default",
            "seccomp.security.alpha.kubernetes.io/allowedProfileNames": "*"}},
        "spec": {
            "privileged": false, "allowedCapabilities": DEFAULT_CAPABILITIES,
            "volumes": BASELINE_VOLUMES, "hostNetwork": false, "hostIPC": false, "hostPID": false,
            "readOnlyRootFilesystem": false,
            "runAsUser": {"rule": "RunAsAny"}, "seLinux": {"rule": "RunAsAny"},
            "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}
        }
    })
}

const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "emptyDir",
    "projected",
    "secret",
    "downwardAPI",
    "csi",
    "persistentVolumeClaim",
    "ephemeral",
];

/// The documentation's restricted PSP, as `e2e.bats` and `make bench` use it.
fn restricted_psp() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test_data/psp_restricted_settings.yml"
    );
    let settings: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    settings["podSecurityPolicy"].clone()
}

/// What every PSP says that these three leave at PSP's defaults, as native settings.
fn psp_common() -> Value {
    json!({
        "level": "privileged",
        "sysctls": {"allowed": SAFE_SYSCTLS, "forbidden": []},
        "allowedProcMountTypes": ["Default"],
    })
}

fn merged(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn privileged_native() -> Value {
    merged(
        psp_common(),
        json!({
            "privileged": true, "allowPrivilegeEscalation": true, "hostNetwork": true,
            "hostPID": true, "hostIPC": true, "hostPorts": [{"min": 0, "max": 65535}],
            "volumes": ["*"], "capabilities": {"allowedAdd": ["*"]},
            "seccomp": {"allowedTypes": ["RuntimeDefault", "Localhost", "Unconfined"], "allowUnset": true},
        }),
    )
}

fn baseline_native() -> Value {
    merged(
        psp_common(),
        json!({
            "privileged": false, "hostNetwork": false, "hostPID": false, "hostIPC": false,
            "hostPorts": [], "volumes": BASELINE_VOLUMES,
            "capabilities": {"allowedAdd": DEFAULT_CAPABILITIES},
            "seccomp": {"allowedTypes": ["RuntimeDefault", "Localhost", "Unconfined"], "allowUnset": true},
            "appArmor": {"allowedTypes": ["RuntimeDefault"], "defaultProfile": {"type": "RuntimeDefault"}},
        }),
    )
}

fn restricted_native() -> Value {
    merged(
        psp_common(),
        json!({
            "privileged": false, "allowPrivilegeEscalation": false, "hostNetwork": false,
            "hostPID": false, "hostIPC": false, "hostPorts": [], "volumes": RESTRICTED_VOLUMES,
            "capabilities": {"allowedAdd": [], "requiredDrop": ["ALL"]},
            "runAsUser": {"rule": "MustRunAsNonRoot"},
            "supplementalGroups": {"rule": "MustRunAs", "ranges": [{"min": 1, "max": 65535}]},
            "fsGroup": {"rule": "MustRunAs", "ranges": [{"min": 1, "max": 65535}]},
            "seccomp": {"allowedTypes": ["RuntimeDefault"], "defaultProfile": {"type": "RuntimeDefault"}},
            "appArmor": {"allowedTypes": ["RuntimeDefault"], "defaultProfile": {"type": "RuntimeDefault"}},
        }),
    )
}

fn pod(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
}

fn app() -> Value {
    json!({"name": "app", "image": "registry.example.com/app:1"})
}

fn with_context(sc: Value) -> Value {
    let mut c = app();
    c["securityContext"] = sc;
    c
}

/// A pod that every one of the three PSPs admits.
fn hardened_spec() -> Value {
    json!({
        "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "fsGroup": 1000,
                            "supplementalGroups": [1000], "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [with_context(json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}))]
    })
}

fn hardened_with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut spec = hardened_spec();
    edit(&mut spec);
    spec
}

/// The matrix: a pod, and the verdicts of the privileged, baseline and restricted PSPs.
fn matrix() -> Vec<(&'static str, Value, [bool; 3])> {
    vec![
        (
            "minimal",
            pod("minimal", json!({"containers": [app()]})),
            [true, true, false],
        ),
        (
            "hardened",
            pod("hardened", hardened_spec()),
            [true, true, true],
        ),
        (
            "privileged-init",
            pod(
                "privileged-init",
                hardened_with(|s| {
                    s["initContainers"] = json!([{"name": "init", "image": "busybox", "securityContext": {"privileged": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]);
                }),
            ),
            [true, false, false],
        ),
        (
            "host-network-and-port",
            pod(
                "host-network-and-port",
                hardened_with(|s| {
                    s["hostNetwork"] = json!(true);
                    s["containers"][0]["ports"] = json!([{"containerPort": 80, "hostPort": 80}]);
                }),
            ),
            [true, false, false],
        ),
        (
            "host-pid",
            pod("host-pid", hardened_with(|s| s["hostPID"] = json!(true))),
            [true, false, false],
        ),
        (
            "host-path",
            pod(
                "host-path",
                hardened_with(|s| {
                    s["volumes"] = json!([{"name": "logs", "hostPath": {"path": "/var/log"}}]);
                    s["containers"][0]["volumeMounts"] =
                        json!([{"name": "logs", "mountPath": "/logs", "readOnly": true}]);
                }),
            ),
            [true, false, false],
        ),
        (
            "nfs",
            pod(
                "nfs",
                hardened_with(|s| {
                    s["volumes"] = json!([{"name": "n", "nfs": {"server": "s", "path": "/"}}])
                }),
            ),
            [true, true, false],
        ),
        (
            "sys-admin",
            pod(
                "sys-admin",
                hardened_with(|s| {
                    s["containers"][0]["securityContext"]["capabilities"]["add"] =
                        json!(["SYS_ADMIN"])
                }),
            ),
            [true, false, false],
        ),
        (
            "default-capabilities",
            pod(
                "default-capabilities",
                json!({"containers": [with_context(json!({"capabilities": {"add": ["CHOWN", "cap_net_bind_service"]}}))]}),
            ),
            [true, true, false],
        ),
        (
            "root-with-run-as-non-root",
            pod(
                "root-with-run-as-non-root",
                hardened_with(|s| s["containers"][0]["securityContext"]["runAsUser"] = json!(0)),
            ),
            [true, true, false],
        ),
        (
            "unsafe-sysctl",
            pod(
                "unsafe-sysctl",
                hardened_with(|s| {
                    s["securityContext"]["sysctls"] =
                        json!([{"name": "kernel.msgmax", "value": "1"}])
                }),
            ),
            [false, false, false],
        ),
        (
            "safe-sysctl",
            pod(
                "safe-sysctl",
                hardened_with(|s| {
                    s["securityContext"]["sysctls"] =
                        json!([{"name": "net.ipv4.tcp_syncookies", "value": "1"}])
                }),
            ),
            [true, true, true],
        ),
        (
            "unconfined-seccomp",
            pod(
                "unconfined-seccomp",
                hardened_with(|s| {
                    s["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"})
                }),
            ),
            [true, true, false],
        ),
        (
            "unmasked-proc-mount-ephemeral",
            pod(
                "unmasked-proc-mount-ephemeral",
                hardened_with(|s| {
                    s["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox", "securityContext": {"procMount": "Unmasked", "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]);
                }),
            ),
            [false, false, false],
        ),
        (
            "localhost-apparmor",
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "aa", "annotations": {
                "container.apparmor.security.beta.kubernetes.io/app": "localhost/custom"}},
                "spec": hardened_spec()}),
            [true, false, false],
        ),
    ]
}

fn decide(object: &Value, settings: &Value) -> Decision {
    validate(&validation_payload(&pod_request(object), settings))
}

fn allowed(d: &Decision) -> bool {
    matches!(d, Decision::Accept { .. })
}

#[test]
fn pasted_psps_and_native_settings_agree_with_kubernetes_psp() {
    let policies = [
        ("privileged", privileged_psp(), privileged_native()),
        ("baseline", baseline_psp(), baseline_native()),
        ("restricted", restricted_psp(), restricted_native()),
    ];
    let mut judged = 0;
    for (pod_name, object, expected) in matrix() {
        for (i, (psp_name, psp, native)) in policies.iter().enumerate() {
            for mutate in [false, true] {
                let through_psp = decide(
                    &object,
                    &json!({"podSecurityPolicy": psp, "mutate": mutate}),
                );
                let through_native =
                    decide(&object, &merged(native.clone(), json!({"mutate": mutate})));
                assert_eq!(
                    through_psp, through_native,
                    "{pod_name} under {psp_name} (mutate: {mutate})"
                );
                if !mutate {
                    assert_eq!(
                        allowed(&through_psp),
                        expected[i],
                        "{pod_name} under {psp_name}: {through_psp:?}"
                    );
                }
                judged += 1;
            }
        }
    }
    assert_eq!(judged, matrix().len() * 3 * 2);
}

#[test]
fn the_spec_alone_is_the_policy_without_its_annotations() {
    // Without the seccomp annotation PSP forbids setting any seccomp profile.
    let spec = privileged_psp()["spec"].clone();
    let d = decide(
        &pod("p", hardened_spec()),
        &json!({"podSecurityPolicy": spec}),
    );
    let Decision::Reject { message, .. } = d else {
        panic!("{d:?}")
    };
    assert_eq!(
        message,
        r#"violates PodSecurity "privileged:latest": seccompProfile (container "app" must not set securityContext.seccompProfile (no profile is allowed), got "RuntimeDefault")"#
    );
    assert!(allowed(&decide(
        &pod("p", json!({"containers": [app()]})),
        &json!({"podSecurityPolicy": spec})
    )));
}

#[test]
fn the_restricted_psp_defaults_are_applied_like_psp() {
    let settings = json!({"podSecurityPolicy": restricted_psp(), "mutate": true});
    let object = pod(
        "minimal",
        json!({"containers": [app()], "initContainers": [{"name": "init", "image": "busybox", "securityContext": {"runAsUser": 1000}}]}),
    );
    let Decision::Accept {
        mutated: Some(after),
        ..
    } = decide(&object, &settings)
    else {
        panic!("expected a mutation");
    };
    assert_eq!(
        after["metadata"]["annotations"],
        json!({"container.apparmor.security.beta.kubernetes.io/init": "runtime/default",
               "container.apparmor.security.beta.kubernetes.io/app": "runtime/default"})
    );
    assert_eq!(
        after["spec"]["securityContext"],
        json!({"seccompProfile": {"type": "RuntimeDefault"}, "fsGroup": 1, "supplementalGroups": [1]})
    );
    assert_eq!(
        after["spec"]["containers"][0]["securityContext"],
        json!({"allowPrivilegeEscalation": false, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}})
    );
    // A container that names its user is not marked runAsNonRoot; what it sets stays.
    assert_eq!(
        after["spec"]["initContainers"][0]["securityContext"],
        json!({"runAsUser": 1000, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}})
    );
    // The result is admitted as it is, and nothing more is set.
    assert_eq!(decide(&after, &settings), Decision::accept());
}

#[test]
fn psp_defaults_never_override_what_the_workload_sets() {
    let psp = json!({
        "metadata": {"annotations": {
            "seccomp.security.alpha.kubernetes.io/allowedProfileNames": "*",
            "seccomp.security.alpha.kubernetes.io/defaultProfileName": "localhost/profiles/audit.json"}},
        "spec": {
            "volumes": ["*"], "allowedCapabilities": ["*"], "defaultAddCapabilities": ["NET_BIND_SERVICE", "CHOWN"],
            "defaultAllowPrivilegeEscalation": false,
            "runtimeClass": {"allowedRuntimeClassNames": ["gvisor", "runc"], "defaultRuntimeClassName": "gvisor"}
        }
    });
    let settings = json!({"podSecurityPolicy": psp, "mutate": true});
    let deployment = request(
        "apps",
        "v1",
        "Deployment",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"metadata": {"labels": {"app": "d"}}, "spec": {
            "containers": [
                {"name": "a", "image": "x"},
                {"name": "b", "image": "x", "securityContext": {"allowPrivilegeEscalation": true,
                    "capabilities": {"add": ["CHOWN"], "drop": ["NET_BIND_SERVICE"]}}}
            ]}}}}),
    );
    let Decision::Accept {
        mutated: Some(after),
        ..
    } = validate(&validation_payload(&deployment, &settings))
    else {
        panic!(
            "expected a mutation: {:?}",
            validate(&validation_payload(&deployment, &settings))
        );
    };
    let spec = &after["spec"]["template"]["spec"];
    assert_eq!(spec["runtimeClassName"], "gvisor");
    assert_eq!(
        spec["securityContext"]["seccompProfile"],
        json!({"type": "Localhost", "localhostProfile": "profiles/audit.json"})
    );
    assert_eq!(
        spec["containers"][0]["securityContext"],
        json!({"allowPrivilegeEscalation": false, "capabilities": {"add": ["CHOWN", "NET_BIND_SERVICE"]}})
    );
    // b keeps its own escalation, adds CHOWN once and does not get what it drops.
    assert_eq!(
        spec["containers"][1]["securityContext"],
        json!({"allowPrivilegeEscalation": true, "capabilities": {"add": ["CHOWN"], "drop": ["NET_BIND_SERVICE"]}})
    );
    assert_eq!(
        after["spec"]["template"]["metadata"],
        json!({"labels": {"app": "d"}})
    );
}

#[test]
fn an_explicit_level_applies_on_top_of_the_psp() {
    let settings = json!({"podSecurityPolicy": privileged_psp(), "level": "baseline"});
    let d = decide(
        &pod("p", json!({"hostPID": true, "containers": [app()]})),
        &settings,
    );
    let Decision::Reject { message, .. } = d else {
        panic!("{d:?}")
    };
    assert!(
        message.starts_with(r#"violates PodSecurity "baseline:latest": host namespaces"#),
        "{message}"
    );
}

#[test]
fn bad_psp_settings_are_refused_naming_the_field() {
    for (settings, expected) in [
        (
            json!({"podSecurityPolicy": {"spec": {"hostPorts": [{"min": 10, "max": 1}]}}}),
            "podSecurityPolicy (as native settings): hostPorts[0]: min 10 is greater than max 1",
        ),
        (
            json!({"podSecurityPolicy": {"spec": {"volumes": ["hostpath"]}}}),
            "volumes[0]: unknown volume type \"hostpath\"",
        ),
        (
            json!({"podSecurityPolicy": {"spec": {"allowedHostPath": []}}}),
            "podSecurityPolicy.spec.allowedHostPath: unknown field",
        ),
        (
            json!({"podSecurityPolicy": {"privileged": true}, "privileged": false}),
            "`privileged` is set both directly and by podSecurityPolicy",
        ),
        (
            json!({"podSecurityPolicy": {"runtimeClass": {"allowedRuntimeClassNames": ["a"], "defaultRuntimeClassName": "b"}}}),
            "runtimeClass.defaultRuntimeClassName \"b\" is not in",
        ),
        (
            json!({"podSecurityPolicy": "restricted"}),
            "podSecurityPolicy: expected a PodSecurityPolicy object or its spec",
        ),
    ] {
        let Decision::Reject { message, .. } =
            decide(&pod("p", json!({"containers": [app()]})), &settings)
        else {
            panic!("{settings} accepted");
        };
        assert!(message.contains(expected), "{settings}: {message}");
        assert!(message.starts_with("invalid settings"), "{message}");
    }
}
