//! Context-aware decisions through policy.wasm, its host calls answered by kwctl replay
//! sessions from test_data/sessions/ (the runner's `--allow-context-aware
//! --replay-host-capabilities-interactions`), so the waPC implementation of `ClusterContext`
//! (src/host.rs) is what is tested: the host calls it makes, their payloads, and how it reads
//! the answers.

mod support;

use policy_runner::{HostCapabilities, Policy, ReplaySession};
use serde_json::{json, Value};

fn request(file: &str) -> Value {
    support::request_file(file)
}

fn session(file: &str) -> ReplaySession {
    ReplaySession::from_file(support::test_data_dir().join("sessions").join(file)).unwrap()
}

/// `validate` with a session; the answer and how many host calls were answered from it.
fn validate(
    policy: &Policy,
    file: &str,
    settings: Value,
    replay: ReplaySession,
    allow_context_aware: bool,
) -> (Value, usize) {
    policy.set_host_capabilities(HostCapabilities {
        allow_context_aware,
        replay: Some(replay),
        ..Default::default()
    });
    let answer = support::wasm_validate(
        policy,
        &support::validation_payload(&request(file), &settings),
    );
    let replayed = policy
        .host_capabilities()
        .replay
        .as_ref()
        .map_or(0, |s| s.replayed());
    (answer, replayed)
}

#[test]
fn the_plain_path_makes_no_host_call() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    for (file, settings) in [
        ("pod_privileged.json", json!({"level": "privileged"})),
        ("pod_restricted_compliant.json", json!({})),
        (
            "pod_privileged.json",
            json!({"audit": {"level": "baseline"}}),
        ),
        ("namespace_enforce_tightened.json", json!({})),
    ] {
        let (answer, replayed) = validate(&policy, file, settings, session("empty.yml"), true);
        assert_eq!(replayed, 0, "{file}: {answer}");
    }
}

#[test]
fn namespace_labels_are_read_through_get_resource() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    let (answer, replayed) = validate(
        &policy,
        "pod_privileged.json",
        json!({"namespaceLabels": true, "level": "privileged"}),
        session("namespace_default_baseline.yml"),
        true,
    );
    assert_eq!(replayed, 1);
    assert_eq!(answer["accepted"], false, "{answer}");
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .starts_with("violates PodSecurity \"baseline:latest\": privileged"));

    let (answer, _) = validate(
        &policy,
        "pod_privileged.json",
        json!({"namespaceLabels": true}),
        session("namespace_default_privileged_warn_baseline.yml"),
        true,
    );
    assert_eq!(answer["accepted"], true, "{answer}");
    assert!(answer["warnings"][0]
        .as_str()
        .unwrap()
        .starts_with("would violate PodSecurity \"baseline:latest\": privileged"));
    assert!(answer["audit_annotations"]["audit-violations"]
        .as_str()
        .unwrap()
        .starts_with("would violate PodSecurity \"baseline:v1.30\": privileged"));

    let (answer, _) = validate(
        &policy,
        "pod_privileged.json",
        json!({"namespaceLabels": true, "level": "privileged"}),
        session("namespace_default_invalid_enforce.yml"),
        true,
    );
    assert_eq!(answer["accepted"], false, "{answer}");
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("\"restricted:latest\""));
    assert!(answer["audit_annotations"]["error"]
        .as_str()
        .unwrap()
        .starts_with(
            "Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce]"
        ));

    let (answer, _) = validate(
        &policy,
        "pod_privileged.json",
        json!({"namespaceLabels": true, "level": "baseline", "version": "v1.28"}),
        session("namespace_default_unlabelled.yml"),
        true,
    );
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("\"baseline:v1.28\""));
}

#[test]
fn every_host_failure_rejects_naming_it() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    // An answer that is not JSON: kwctl never records one (it answers with the objects the API
    // server returns), so this session is written here, in kwctl's layout.
    let not_json = support::session(&[(
        support::get_namespace_request("default"),
        Ok("<html>502 Bad Gateway</html>".into()),
    )]);
    for (file, allow, reason) in [
        (
            "namespace_default_forbidden.yml",
            true,
            "kubernetes/get_resource failed: namespaces \"default\" is forbidden: User \"system:serviceaccount:kubewarden:policy-server-default\" cannot get resource \"namespaces\" in API group \"\" at the cluster scope (403 Forbidden)",
        ),
        (
            "(not JSON)",
            true,
            "kubernetes/get_resource answered what cannot be read: ",
        ),
        (
            "namespace_team_b_other.yml",
            true,
            "kubernetes/get_resource failed: Replay error: unexpected request",
        ),
        (
            "empty.yml",
            true,
            "kubernetes/get_resource failed: the list of recorded responses is empty",
        ),
        (
            "namespace_default_unlabelled.yml",
            false,
            "the host refuses to read Kubernetes v1/Namespace resources for this policy: list them in the policy's contextAwareResources",
        ),
    ] {
        let replay = match file {
            "(not JSON)" => not_json.clone(),
            file => session(file),
        };
        let (answer, _) = validate(
            &policy,
            "pod_restricted_compliant.json",
            json!({"namespaceLabels": true}),
            replay,
            allow,
        );
        assert_eq!(answer["accepted"], false, "{file}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.starts_with("PodSecurity \"restricted:latest\" cannot evaluate this Pod: cannot read namespace \"default\": "),
            "{file}: {message}"
        );
        // One line, without the host's wrappers or kube-rs' Status dump.
        for noise in ["\n", "Host error", "Callback evaluation failure", "Status {", "backtrace"] {
            assert!(!message.contains(noise), "{file}: {message}");
        }
        assert!(message.contains(reason), "{file}: {message}");
    }
}

#[test]
fn namespace_updates_list_the_pods_through_the_host() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    let (answer, replayed) = validate(
        &policy,
        "namespace_enforce_tightened.json",
        json!({"namespaceLabels": true}),
        session("pods_in_team_a.yml"),
        true,
    );
    assert_eq!(replayed, 1);
    assert_eq!(
        answer["warnings"],
        json!([
            "existing pods in namespace \"team-a\" violate the new PodSecurity enforce level \"baseline:latest\"",
            "debug-shell: host namespaces, privileged",
            "node-agent-ab12 (and 1 other pod): privileged",
        ]),
        "{answer}"
    );
    // A list that fails: kwctl's cache retries it until it succeeds, so no session records
    // the failure; this one is written here, in kwctl's layout.
    let timeout = support::session(&[(
        support::list_pods_request("team-a"),
        Err("the server was unable to return a response in the time allotted".into()),
    )]);
    let (answer, _) = validate(
        &policy,
        "namespace_enforce_tightened.json",
        json!({"namespaceLabels": true}),
        timeout,
        true,
    );
    assert_eq!(answer["accepted"], false, "{answer}");
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("cannot read the pods of namespace \"team-a\": kubernetes/list_resources_by_namespace failed: the server was unable"));
}
