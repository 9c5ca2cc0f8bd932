//! Kubewarden's audit scanner: every existing resource sent as a CREATE without `userInfo`,
//! `oldObject` or `dryRun`, with `resource.resource` set to the Kind. Such a request is decided
//! exactly like the admission request for the same object, except that exemptions by user or
//! group cannot apply to it, which the rejection then says.
//!
//! `test_data/audit_scanner/` holds one such request per kind, made from an admission request
//! of `test_data/` by `scanner_request` below (`UPDATE_AUDIT_SCANNER_REQUESTS=1` rewrites them).

mod support;

use security_context_policy::admission::validate_with;
use security_context_policy::context::NoContext;
use security_context_policy::workload::WorkloadKind;
use serde_json::{json, Value};
use support::{outcome_json, validation_payload, ReplayContext, ScriptedContext};

/// The admission request each committed scanner request is made from; one per kind.
const SCANNED: &[(&str, &str)] = &[
    ("Pod", "pod_node_exporter_by_controller.json"),
    ("Deployment", "deployment_restricted_violations.json"),
    ("ReplicaSet", "replicaset_added_capability.json"),
    ("StatefulSet", "statefulset_restricted_compliant.json"),
    ("DaemonSet", "daemonset_monitoring_node_exporter.json"),
    ("Job", "job_run_as_root.json"),
    ("CronJob", "cronjob_unconfined_seccomp.json"),
    (
        "ReplicationController",
        "replicationcontroller_unsafe_sysctl.json",
    ),
    ("PodTemplate", "podtemplate_unmasked_procmount.json"),
    ("Namespace", "namespace_invalid_labels.json"),
];

/// The request the audit scanner sends for the object an admission request created, as the
/// object is stored (with its namespace and uid): its group, version and kind read from the
/// object, `resource.resource` the Kind, operation CREATE, `userInfo` empty, `oldObject` and
/// `options` null, no `dryRun`, `subResource` or `requestResource`.
fn scanner_request(admission: &Value) -> Value {
    let mut object = admission["object"].clone();
    let kind = object["kind"].as_str().unwrap().to_string();
    let (group, version) = match object["apiVersion"].as_str().unwrap().split_once('/') {
        Some((group, version)) => (group.to_string(), version.to_string()),
        None => (
            String::new(),
            object["apiVersion"].as_str().unwrap().to_string(),
        ),
    };
    let metadata = object["metadata"].as_object_mut().unwrap();
    if kind != "Namespace" {
        metadata
            .entry("namespace")
            .or_insert_with(|| admission["namespace"].clone());
    }
    metadata
        .entry("uid")
        .or_insert_with(|| admission["uid"].clone());
    let name = metadata["name"].clone();
    let namespace = metadata.get("namespace").cloned();
    let uid = metadata["uid"].clone();
    let gvk = json!({"group": group, "version": version, "kind": kind});
    let mut request = json!({
        "uid": uid,
        "kind": gvk,
        "resource": {"group": group, "version": version, "resource": kind},
        "requestKind": gvk,
        "name": name,
        "operation": "CREATE",
        "userInfo": {},
        "object": object,
        "oldObject": null,
        "options": null,
    });
    if let Some(namespace) = namespace {
        request["namespace"] = namespace;
    }
    request
}

fn scanner_file(kind: &str) -> std::path::PathBuf {
    support::test_data_dir()
        .join("audit_scanner")
        .join(format!("{}.json", kind.to_lowercase()))
}

#[test]
fn every_kind_has_a_request_in_the_scanner_s_shape() {
    let update = std::env::var_os("UPDATE_AUDIT_SCANNER_REQUESTS").is_some();
    for (kind, source) in SCANNED {
        let expected = scanner_request(&support::request_file(source));
        let path = scanner_file(kind);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let text = serde_json::to_string_pretty(&expected).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
        }
        let committed: Value = serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (UPDATE_AUDIT_SCANNER_REQUESTS=1 writes it)",
                path.display()
            )
        }))
        .unwrap();
        assert_eq!(committed, expected, "{}", path.display());
        // What the scanner leaves out.
        let request = committed.as_object().unwrap();
        for absent in ["dryRun", "subResource", "requestResource"] {
            assert!(!request.contains_key(absent), "{kind}: {absent}");
        }
        assert_eq!(committed["userInfo"], json!({}), "{kind}");
        assert_eq!(committed["resource"]["resource"], *kind);
    }
    // Every kind the policy judges, and Namespaces (namespaceLabels).
    let kinds: Vec<&str> = SCANNED.iter().map(|(k, _)| *k).collect();
    for kind in WorkloadKind::all()
        .map(WorkloadKind::name)
        .chain(["Namespace"])
    {
        assert!(kinds.contains(&kind), "{kind}");
    }
}

/// What must be equal between the admission and the scanner decision: all but the mutated
/// object's metadata, which the stored object has more of.
fn comparable(mut answer: Value) -> Value {
    if let Some(mutated) = answer.get_mut("mutated_object").filter(|m| m.is_object()) {
        mutated.as_object_mut().unwrap().remove("metadata");
    }
    answer
}

/// Whether settings hold something that looks at who makes the request: exemptions by user
/// or group, or profiles (granted to the user first).
fn asks_who(settings: &Value) -> bool {
    let text = settings.to_string();
    text.contains("\"usernames\"") || text.contains("\"groups\"") || text.contains("\"profiles\"")
}

#[test]
fn scanner_requests_are_decided_like_the_admission_request() {
    let mut compared = 0;
    for case in support::load_cases() {
        let creates = case.request["operation"] == "CREATE";
        if !creates || asks_who(&case.settings) {
            continue;
        }
        let scanned = scanner_request(&case.request);
        let decide = |request: &Value| {
            let payload = validation_payload(request, &case.settings);
            comparable(outcome_json(&match &case.session {
                Some(session) => validate_with(&payload, &ReplayContext::from_file(session)),
                None => validate_with(&payload, &NoContext),
            }))
        };
        assert_eq!(decide(&scanned), decide(&case.request), "{}", case.name);
        compared += 1;
    }
    assert!(compared >= 40, "only {compared} cases compared");
}

#[test]
fn the_committed_scanner_requests_decide_like_their_admission_requests_in_policy_wasm() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    for (kind, source) in SCANNED {
        let scanned: Value =
            serde_json::from_slice(&std::fs::read(scanner_file(kind)).unwrap()).unwrap();
        let settings = if *kind == "Namespace" {
            json!({"namespaceLabels": true})
        } else {
            json!({"level": "baseline"})
        };
        let admission = support::request_file(source);
        let native = comparable(outcome_json(&validate_with(
            &validation_payload(&admission, &settings),
            &NoContext,
        )));
        let wasm = comparable(support::wasm_validate(
            &policy,
            &validation_payload(&scanned, &settings),
        ));
        assert_eq!(wasm["accepted"], native["accepted"], "{kind}: {wasm}");
        assert_eq!(wasm["message"], native["message"], "{kind}: {wasm}");
    }
}

const NODE_EXPORTER_CHECKS: [&str; 3] = ["hostNamespaces", "hostPathVolumes", "hostPorts"];

fn decide(request: &Value, settings: &Value) -> Value {
    outcome_json(&validate_with(
        &validation_payload(request, settings),
        &NoContext,
    ))
}

#[test]
fn an_exemption_by_user_cannot_admit_a_request_without_a_user_and_the_message_says_so() {
    let admission = support::request_file("pod_node_exporter_by_controller.json");
    let settings = json!({"level": "baseline", "exemptions": [
        {"checks": ["privileged"]},
        {"checks": NODE_EXPORTER_CHECKS, "namespaces": ["monitoring"],
         "usernames": ["system:serviceaccount:kube-system:daemon-set-controller"]}]});
    assert_eq!(decide(&admission, &settings)["accepted"], true);
    let scanned = decide(&scanner_request(&admission), &settings);
    assert_eq!(scanned["accepted"], false, "{scanned}");
    let message = scanned["message"].as_str().unwrap();
    // The violations, as for any rejection, then why the exemption did not apply.
    assert!(
        message.starts_with("violates PodSecurity \"baseline:latest\": host namespaces"),
        "{message}"
    );
    assert!(
        message.ends_with("; the request names no user (userInfo), as the audit scanner's requests for existing resources do, so exemptions by user or group cannot apply to it: exemptions[1] (usernames: [\"system:serviceaccount:kube-system:daemon-set-controller\"]) would admit it for a matching user"),
        "{message}"
    );
}

#[test]
fn an_exemption_by_group_likewise() {
    let admission = support::request_file("pod_privileged.json");
    let settings = json!({"level": "baseline", "exemptions": [
        {"checks": ["privileged"], "groups": ["system:masters"]}]});
    assert_eq!(decide(&admission, &settings)["accepted"], true);
    let scanned = decide(&scanner_request(&admission), &settings);
    assert_eq!(scanned["accepted"], false, "{scanned}");
    assert!(scanned["message"]
        .as_str()
        .unwrap()
        .contains("exemptions[0] (groups: [\"system:masters\"]) would admit it"));
}

#[test]
fn no_note_when_exemptions_by_user_would_not_admit_it_either() {
    let admission = support::request_file("pod_node_exporter_by_controller.json");
    // The exemption covers the host namespaces only; the hostPath volume still rejects.
    let settings = json!({"level": "baseline", "exemptions": [
        {"checks": ["hostNamespaces", "hostPorts"],
         "usernames": ["system:serviceaccount:kube-system:daemon-set-controller"]}]});
    let scanned = decide(&scanner_request(&admission), &settings);
    assert_eq!(scanned["accepted"], false);
    let message = scanned["message"].as_str().unwrap();
    assert!(message.contains("hostPath volumes"), "{message}");
    assert!(!message.contains("names no user"), "{message}");
    // Nor when the request has a user: the admission request is rejected without the note.
    let admitted = decide(&admission, &settings);
    assert_eq!(admitted["accepted"], false);
    assert!(!admitted["message"]
        .as_str()
        .unwrap()
        .contains("names no user"));
}

#[test]
fn exemptions_by_namespace_and_service_account_apply_to_scanner_requests() {
    let admission = support::request_file("daemonset_monitoring_node_exporter.json");
    let settings = json!({"level": "baseline", "exemptions": [
        {"checks": NODE_EXPORTER_CHECKS, "namespaces": ["monitoring"],
         "serviceAccounts": ["monitoring/node-exporter"]}]});
    let scanned = decide(&scanner_request(&admission), &settings);
    assert_eq!(scanned["accepted"], true, "{scanned}");
}

#[test]
fn a_profile_is_asked_for_the_pod_s_service_account_only() {
    let admission = support::request_file("pod_node_exporter_by_controller.json");
    let settings = json!({"level": "baseline", "profiles": [
        {"name": "node-agents", "level": "baseline", "exemptions": [{"checks": NODE_EXPORTER_CHECKS}]}]});
    let context = ScriptedContext {
        can_i: Some(Ok(true)),
        ..Default::default()
    };
    let scanned = outcome_json(&validate_with(
        &validation_payload(&scanner_request(&admission), &settings),
        &context,
    ));
    // No user to ask about: one SubjectAccessReview, for the service account.
    assert_eq!(context.asked(), 1);
    assert_eq!(scanned["accepted"], true, "{scanned}");
    assert!(scanned["warnings"][0]
        .as_str()
        .unwrap()
        .contains("granted to service account \"monitoring/node-exporter\""));
}
