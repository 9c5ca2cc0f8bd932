//! `mutate: true`: defaults set where they bring a workload into compliance, natively.

mod support;

use security_context_policy::admission::{validate, Decision};
use serde_json::{json, Value};
use support::{pod_request, request, validation_payload};

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

fn decide(req: &Value, settings: Value) -> Decision {
    validate(&validation_payload(req, &settings))
}

/// The mutated object of an accepted request.
fn mutated(req: &Value, settings: Value) -> Value {
    match decide(req, settings) {
        Decision::Accept {
            mutated: Some(m), ..
        } => m,
        other => panic!("expected a mutation, got {other:?}"),
    }
}

fn restricted_mutating() -> Value {
    json!({"level": "restricted", "mutate": true})
}

#[test]
fn restricted_defaults_are_set_where_unset() {
    let before = pod(json!({"containers": [{"name": "app", "image": "nginx"}],
                            "initContainers": [{"name": "init", "image": "busybox", "securityContext": {"capabilities": {"drop": ["NET_RAW"]}}}]}));
    let after = mutated(&pod_request(&before), restricted_mutating());
    assert_eq!(
        after["spec"],
        json!({
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": true},
            "containers": [{"name": "app", "image": "nginx", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
            "initContainers": [{"name": "init", "image": "busybox", "securityContext": {
                "capabilities": {"drop": ["NET_RAW", "ALL"]}, "allowPrivilegeEscalation": false}}]
        })
    );
    // The result passes, and mutating it again changes nothing.
    assert_eq!(
        decide(&pod_request(&after), restricted_mutating()),
        Decision::accept()
    );
}

#[test]
fn explicit_values_are_never_changed() {
    let before = pod(
        json!({"containers": [{"name": "app", "image": "nginx", "securityContext": {
        "allowPrivilegeEscalation": true, "seccompProfile": {"type": "Unconfined"}}}]}),
    );
    // Nothing a default can fix explains the remaining violations: rejected, not mutated.
    let Decision::Reject { message, .. } = decide(&pod_request(&before), restricted_mutating())
    else {
        panic!()
    };
    assert_eq!(
        message,
        r#"violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), seccompProfile (container "app" must not set securityContext.seccompProfile.type to "Unconfined")"#
    );
}

#[test]
fn the_pod_seccomp_default_is_only_set_when_needed() {
    // Every container sets its own profile: the pod gets none.
    let before = pod(
        json!({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "app", "image": "nginx", "securityContext": {
        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}}]}),
    );
    assert_eq!(
        decide(&pod_request(&before), restricted_mutating()),
        Decision::accept()
    );
}

#[test]
fn privileged_and_sys_admin_containers_get_no_allow_privilege_escalation() {
    for sc in [
        json!({"privileged": true}),
        json!({"capabilities": {"add": ["cap_sys_admin"]}}),
        json!({"capabilities": {"add": ["SYS_ADMIN"]}}),
    ] {
        let before =
            pod(json!({"containers": [{"name": "app", "image": "x", "securityContext": sc}]}));
        let req = pod_request(&before);
        let Decision::Reject { message, .. } =
            decide(&req, json!({"level": "restricted", "mutate": true}))
        else {
            panic!("{sc}")
        };
        assert!(
            message.contains("allowPrivilegeEscalation != false"),
            "{message}"
        );
        let defaults =
            support::defaults_for(&req, &json!({"level": "restricted", "mutate": true})).unwrap();
        let csc = &defaults["spec"]["containers"][0]["securityContext"];
        assert!(csc.get("allowPrivilegeEscalation").is_none(), "{sc}: {csc}");
        // The other defaults are still set.
        assert!(
            csc["capabilities"]["drop"]
                .as_array()
                .unwrap()
                .contains(&json!("ALL")),
            "{csc}"
        );
    }
}

#[test]
fn windows_pods_get_no_linux_only_field() {
    let before =
        pod(json!({"os": {"name": "windows"}, "containers": [{"name": "iis", "image": "iis"}]}));
    let settings = json!({"level": "restricted", "mutate": true, "readOnlyRootFilesystem": true,
        "runAsUser": {"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 2000}]}});
    let defaults = support::defaults_for(&pod_request(&before), &settings).unwrap();
    assert_eq!(
        defaults["spec"],
        json!({"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "iis", "image": "iis"}]})
    );
}

#[test]
fn constraint_defaults() {
    let settings = json!({"level": "privileged", "mutate": true,
        "runAsUser": {"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 2000}, {"min": 5000, "max": 6000}]},
        "runAsGroup": {"rule": "MustRunAs", "ranges": [{"min": 3000, "max": 4000}]},
        "fsGroup": {"rule": "MustRunAs", "ranges": [{"min": 7000, "max": 8000}]},
        "supplementalGroups": {"rule": "MustRunAs", "ranges": [{"min": 9000, "max": 9100}]},
        "readOnlyRootFilesystem": true,
        "capabilities": {"requiredDrop": ["net_raw", "SYS_ADMIN"]}});
    let before = pod(json!({"containers": [
        {"name": "a", "image": "x"},
        {"name": "b", "image": "y", "securityContext": {"readOnlyRootFilesystem": false, "capabilities": {"drop": ["NET_RAW"]}}}
    ]}));
    let req = pod_request(&before);
    let defaults = support::defaults_for(&req, &settings).unwrap();
    assert_eq!(
        defaults["spec"],
        json!({
            "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 7000, "supplementalGroups": [9000]},
            "containers": [
                {"name": "a", "image": "x", "securityContext": {"readOnlyRootFilesystem": true, "capabilities": {"drop": ["NET_RAW", "SYS_ADMIN"]}}},
                {"name": "b", "image": "y", "securityContext": {"readOnlyRootFilesystem": false, "capabilities": {"drop": ["NET_RAW", "SYS_ADMIN"]}}}
            ]
        })
    );
    // Container b's explicit readOnlyRootFilesystem=false cannot be fixed: rejected.
    let Decision::Reject { message, .. } = decide(&req, settings.clone()) else {
        panic!()
    };
    assert_eq!(
        message,
        r#"violates PodSecurity "privileged:latest": readOnlyRootFilesystem != true (container "b" must set securityContext.readOnlyRootFilesystem=true)"#
    );
    // Without b, the mutated pod is accepted.
    let mut only_a = before.clone();
    only_a["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    let after = mutated(&pod_request(&only_a), settings.clone());
    assert_eq!(decide(&pod_request(&after), settings), Decision::accept());
}

#[test]
fn controllers_get_their_pod_template_mutated() {
    let template = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}});
    let deployment = request(
        "apps",
        "v1",
        "Deployment",
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d"}, "spec": {"replicas": 2, "template": template}}),
    );
    let after = mutated(&deployment, restricted_mutating());
    assert_eq!(after["spec"]["replicas"], 2);
    assert_eq!(
        after["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"],
        true
    );
    let cronjob = request(
        "batch",
        "v1",
        "CronJob",
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "c"}, "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}}),
    );
    let after = mutated(&cronjob, restricted_mutating());
    assert_eq!(
        after["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
            ["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    // A Deployment update that changes its template is judged, and mutated too.
    let mut update = deployment.clone();
    update["operation"] = json!("UPDATE");
    update["oldObject"] = update["object"].clone();
    update["oldObject"]["spec"]["template"]["spec"]["containers"][0]["image"] = json!("old");
    assert!(matches!(
        decide(&update, restricted_mutating()),
        Decision::Accept {
            mutated: Some(_),
            ..
        }
    ));
    // One that changes nothing checked is accepted as it is (mutating its template would roll
    // the workload out), with what it still violates as a warning.
    update["oldObject"] = update["object"].clone();
    match decide(&update, restricted_mutating()) {
        Decision::Accept { mutated, warnings } => {
            assert_eq!(mutated, None);
            assert!(
                warnings[0].contains("still to fix in this Deployment"),
                "{warnings:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_mutation_without_the_setting_on_compliant_objects_or_on_pod_updates() {
    let bare = pod(json!({"containers": [{"name": "app", "image": "nginx"}]}));
    assert!(matches!(
        decide(&pod_request(&bare), json!({"level": "restricted"})),
        Decision::Reject { .. }
    ));
    let compliant = mutated(&pod_request(&bare), restricted_mutating());
    assert_eq!(
        decide(&pod_request(&compliant), restricted_mutating()),
        Decision::accept()
    );
    let mut update = pod_request(&bare);
    update["operation"] = json!("UPDATE");
    update["oldObject"] = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "old"}]}});
    assert!(matches!(
        decide(&update, restricted_mutating()),
        Decision::Reject { .. }
    ));
}

#[test]
fn exempted_containers_are_left_alone() {
    let before = pod(
        json!({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "app", "image": "nginx"}, {"name": "istio-proxy", "image": "istio/proxyv2"}]}),
    );
    let settings = json!({"level": "restricted", "mutate": true,
        "exemptions": [{"checks": ["allowPrivilegeEscalation", "capabilities_restricted"], "containers": ["istio-proxy"]}]});
    let after = mutated(&pod_request(&before), settings);
    assert_eq!(
        after["spec"]["containers"][1],
        json!({"name": "istio-proxy", "image": "istio/proxyv2"})
    );
    assert_eq!(
        after["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"],
        false
    );
}

#[test]
fn unknown_fields_survive() {
    let before = pod(json!({
        "futurePodField": {"x": [1, 2]},
        "securityContext": {"futureSecurityField": "keep", "runAsNonRoot": null},
        "containers": [{"name": "app", "image": "nginx", "futureContainerField": true,
            "securityContext": {"futureContainerSecurityField": 7, "capabilities": {"futureCaps": "x"}}}]
    }));
    let after = mutated(&pod_request(&before), restricted_mutating());
    assert_eq!(after["spec"]["futurePodField"], json!({"x": [1, 2]}));
    assert_eq!(
        after["spec"]["securityContext"]["futureSecurityField"],
        "keep"
    );
    assert_eq!(after["spec"]["securityContext"]["runAsNonRoot"], true);
    let c = &after["spec"]["containers"][0];
    assert_eq!(c["futureContainerField"], true);
    assert_eq!(c["securityContext"]["futureContainerSecurityField"], 7);
    assert_eq!(
        c["securityContext"]["capabilities"],
        json!({"futureCaps": "x", "drop": ["ALL"]})
    );
    assert_eq!(after["metadata"], before["metadata"]);
}
