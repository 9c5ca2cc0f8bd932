//! End-to-end behaviour of the evaluator on whole AdmissionRequests, natively.

mod support;

use security_context_policy::admission::{validate, Decision};
use serde_json::{json, Value};
use support::{pod_request, request, validation_payload};

fn decide(request: &Value, settings: Value) -> Decision {
    validate(&validation_payload(request, &settings))
}

/// The warnings of an acceptance, panicking on a rejection.
fn accepted_warnings(decision: Decision) -> Vec<String> {
    match decision {
        Decision::Accept { warnings, mutated } => {
            assert_eq!(mutated, None);
            warnings
        }
        Decision::Reject { message, .. } => panic!("expected an acceptance: {message}"),
    }
}

fn message(decision: Decision) -> String {
    match decision {
        Decision::Reject { message, .. } => message,
        Decision::Accept { .. } => panic!("expected a rejection"),
    }
}

/// A pod that satisfies restricted:latest.
fn compliant_spec() -> Value {
    json!({
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "app", "image": "registry.example.com/app:1.0",
            "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
        }]
    })
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

/// An object of `kind` whose pod template has `spec`.
fn workload(kind: &str, spec: Value) -> (String, Value) {
    let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": spec});
    let (group, object) = match kind {
        "Pod" => ("", pod(spec)),
        "PodTemplate" => (
            "",
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": "t"}, "template": template}),
        ),
        "ReplicationController" => (
            "",
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": "rc"}, "spec": {"template": template}}),
        ),
        "CronJob" => (
            "batch",
            json!({"apiVersion": "batch/v1", "kind": kind, "metadata": {"name": "cj"},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}}),
        ),
        "Job" => (
            "batch",
            json!({"apiVersion": "batch/v1", "kind": kind, "metadata": {"name": "j"}, "spec": {"template": template}}),
        ),
        _ => (
            "apps",
            json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "w"}, "spec": {"template": template}}),
        ),
    };
    (group.to_string(), object)
}

const KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
    "PodTemplate",
];

#[test]
fn every_kind_is_evaluated_through_its_pod_template() {
    let mut violating = compliant_spec();
    violating["containers"][0]["securityContext"]["privileged"] = json!(true);
    for kind in KINDS {
        let (group, object) = workload(kind, compliant_spec());
        let version = "v1";
        assert_eq!(
            decide(&request(&group, version, kind, object), json!({})),
            Decision::accept(),
            "{kind}"
        );
        let (group, object) = workload(kind, violating.clone());
        let msg = message(decide(&request(&group, version, kind, object), json!({})));
        assert!(
            msg.starts_with(
                r#"violates PodSecurity "restricted:latest": privileged (container "app""#
            ),
            "{kind}: {msg}"
        );
    }
}

#[test]
fn other_kinds_are_accepted_untouched() {
    let service = json!({"apiVersion": "v1", "kind": "Service", "spec": {"hostNetwork": true}});
    assert_eq!(
        decide(&request("", "v1", "Service", service), json!({})),
        Decision::accept()
    );
    // A custom resource that happens to be called Pod is not a Pod.
    let custom =
        json!({"apiVersion": "example.com/v1", "kind": "Pod", "spec": {"hostNetwork": true}});
    assert_eq!(
        decide(&request("example.com", "v1", "Pod", custom), json!({})),
        Decision::accept()
    );
}

#[test]
fn the_kind_falls_back_to_the_object_when_the_request_has_none() {
    let mut spec = compliant_spec();
    spec["hostPID"] = json!(true);
    let mut req = pod_request(&pod(spec));
    req.as_object_mut().unwrap().remove("kind");
    assert!(message(decide(&req, json!({}))).contains("host namespaces (hostPID=true)"));
}

#[test]
fn every_violation_is_reported_at_once_in_a_stable_order() {
    let spec = json!({
        "hostNetwork": true,
        "initContainers": [{"name": "init", "image": "busybox"}],
        "containers": [{"name": "app", "image": "nginx", "securityContext": {"privileged": true, "runAsUser": 0}}],
        "volumes": [{"name": "host", "hostPath": {"path": "/"}}]
    });
    let msg = message(decide(
        &pod_request(&pod(spec)),
        json!({"level": "restricted", "version": "v1.30"}),
    ));
    assert_eq!(
        msg,
        concat!(
            r#"violates PodSecurity "restricted:v1.30": "#,
            r#"host namespaces (hostNetwork=true), "#,
            r#"privileged (container "app" must not set securityContext.privileged=true), "#,
            r#"allowPrivilegeEscalation != false (containers "init", "app" must set securityContext.allowPrivilegeEscalation=false), "#,
            r#"unrestricted capabilities (containers "init", "app" must set securityContext.capabilities.drop=["ALL"]), "#,
            r#"restricted volume types (volume "host" uses restricted volume type "hostPath"), "#,
            r#"runAsNonRoot != true (pod or containers "init", "app" must set securityContext.runAsNonRoot=true), "#,
            r#"runAsUser=0 (container "app" must not set runAsUser=0), "#,
            r#"seccompProfile (pod or containers "init", "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
        )
    );
}

#[test]
fn levels_and_versions_select_the_checks() {
    let spec = json!({"containers": [{"name": "app", "image": "nginx"}]});
    let req = pod_request(&pod(spec));
    assert_eq!(
        decide(&req, json!({"level": "baseline"})),
        Decision::accept()
    );
    assert_eq!(
        decide(&req, json!({"level": "privileged"})),
        Decision::accept()
    );
    let msg = message(decide(
        &req,
        json!({"level": "restricted", "version": "v1.7"}),
    ));
    assert_eq!(
        msg,
        r#"violates PodSecurity "restricted:v1.7": runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true)"#
    );
    // A newer minor than the policy knows evaluates like the newest, printed as configured.
    let msg = message(decide(&req, json!({"version": "v1.99"})));
    assert!(
        msg.starts_with(r#"violates PodSecurity "restricted:v1.99": allowPrivilegeEscalation"#),
        "{msg}"
    );
}

#[test]
fn exemptions_by_image_container_and_workload() {
    let spec = json!({"containers": [
        {"name": "app", "image": "registry.example.com/app:1", "securityContext": {"privileged": true}},
        {"name": "agent", "image": "registry.k8s.io/agent:2", "securityContext": {"privileged": true}}
    ], "hostNetwork": true});
    let req = pod_request(&pod(spec));
    let baseline =
        |exemptions: Value| decide(&req, json!({"level": "baseline", "exemptions": exemptions}));

    let msg = message(baseline(
        json!([{"checks": ["privileged"], "images": ["registry.k8s.io/*"]}]),
    ));
    assert!(msg.contains(r#"privileged (container "app" must"#), "{msg}");
    let msg = message(baseline(
        json!([{"checks": ["privileged"], "containers": ["app", "agent"]}]),
    ));
    assert!(!msg.contains("privileged ("), "{msg}");
    // Container exemptions cannot exempt what the pod itself sets.
    assert!(msg.contains("host namespaces"), "{msg}");
    assert_eq!(
        baseline(json!([{"checks": ["privileged", "hostNamespaces"]}])),
        Decision::accept()
    );
    // An exemption for one check leaves the others in force.
    let msg = message(baseline(
        json!([{"checks": ["hostNamespaces"], "containers": ["app", "agent"]}]),
    ));
    assert!(
        msg.contains(r#"privileged (containers "app", "agent""#),
        "{msg}"
    );
}

#[test]
fn container_exemptions_apply_to_pod_level_requirements_per_container() {
    // runAsNonRoot: the exempt container no longer needs to set it.
    let spec = json!({"containers": [
        {"name": "app", "image": "a", "securityContext": {"runAsNonRoot": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}},
        {"name": "legacy", "image": "b", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}}
    ]});
    let req = pod_request(&pod(spec));
    assert!(message(decide(&req, json!({})))
        .contains(r#"container "legacy" must set securityContext.runAsNonRoot=true"#));
    assert_eq!(
        decide(
            &req,
            json!({"exemptions": [{"checks": ["runAsNonRoot"], "containers": ["legacy"]}]})
        ),
        Decision::accept()
    );
}

/// For each field that exists on both pod and container, the container's value decides.
#[test]
fn container_values_override_pod_values() {
    let base = |pod_sc: Value, container_sc: Value| {
        let mut spec = compliant_spec();
        let sc = spec["securityContext"].as_object_mut().unwrap();
        for (k, v) in pod_sc.as_object().unwrap() {
            sc.insert(k.clone(), v.clone());
        }
        let csc = spec["containers"][0]["securityContext"]
            .as_object_mut()
            .unwrap();
        for (k, v) in container_sc.as_object().unwrap() {
            csc.insert(k.clone(), v.clone());
        }
        pod_request(&pod(spec))
    };
    let cases: &[(Value, Value, Option<&str>)] = &[
        // runAsNonRoot
        (
            json!({"runAsNonRoot": true}),
            json!({"runAsNonRoot": false}),
            Some("runAsNonRoot != true"),
        ),
        (
            json!({"runAsNonRoot": null}),
            json!({"runAsNonRoot": true}),
            None,
        ),
        // runAsUser
        (
            json!({"runAsUser": 1000}),
            json!({"runAsUser": 0}),
            Some("runAsUser=0"),
        ),
        // seccompProfile
        (
            json!({"seccompProfile": {"type": "RuntimeDefault"}}),
            json!({"seccompProfile": {"type": "Unconfined"}}),
            Some("seccompProfile"),
        ),
        (
            json!({"seccompProfile": null}),
            json!({"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}),
            None,
        ),
        // appArmorProfile
        (
            json!({"appArmorProfile": {"type": "RuntimeDefault"}}),
            json!({"appArmorProfile": {"type": "Unconfined"}}),
            Some("forbidden AppArmor profile"),
        ),
        // seLinuxOptions
        (
            json!({"seLinuxOptions": {"type": "container_t"}}),
            json!({"seLinuxOptions": {"type": "spc_t"}}),
            Some("seLinuxOptions"),
        ),
        // windowsOptions
        (
            json!({"windowsOptions": {"hostProcess": false}}),
            json!({"windowsOptions": {"hostProcess": true}}),
            Some("hostProcess"),
        ),
        // runAsGroup: no standard check reads it; overriding it must not matter.
        (json!({"runAsGroup": 0}), json!({"runAsGroup": 1000}), None),
    ];
    for (pod_sc, container_sc, expected) in cases {
        let decision = decide(&base(pod_sc.clone(), container_sc.clone()), json!({}));
        match expected {
            None => assert_eq!(decision, Decision::accept(), "{pod_sc} / {container_sc}"),
            Some(reason) => {
                let msg = message(decision);
                assert!(msg.contains(reason), "{pod_sc} / {container_sc}: {msg}");
                assert!(msg.contains(r#"container "app""#), "{msg}");
            }
        }
    }
}

#[test]
fn pod_updates_are_judged_only_when_something_checked_changes() {
    let mut old = pod(
        json!({"containers": [{"name": "app", "image": "nginx:1", "securityContext": {"privileged": true}}]}),
    );
    let mut new = old.clone();
    new["metadata"]["labels"] = json!({"touched": "yes"});
    new["status"] = json!({"phase": "Running"});
    let mut req = pod_request(&new);
    req["operation"] = json!("UPDATE");
    req["oldObject"] = old.clone();
    let warnings = accepted_warnings(decide(&req, json!({"level": "baseline"})));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(r#"Pod: violates PodSecurity "baseline:latest": privileged"#),
        "{warnings:?}"
    );

    new["spec"]["containers"][0]["image"] = json!("nginx:2");
    req["object"] = new.clone();
    assert!(message(decide(&req, json!({"level": "baseline"}))).contains("privileged"));

    // A checked annotation counts as a change too.
    old["metadata"]["annotations"] =
        json!({"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"});
    new = old.clone();
    new["metadata"]["annotations"]["container.apparmor.security.beta.kubernetes.io/app"] =
        json!("unconfined");
    req["object"] = new;
    req["oldObject"] = old;
    assert!(message(decide(&req, json!({"level": "baseline"}))).contains("AppArmor"));
}

#[test]
fn subresources_are_skipped_except_ephemeral_containers() {
    let mut object = pod(json!({"containers": [{"name": "app", "image": "nginx"}],
        "ephemeralContainers": [{"name": "debug", "image": "busybox", "securityContext": {"privileged": true}}]}));
    let mut req = pod_request(&object);
    req["operation"] = json!("UPDATE");
    req["oldObject"] = object.clone();
    req["subResource"] = json!("status");
    assert_eq!(
        decide(&req, json!({"level": "baseline"})),
        Decision::accept()
    );
    req["subResource"] = json!("ephemeralcontainers");
    let msg = message(decide(&req, json!({"level": "baseline"})));
    assert!(msg.contains(r#"privileged (container "debug""#), "{msg}");
    object["spec"]["ephemeralContainers"][0]["securityContext"]["privileged"] = json!(false);
    req["object"] = object;
    assert_eq!(
        decide(&req, json!({"level": "baseline"})),
        Decision::accept()
    );
}

#[test]
fn deletes_and_connects_are_accepted() {
    let mut req = pod_request(&pod(json!({"hostPID": true, "containers": []})));
    req["operation"] = json!("DELETE");
    req["oldObject"] = req["object"].take();
    assert_eq!(decide(&req, json!({})), Decision::accept());
}

#[test]
fn unreadable_objects_are_rejected_naming_the_field() {
    let (group, object) = workload(
        "Deployment",
        json!({"containers": [{"name": "app", "securityContext": {"runAsUser": "root"}}]}),
    );
    let msg = message(decide(
        &request(&group, "v1", "Deployment", object),
        json!({}),
    ));
    assert_eq!(
        msg,
        r#"PodSecurity "restricted:latest" cannot evaluate this Deployment: cannot read spec.template.spec.containers[0].securityContext.runAsUser: expected an integer, found a string"#
    );
    let object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1}});
    let msg = message(decide(
        &request("apps", "v1", "Deployment", object),
        json!({}),
    ));
    assert!(msg.ends_with("cannot read spec.template: missing"), "{msg}");
    let msg = message(decide(
        &pod_request(&json!({"kind": "Pod", "metadata": {}})),
        json!({}),
    ));
    assert!(msg.ends_with("cannot read spec: missing"), "{msg}");
}

#[test]
fn unreadable_payloads_and_settings_are_rejected() {
    let msg = message(validate(b"not json"));
    assert!(
        msg.starts_with("cannot read the admission request"),
        "{msg}"
    );
    let msg = message(validate(br#"{"settings": {}}"#));
    assert!(msg.contains("missing field `request`"), "{msg}");
    let req = pod_request(&pod(compliant_spec()));
    let msg = message(decide(&req, json!({"level": "strict"})));
    assert!(msg.contains("unknown level"), "{msg}");
    let msg = message(decide(&req, json!({"lvl": "baseline"})));
    assert!(msg.contains("unknown field `lvl`"), "{msg}");
}

#[test]
fn responses_are_deterministic_whatever_the_key_order() {
    let a = br#"{"settings":{"level":"baseline"},"request":{"kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","object":{"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/b":"unconfined","container.apparmor.security.beta.kubernetes.io/a":"unconfined"}},"spec":{"hostPID":true,"hostNetwork":true,"containers":[{"name":"b","image":"x"},{"name":"a","image":"y"}]}}}}"#;
    let b = br#"{"request":{"object":{"spec":{"containers":[{"image":"x","name":"b"},{"image":"y","name":"a"}],"hostNetwork":true,"hostPID":true},"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/a":"unconfined","container.apparmor.security.beta.kubernetes.io/b":"unconfined"}}},"operation":"CREATE","kind":{"kind":"Pod","version":"v1","group":""}},"settings":{"level":"baseline"}}"#;
    let ra = security_context_policy::validate(a).unwrap();
    let rb = security_context_policy::validate(b).unwrap();
    assert_eq!(ra, rb);
    assert!(String::from_utf8(ra)
        .unwrap()
        .contains("annotations must not set"));
}

#[test]
fn settings_changes_between_requests_take_effect() {
    // The compiled policy is cached per settings document; alternating documents must never
    // see each other's policy.
    let req = pod_request(&pod(
        json!({"containers": [{"name": "app", "image": "nginx"}]}),
    ));
    for _ in 0..3 {
        assert_eq!(
            decide(&req, json!({"level": "baseline"})),
            Decision::accept()
        );
        assert!(matches!(
            decide(&req, json!({"level": "restricted"})),
            Decision::Reject { .. }
        ));
        assert!(matches!(
            decide(&req, json!({"level": "nope"})),
            Decision::Reject { .. }
        ));
    }
}

/// The pod template of an object built by `workload` (the object itself for a Pod).
fn template_mut<'v>(kind: &str, object: &'v mut Value) -> &'v mut Value {
    match kind {
        "Pod" => object,
        "PodTemplate" => &mut object["template"],
        "CronJob" => &mut object["spec"]["jobTemplate"]["spec"]["template"],
        _ => &mut object["spec"]["template"],
    }
}

/// An UPDATE request of `kind` from `old` to `new`.
fn update(kind: &str, old: Value, new: Value) -> Value {
    let group = match kind {
        "Job" | "CronJob" => "batch",
        "Pod" | "PodTemplate" | "ReplicationController" => "",
        _ => "apps",
    };
    let mut req = request(group, "v1", kind, new);
    req["operation"] = json!("UPDATE");
    req["oldObject"] = old;
    req
}

/// The same object, changed only where no check reads: its own labels and annotations, its
/// replicas or schedule, the template's labels and other annotations.
fn touched_elsewhere(kind: &str, object: &Value) -> Value {
    let mut new = object.clone();
    new["metadata"]["labels"] = json!({"team": "shop", "rollout": "2"});
    new["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "7"});
    match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "ReplicationController" => {
            new["spec"]["replicas"] = json!(5)
        }
        "CronJob" => new["spec"]["schedule"] = json!("*/5 * * * *"),
        "Job" => new["spec"]["backoffLimit"] = json!(2),
        _ => {}
    }
    let template = template_mut(kind, &mut new);
    template["metadata"]["labels"]["version"] = json!("2");
    template["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/restartedAt": "now"});
    new
}

#[test]
fn updates_changing_nothing_checked_are_accepted_with_the_violations_as_a_warning() {
    let mut violating = compliant_spec();
    violating["containers"][0]["securityContext"]["privileged"] = json!(true);
    for kind in KINDS {
        let (_, old) = workload(kind, violating.clone());
        let new = touched_elsewhere(kind, &old);
        let warnings = accepted_warnings(decide(&update(kind, old.clone(), new), json!({})));
        assert_eq!(warnings.len(), 1, "{kind}: {warnings:?}");
        assert!(
            warnings[0].contains(&format!(
                r#"{kind}: violates PodSecurity "restricted:latest": privileged (container "app""#
            )),
            "{kind}: {warnings:?}"
        );
        assert!(warnings[0].contains("judgeEveryUpdate"), "{warnings:?}");

        // The warn level's violations come along.
        let (_, old) = workload(kind, json!({"containers": [{"name": "app", "image": "a"}]}));
        let new = touched_elsewhere(kind, &old);
        let settings = json!({"level": "baseline", "warn": {"level": "restricted"}});
        let warnings = accepted_warnings(decide(&update(kind, old, new), settings));
        assert_eq!(warnings.len(), 1, "{kind}: {warnings:?}");
        assert!(
            warnings[0].starts_with(r#"would violate PodSecurity "restricted:latest""#),
            "{kind}: {warnings:?}"
        );

        // A compliant workload's unchanged update says nothing.
        let (_, old) = workload(kind, compliant_spec());
        let new = touched_elsewhere(kind, &old);
        assert_eq!(
            decide(&update(kind, old, new), json!({})),
            Decision::accept(),
            "{kind}"
        );
    }
}

#[test]
fn updates_that_add_a_violation_are_judged_on_every_kind() {
    let mut violating = compliant_spec();
    violating["containers"][0]["securityContext"]["privileged"] = json!(true);
    for kind in KINDS {
        let (_, old) = workload(kind, violating.clone());
        let mut new = touched_elsewhere(kind, &old);
        template_mut(kind, &mut new)["spec"]["hostNetwork"] = json!(true);
        let msg = message(decide(&update(kind, old, new), json!({})));
        assert!(
            msg.starts_with(r#"violates PodSecurity "restricted:latest": host namespaces (hostNetwork=true), privileged"#),
            "{kind}: {msg}"
        );
    }
}

#[test]
fn judge_every_update_rejects_unchanged_violating_updates() {
    let mut violating = compliant_spec();
    violating["containers"][0]["securityContext"]["privileged"] = json!(true);
    for kind in KINDS {
        let (_, old) = workload(kind, violating.clone());
        let new = touched_elsewhere(kind, &old);
        let msg = message(decide(
            &update(kind, old.clone(), new.clone()),
            json!({"judgeEveryUpdate": true}),
        ));
        assert!(msg.contains("privileged"), "{kind}: {msg}");
        assert!(matches!(
            decide(&update(kind, old, new), json!({"judgeEveryUpdate": false})),
            Decision::Accept { .. }
        ));
    }
}

#[test]
fn a_change_to_anything_a_constraint_reads_is_judged() {
    // (settings, the template before, the template after): the old one passes, the new one
    // fails only a constraint, so the update must be judged to be rejected.
    let container =
        |sc: Value, image: &str| json!({"name": "app", "image": image, "securityContext": sc});
    let template = |pod_sc: Value, c: Value| json!({"metadata": {}, "spec": {"securityContext": pod_sc, "containers": [c]}});
    let cases = [
        (
            json!({"readOnlyRootFilesystem": true}),
            template(
                json!({}),
                container(json!({"readOnlyRootFilesystem": true}), "a"),
            ),
            template(
                json!({}),
                container(json!({"readOnlyRootFilesystem": false}), "a"),
            ),
        ),
        (
            json!({"fsGroup": {"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 3000}]}}),
            template(json!({"fsGroup": 2000}), container(json!({}), "a")),
            template(json!({"fsGroup": 5}), container(json!({}), "a")),
        ),
        (
            json!({"supplementalGroups": {"rule": "MayRunAs", "ranges": [{"min": 1000, "max": 3000}]}}),
            template(
                json!({"supplementalGroups": [2000]}),
                container(json!({}), "a"),
            ),
            template(
                json!({"supplementalGroups": [2000, 5]}),
                container(json!({}), "a"),
            ),
        ),
        (
            json!({"sysctls": {"forbidden": ["net.ipv4.ip_forward"]}}),
            template(json!({"sysctls": []}), container(json!({}), "a")),
            template(
                json!({"sysctls": [{"name": "net.ipv4.ip_forward", "value": "1"}]}),
                container(json!({}), "a"),
            ),
        ),
        (
            json!({"capabilities": {"requiredDrop": ["NET_RAW"]}}),
            template(
                json!({}),
                container(json!({"capabilities": {"drop": ["NET_RAW"]}}), "a"),
            ),
            template(
                json!({}),
                container(json!({"capabilities": {"drop": ["CHOWN"]}}), "a"),
            ),
        ),
        (
            json!({"seLinux": {"allowedLevels": ["s0:c1"]}}),
            template(
                json!({"seLinuxOptions": {"level": "s0:c1"}}),
                container(json!({}), "a"),
            ),
            template(
                json!({"seLinuxOptions": {"level": "s0:c2"}}),
                container(json!({}), "a"),
            ),
        ),
        (
            json!({"runAsUser": {"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 3000}]}}),
            template(json!({"runAsUser": 2000}), container(json!({}), "a")),
            template(
                json!({"runAsUser": 2000}),
                container(json!({"runAsUser": 4000}), "a"),
            ),
        ),
        (
            json!({"appArmor": {"allowedTypes": ["RuntimeDefault"]}}),
            json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}},
                   "spec": {"containers": [{"name": "app", "image": "a"}]}}),
            json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "localhost/x"}},
                   "spec": {"containers": [{"name": "app", "image": "a"}]}}),
        ),
        (
            // The image decides an exemption.
            json!({"readOnlyRootFilesystem": true,
                   "exemptions": [{"checks": ["readOnlyRootFilesystemConstraint"], "images": ["trusted/*"]}]}),
            template(json!({}), container(json!({}), "trusted/app")),
            template(json!({}), container(json!({}), "other/app")),
        ),
    ];
    for (constraint, before, after) in cases {
        let mut settings = constraint.clone();
        settings["level"] = json!("privileged");
        for kind in KINDS {
            let (_, mut old) = workload(kind, json!({}));
            *template_mut(kind, &mut old) = before.clone();
            let mut new = old.clone();
            *template_mut(kind, &mut new) = after.clone();
            if kind == &"Pod" {
                // A Pod keeps its own apiVersion, kind and name around the template.
                for (o, t) in [(&mut old, &before), (&mut new, &after)] {
                    *o = json!({"apiVersion": "v1", "kind": "Pod", "metadata": t["metadata"], "spec": t["spec"]});
                    o["metadata"]["name"] = json!("p");
                }
            }
            assert!(
                matches!(
                    decide(&update(kind, old.clone(), old.clone()), settings.clone()),
                    Decision::Accept { .. }
                ),
                "{kind} {constraint}: the old object passes"
            );
            let msg = message(decide(&update(kind, old, new), settings.clone()));
            assert!(
                msg.starts_with(r#"violates PodSecurity "privileged:latest""#),
                "{kind} {constraint}: {msg}"
            );
        }
    }
}

/// The rules read objects without what none of them reads (env, resources, labels, status, ...),
/// so mutation must edit the whole object as sent, whichever order the request's keys come in.
#[test]
fn mutation_keeps_every_field_the_rules_do_not_read() {
    let mut spec = compliant_spec();
    spec["securityContext"] = json!({"seccompProfile": {"type": "RuntimeDefault"}});
    spec["tolerations"] = json!([{"key": "gpu", "operator": "Exists"}]);
    spec["containers"][0]["env"] = json!([{"name": "A", "value": "1"}]);
    spec["containers"][0]["resources"] = json!({"limits": {"memory": "1Gi"}});
    let (_, mut object) = workload("Deployment", spec);
    object["metadata"]["labels"] = json!({"team": "shop"});
    object["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": "{}"});
    object["status"] = json!({"replicas": 3});
    let settings = json!({"level": "restricted", "mutate": true});
    let in_order = request("apps", "v1", "Deployment", object.clone());
    // The object before the request's kind: read as text first, then by kind.
    let payload = format!(
        r#"{{"request": {{"object": {}, "operation": "CREATE", "kind": {{"group": "apps", "version": "v1", "kind": "Deployment"}}}}, "settings": {}}}"#,
        object, settings
    );
    for decision in [
        decide(&in_order, settings.clone()),
        validate(payload.as_bytes()),
    ] {
        let Decision::Accept {
            mutated: Some(mutated),
            ..
        } = decision
        else {
            panic!("expected a mutated acceptance: {decision:?}");
        };
        // runAsNonRoot was the one thing set; everything else is as sent.
        let mut expected = object.clone();
        expected["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = json!(true);
        assert_eq!(mutated, expected);
    }
}

/// The object is read by the request's kind as it comes: a request that names its kind twice is
/// refused rather than judged by one of them.
#[test]
fn a_request_field_given_twice_is_refused() {
    let pod = pod(compliant_spec());
    let payload = format!(
        r#"{{"request": {{"kind": {{"group": "apps", "version": "v1", "kind": "Deployment"}}, "object": {pod}, "kind": {{"group": "", "version": "v1", "kind": "Pod"}}, "operation": "CREATE"}}, "settings": {{}}}}"#
    );
    let message = message(validate(payload.as_bytes()));
    assert!(
        message.starts_with("cannot read the admission request: duplicate field `kind`"),
        "{message}"
    );
}
