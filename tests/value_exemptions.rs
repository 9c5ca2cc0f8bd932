//! `exemptions[].values`: single values of one field exempted for the checks an exemption
//! names, in the containers it selects, and nowhere else.

mod support;

use security_context_policy::admission::{validate, Decision};
use serde_json::{json, Value};
use support::validation_payload;

/// `None` when accepted, the message when rejected.
fn rejection(spec: Value, settings: Value) -> Option<String> {
    match validate(&validation_payload(
        &support::deployment_of_spec(spec),
        &settings,
    )) {
        Decision::Accept { .. } => None,
        Decision::Reject { message, .. } => Some(message),
    }
}

fn baseline_with(exemption: Value) -> Value {
    json!({"level": "baseline", "exemptions": [exemption]})
}

fn two_containers_adding(a: &[&str], b: &[&str]) -> Value {
    json!({"containers": [
        {"name": "a", "image": "registry.example.com/vpn:1",
         "securityContext": {"capabilities": {"add": a}}},
        {"name": "b", "image": "registry.example.com/web:1",
         "securityContext": {"capabilities": {"add": b}}}]})
}

#[test]
fn an_added_capability_is_exempt_only_in_the_selected_container() {
    let spec = two_containers_adding(&["NET_ADMIN"], &["NET_ADMIN"]);
    let exemption = json!({"checks": ["capabilities_baseline"], "containers": ["a"],
        "values": {"capabilities.add": ["NET_ADMIN"]}});
    assert_eq!(
        rejection(spec.clone(), baseline_with(exemption)).unwrap(),
        "violates PodSecurity \"baseline:latest\": non-default capabilities (container \"b\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)"
    );
    // Another value of the same field in the same container is still judged.
    let spec = two_containers_adding(&["NET_ADMIN", "SYS_ADMIN"], &[]);
    let all = json!({"checks": ["capabilities_baseline"],
        "values": {"capabilities.add": ["NET_ADMIN"]}});
    assert_eq!(
        rejection(spec, baseline_with(all)).unwrap(),
        "violates PodSecurity \"baseline:latest\": non-default capabilities (container \"a\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add)"
    );
    // By image, the same.
    let by_image = json!({"checks": ["capabilities_baseline"], "images": ["registry.example.com/web:*"],
        "values": {"capabilities.add": ["NET_ADMIN"]}});
    assert_eq!(
        rejection(two_containers_adding(&["NET_ADMIN"], &["NET_ADMIN"]), baseline_with(by_image))
            .unwrap(),
        "violates PodSecurity \"baseline:latest\": non-default capabilities (container \"a\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)"
    );
}

#[test]
fn the_exempted_value_itself_is_accepted() {
    let spec = two_containers_adding(&["NET_ADMIN"], &[]);
    let exemption = json!({"checks": ["capabilities_baseline"], "containers": ["a"],
        "values": {"capabilities.add": ["NET_ADMIN"]}});
    assert_eq!(rejection(spec, baseline_with(exemption)), None);
}

#[test]
fn values_match_whole_and_as_written() {
    for written in ["NET_ADMI", "net_admin", "CAP_NET_ADMIN", "NET_*"] {
        let exemption = json!({"checks": ["capabilities_baseline"],
            "values": {"capabilities.add": [written]}});
        assert!(
            rejection(
                two_containers_adding(&["NET_ADMIN"], &[]),
                baseline_with(exemption)
            )
            .is_some(),
            "{written}"
        );
    }
}

#[test]
fn a_value_exemption_does_not_reach_another_check() {
    // capabilities_restricted judges the same field at restricted; only the named check is
    // relaxed.
    let mut spec = json!({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "a", "image": "x", "securityContext": {
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]}}}]});
    let settings = |checks: Value| {
        json!({"level": "restricted", "exemptions": [{"checks": checks,
            "values": {"capabilities.add": ["NET_ADMIN"]}}]})
    };
    let message = rejection(spec.clone(), settings(json!(["capabilities_baseline"]))).unwrap();
    assert_eq!(
        message,
        "violates PodSecurity \"restricted:latest\": unrestricted capabilities (container \"a\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)"
    );
    assert_eq!(
        rejection(spec.clone(), settings(json!(["capabilities_restricted"]))),
        None
    );
    // Nor another field: a host port stays a violation.
    spec["containers"][0]["ports"] = json!([{"containerPort": 80, "hostPort": 80}]);
    assert!(rejection(
        spec,
        settings(json!(["capabilities_restricted", "hostPorts"]))
    )
    .unwrap()
    .contains("hostPort (container \"a\" uses hostPort 80)"));
}

#[test]
fn host_ports_are_exempt_by_number() {
    let spec = json!({"containers": [
        {"name": "exporter", "image": "x", "ports": [{"containerPort": 9100, "hostPort": 9100}]},
        {"name": "other", "image": "y", "ports": [
            {"containerPort": 9100, "hostPort": 9100}, {"containerPort": 9300, "hostPort": 9300}]}]});
    let exemption = json!({"checks": ["hostPorts"], "containers": ["exporter"],
        "values": {"hostPorts": ["9100"]}});
    assert_eq!(
        rejection(spec.clone(), baseline_with(exemption)).unwrap(),
        "violates PodSecurity \"baseline:latest\": hostPort (container \"other\" uses hostPorts 9100, 9300)"
    );
    assert_eq!(
        rejection(spec, json!({"level": "baseline"})).unwrap(),
        "violates PodSecurity \"baseline:latest\": hostPort (containers \"exporter\", \"other\" use hostPorts 9100, 9300)"
    );
}

#[test]
fn profile_types_are_accepted_in_the_selected_containers_only() {
    let spec = json!({"containers": [
        {"name": "a", "image": "x", "securityContext": {"seccompProfile": {"type": "Unconfined"},
            "appArmorProfile": {"type": "Unconfined"}, "seLinuxOptions": {"type": "spc_t"},
            "procMount": "Unmasked"}},
        {"name": "b", "image": "y", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]});
    let exemption = json!({"checks": ["seccompProfile_baseline", "appArmorProfile", "seLinuxOptions", "procMount"],
        "containers": ["a"],
        "values": {"seccompProfile.type": ["Unconfined"], "appArmorProfile.type": ["Unconfined"],
                   "seLinuxOptions.type": ["spc_t"], "procMount": ["Unmasked"]}});
    let settings = json!({"level": "baseline", "version": "v1.34", "exemptions": [exemption]});
    assert_eq!(
        rejection(spec.clone(), settings).unwrap(),
        "violates PodSecurity \"baseline:v1.34\": seccompProfile (container \"b\" must not set securityContext.seccompProfile.type to \"Unconfined\")"
    );
    // Without the exemption, all four of a's values count.
    let message = rejection(spec, json!({"level": "baseline", "version": "v1.34"})).unwrap();
    for reason in [
        "AppArmor profile",
        "seLinuxOptions",
        "procMount",
        "containers \"a\", \"b\"",
    ] {
        assert!(message.contains(reason), "{reason}: {message}");
    }
}

#[test]
fn a_pod_level_value_needs_an_exemption_for_the_whole_workload() {
    let spec = json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}},
        "containers": [{"name": "a", "image": "x"}]});
    // For container a, the pod's own value is still the pod's.
    let for_a = json!({"checks": ["seccompProfile_baseline"], "containers": ["a"],
        "values": {"seccompProfile.type": ["Unconfined"]}});
    assert!(rejection(spec.clone(), baseline_with(for_a))
        .unwrap()
        .contains("pod must not set securityContext.seccompProfile.type to \"Unconfined\""));
    let whole = json!({"checks": ["seccompProfile_baseline"],
        "values": {"seccompProfile.type": ["Unconfined"]}});
    assert_eq!(rejection(spec, baseline_with(whole)), None);
}

#[test]
fn sysctls_host_paths_and_volume_types_of_the_pod() {
    let spec = json!({
        "securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}, {"name": "kernel.sem", "value": "1"}]},
        "volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}},
                    {"name": "docker", "hostPath": {"path": "/var/lib/docker"}}],
        "containers": [{"name": "a", "image": "x"}]});
    let settings = json!({"level": "baseline", "exemptions": [
        {"checks": ["sysctls"], "values": {"sysctls": ["kernel.msgmax"]}},
        {"checks": ["hostPathVolumes"], "values": {"hostPath.path": ["/var/log"]}}]});
    let message = rejection(spec, settings).unwrap();
    assert_eq!(
        message,
        "violates PodSecurity \"baseline:latest\": hostPath volumes (volume \"docker\"), forbidden sysctls (kernel.sem)"
    );
    // Volume types, at restricted.
    let spec = json!({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumes": [{"name": "shared", "nfs": {"server": "nfs", "path": "/"}},
                    {"name": "disk", "gcePersistentDisk": {"pdName": "d"}}],
        "containers": [{"name": "a", "image": "x", "securityContext": {
            "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]});
    let settings = json!({"level": "restricted", "exemptions": [
        {"checks": ["restrictedVolumes"], "values": {"volumeTypes": ["nfs"]}}]});
    assert_eq!(
        rejection(spec, settings).unwrap(),
        "violates PodSecurity \"restricted:latest\": restricted volume types (volume \"disk\" uses restricted volume type \"gcePersistentDisk\")"
    );
}

#[test]
fn settings_that_cannot_work_are_refused() {
    for (values, selects, error) in [
        (
            json!({"capabilities.drop": ["ALL"]}),
            json!({}),
            "exemptions[0].values: unknown field \"capabilities.drop\"",
        ),
        (
            json!({"capabilities.add": []}),
            json!({}),
            "exemptions[0].values.capabilities.add is empty",
        ),
        (
            json!({"hostPorts": [""]}),
            json!({}),
            "exemptions[0].values.hostPorts has an empty value",
        ),
        (
            json!({"sysctls": ["kernel.msgmax"]}),
            json!({"containers": ["a"]}),
            "exemptions[0].values.sysctls: the pod sets sysctls, not a container",
        ),
        (
            json!({"seccompProfile.type": ["Unconfined"]}),
            json!({"checks": ["seccompConstraint"]}),
            "exemptions[0].values: \"seccompConstraint\" is a constraint",
        ),
    ] {
        let mut exemption = json!({"checks": ["sysctls"], "values": values});
        for (k, v) in selects.as_object().unwrap() {
            exemption[k] = v.clone();
        }
        let settings = json!({"exemptions": [exemption]});
        let error_message =
            security_context_policy::settings::Settings::from_json(settings.to_string().as_bytes())
                .unwrap_err();
        assert!(error_message.contains(error), "{error_message}");
    }
}

#[test]
fn container_kinds_narrow_what_an_exemption_selects() {
    let spec = json!({
        "initContainers": [{"name": "setup", "image": "tools", "securityContext": {"privileged": true}}],
        "containers": [{"name": "app", "image": "tools", "securityContext": {"privileged": true}}]});
    // By kind alone: the init container only.
    let init_only = json!({"checks": ["privileged"], "containerKinds": ["initContainers"]});
    assert_eq!(
        rejection(spec.clone(), baseline_with(init_only)).unwrap(),
        "violates PodSecurity \"baseline:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"
    );
    // By image and kind: the same image in a regular container is not selected.
    let image_and_kind = json!({"checks": ["privileged"], "images": ["tools"],
        "containerKinds": ["containers"]});
    assert_eq!(
        rejection(spec.clone(), baseline_with(image_and_kind)).unwrap(),
        "violates PodSecurity \"baseline:latest\": privileged (container \"setup\" must not set securityContext.privileged=true)"
    );
    // A pod-level check is not exempted by an exemption that selects containers by kind.
    let mut host = spec.clone();
    host["hostNetwork"] = json!(true);
    let kinds = json!({"checks": ["privileged", "hostNamespaces"],
        "containerKinds": ["containers", "initContainers"]});
    assert_eq!(
        rejection(host, baseline_with(kinds)).unwrap(),
        "violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)"
    );
    // An unknown kind is refused.
    let error = security_context_policy::settings::Settings::from_json(
        br#"{"exemptions": [{"checks": ["privileged"], "containerKinds": ["sidecars"]}]}"#,
    )
    .unwrap_err();
    assert!(
        error.contains("exemptions[0].containerKinds: unknown kind \"sidecars\""),
        "{error}"
    );
}

#[test]
fn a_container_value_that_overrides_the_pod_s_is_judged_as_the_container_s() {
    // The pod's RuntimeDefault is fine; the container overrides it with Unconfined.
    let spec = json!({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {"name": "a", "image": "x", "securityContext": {"seccompProfile": {"type": "Unconfined"}}},
            {"name": "b", "image": "y", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]});
    let for_a = json!({"checks": ["seccompProfile_baseline"], "containers": ["a"],
        "values": {"seccompProfile.type": ["Unconfined"]}});
    assert_eq!(
        rejection(spec.clone(), baseline_with(for_a)).unwrap(),
        "violates PodSecurity \"baseline:latest\": seccompProfile (container \"b\" must not set securityContext.seccompProfile.type to \"Unconfined\")"
    );
    // At restricted, the exempted container still runs with a profile the level accepts.
    let mut restricted = spec;
    restricted["securityContext"]["runAsNonRoot"] = json!(true);
    for c in restricted["containers"].as_array_mut().unwrap() {
        c["securityContext"]["allowPrivilegeEscalation"] = json!(false);
        c["securityContext"]["capabilities"] = json!({"drop": ["ALL"]});
    }
    let settings = json!({"level": "restricted", "exemptions": [{"checks": ["seccompProfile_restricted"],
        "containers": ["a"], "values": {"seccompProfile.type": ["Unconfined"]}}]});
    assert_eq!(
        rejection(restricted, settings).unwrap(),
        "violates PodSecurity \"restricted:latest\": seccompProfile (container \"b\" must not set securityContext.seccompProfile.type to \"Unconfined\")"
    );
}
