//! Exemptions by who asks and where the pod runs (usernames, groups, namespaces, runtime
//! classes, service accounts), natively, on whole AdmissionRequests.

mod support;

use security_context_policy::admission::{validate, Decision};
use serde_json::{json, Value};
use support::{request, validation_payload};

/// A baseline-violating pod (privileged, host network) in `team-a`, requested by alice (group
/// `dev`), with runtime class `gvisor` and service account `builder`.
fn privileged_request() -> Value {
    let mut r = request(
        "",
        "v1",
        "Pod",
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "team-a"},
            "spec": {
                "hostNetwork": true,
                "runtimeClassName": "gvisor",
                "serviceAccountName": "builder",
                "containers": [{"name": "app", "image": "registry.example.com/app:1",
                                "securityContext": {"privileged": true}}]
            }
        }),
    );
    r["namespace"] = json!("team-a");
    r["userInfo"] = json!({"username": "alice", "groups": ["dev", "system:authenticated"]});
    r
}

fn decide(request: &Value, exemption: Value) -> Decision {
    let settings = json!({"level": "baseline", "exemptions": [exemption]});
    validate(&validation_payload(request, &settings))
}

fn rejection(decision: Decision) -> String {
    match decision {
        Decision::Reject { message, .. } => message,
        Decision::Accept { .. } => panic!("expected a rejection"),
    }
}

const BOTH: [&str; 2] = ["privileged", "hostNamespaces"];

#[test]
fn each_selector_exempts_what_it_matches_and_nothing_else() {
    let cases = [
        ("usernames", json!(["alice"]), json!(["bob"])),
        ("groups", json!(["dev"]), json!(["ops"])),
        ("namespaces", json!(["team-*"]), json!(["kube-system"])),
        ("runtimeClasses", json!(["gvisor"]), json!(["kata"])),
        (
            "serviceAccounts",
            json!(["team-a/builder"]),
            json!(["team-a/default"]),
        ),
    ];
    let request = privileged_request();
    for (selector, matching, other) in cases {
        let exemption = json!({"checks": BOTH, selector: matching});
        assert_eq!(
            decide(&request, exemption),
            Decision::accept(),
            "{selector}: {matching}"
        );
        let exemption = json!({"checks": BOTH, selector: other});
        let message = rejection(decide(&request, exemption));
        assert!(
            message.contains("privileged (container \"app\""),
            "{selector}: {message}"
        );
        assert!(message.contains("host namespaces"), "{selector}: {message}");
    }
}

#[test]
fn every_selector_named_must_match() {
    let request = privileged_request();
    let all_match = json!({"checks": BOTH, "usernames": ["alice"], "namespaces": ["team-a"],
                           "serviceAccounts": ["team-a/*"]});
    assert_eq!(decide(&request, all_match), Decision::accept());
    let one_misses = json!({"checks": BOTH, "usernames": ["alice"], "namespaces": ["team-b"]});
    assert!(matches!(
        decide(&request, one_misses),
        Decision::Reject { .. }
    ));
}

#[test]
fn only_the_named_checks_are_exempt() {
    let request = privileged_request();
    let message = rejection(decide(
        &request,
        json!({"checks": ["privileged"], "usernames": ["alice"]}),
    ));
    assert!(!message.contains("privileged"), "{message}");
    assert!(
        message.contains("host namespaces (hostNetwork=true)"),
        "{message}"
    );
}

#[test]
fn who_and_where_combine_with_images_and_containers() {
    let mut request = privileged_request();
    request["object"]["spec"]["hostNetwork"] = json!(false);
    request["object"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"name": "sidecar", "image": "other.example.com/side:1",
                     "securityContext": {"privileged": true}}),
        );
    // The namespace selects the request, the image the containers within it.
    let exemption = json!({"checks": ["privileged"], "namespaces": ["team-a"],
                           "images": ["registry.example.com/*"]});
    let message = rejection(decide(&request, exemption.clone()));
    assert!(message.contains("container \"sidecar\""), "{message}");
    assert!(!message.contains("\"app\""), "{message}");
    // In another namespace the exemption does not apply at all.
    request["namespace"] = json!("team-b");
    let message = rejection(decide(&request, exemption));
    assert!(
        message.contains("containers \"app\", \"sidecar\""),
        "{message}"
    );
}

#[test]
fn the_service_account_is_the_deprecated_field_or_default() {
    let mut request = privileged_request();
    let spec = request["object"]["spec"].as_object_mut().unwrap();
    spec.remove("serviceAccountName");
    spec.insert("serviceAccount".into(), json!("legacy"));
    let exempt = |sa: &str| json!({"checks": BOTH, "serviceAccounts": [sa]});
    assert_eq!(
        decide(&request, exempt("team-a/legacy")),
        Decision::accept()
    );
    request["object"]["spec"]
        .as_object_mut()
        .unwrap()
        .remove("serviceAccount");
    assert_eq!(
        decide(&request, exempt("team-a/default")),
        Decision::accept()
    );
    assert!(matches!(
        decide(&request, exempt("team-a/legacy")),
        Decision::Reject { .. }
    ));
}

#[test]
fn a_controller_template_is_selected_by_its_namespace_and_service_account() {
    let pod = privileged_request()["object"].clone();
    let mut r = support::deployment_request(&pod);
    r["namespace"] = json!("monitoring");
    let exemption = json!({"checks": BOTH, "serviceAccounts": ["monitoring/builder"]});
    assert_eq!(decide(&r, exemption), Decision::accept());
    // Without a request namespace, the object's own namespace is the pod's.
    r["namespace"] = json!("");
    r["object"]["metadata"]["namespace"] = json!("monitoring");
    let exemption = json!({"checks": BOTH, "namespaces": ["monitoring"]});
    assert_eq!(decide(&r, exemption), Decision::accept());
}

#[test]
fn mutation_leaves_out_what_a_selected_exemption_exempts() {
    // restricted with mutation: runAsNonRoot would be set, unless exempted for this request.
    let mut r = request(
        "",
        "v1",
        "Pod",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"containers": [{"name": "app", "image": "i"}]}}),
    );
    r["userInfo"] = json!({"username": "alice"});
    let settings = |user: &str| {
        json!({"level": "restricted", "mutate": true,
               "exemptions": [{"checks": ["runAsNonRoot"], "usernames": [user]}]})
    };
    let Decision::Accept {
        mutated: Some(mutated),
        ..
    } = validate(&validation_payload(&r, &settings("bob")))
    else {
        panic!("expected a mutation");
    };
    assert_eq!(mutated["spec"]["securityContext"]["runAsNonRoot"], true);
    let Decision::Accept {
        mutated: Some(mutated),
        ..
    } = validate(&validation_payload(&r, &settings("alice")))
    else {
        panic!("expected a mutation");
    };
    assert!(mutated["spec"]["securityContext"]
        .get("runAsNonRoot")
        .is_none());
}

#[test]
fn existing_pods_a_tightened_namespace_would_reject_are_judged_with_their_exemptions() {
    let context = support::ReplayContext::from_file(
        &support::test_data_dir().join("sessions/pods_in_team_a.yml"),
    );
    let request: Value = serde_json::from_slice(
        &std::fs::read(support::test_data_dir().join("namespace_enforce_tightened.json")).unwrap(),
    )
    .unwrap();
    // The existing pods run as team-a's default service account.
    let settings = json!({"namespaceLabels": true, "exemptions": [
        {"checks": ["privileged"], "serviceAccounts": ["team-a/default"]}]});
    let outcome = security_context_policy::admission::validate_with(
        &validation_payload(&request, &settings),
        &context,
    );
    let Decision::Accept { warnings, .. } = outcome.decision else {
        panic!("expected an acceptance");
    };
    assert_eq!(
        warnings,
        [
            "existing pods in namespace \"team-a\" violate the new PodSecurity enforce level \"baseline:latest\"",
            "debug-shell: host namespaces",
        ]
    );
}
