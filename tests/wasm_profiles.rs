//! RBAC-granted profiles through policy.wasm, with the host's answers replayed from the session
//! files the e2e tests give kwctl: who is asked about, in which order, and that nothing is asked
//! on the accepted path.

mod support;

use policy_runner::{HostCapabilities, Policy, ReplaySession};
use serde_json::{json, Value};

fn sessions_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/sessions")
}

fn request(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(file);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// baseline, and one profile that exempts a node agent's host access.
fn settings() -> Value {
    json!({
        "level": "baseline",
        "profiles": [{
            "name": "node-agents", "level": "baseline",
            "exemptions": [{"checks": ["hostNamespaces", "hostPathVolumes", "hostPorts"]}]
        }]
    })
}

/// The AdmissionResponse for `request` with the host answering from `session`, and how many
/// of the session's exchanges were used, out of how many.
fn evaluate(
    policy: &Policy,
    request: &Value,
    settings: &Value,
    session: &str,
) -> (Value, usize, usize) {
    let replay = ReplaySession::from_file(sessions_dir().join(session)).unwrap();
    policy.set_host_capabilities(HostCapabilities {
        allow_context_aware: true,
        replay: Some(replay),
        ..Default::default()
    });
    let response = serde_json::to_value(policy.evaluate(request, settings)).unwrap();
    let capabilities = policy.host_capabilities();
    let session = capabilities.replay.as_ref().unwrap();
    (response, session.replayed(), session.len())
}

#[test]
fn nothing_is_asked_when_the_base_settings_accept() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    let compliant = request("pod_restricted_compliant.json");
    let (response, used, _) = evaluate(&policy, &compliant, &settings(), "empty.yml");
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(used, 0);
    assert!(
        response.get("warnings").is_none_or(Value::is_null),
        "{response}"
    );
}

#[test]
fn a_pod_whose_service_account_is_granted_is_admitted_though_a_controller_asks() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    let pod = request("pod_node_exporter_by_controller.json");
    let (response, used, len) = evaluate(
        &policy,
        &pod,
        &settings(),
        "profile_granted_to_pod_service_account.yml",
    );
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!((used, len), (2, 2));
    let warning = response["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("admitted by profile \"node-agents\", granted to service account \"monitoring/node-exporter\"; the base settings reject it: violates PodSecurity \"baseline:latest\": host namespaces"),
        "{warning}"
    );
    assert_eq!(
        response["auditAnnotations"]["admitted-by-profile"], "node-agents",
        "{response}"
    );
}

#[test]
fn a_user_granted_the_profile_gets_the_daemonset_admitted() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    let daemonset = request("daemonset_monitoring_node_exporter.json");
    let (response, used, len) = evaluate(
        &policy,
        &daemonset,
        &settings(),
        "profile_granted_to_user.yml",
    );
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!((used, len), (1, 1));
    assert!(response["warnings"][0]
        .as_str()
        .unwrap()
        .starts_with("admitted by profile \"node-agents\", granted to user \"alice\""));
}

#[test]
fn without_a_grant_the_rejection_says_no_profile_is_granted() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    let pod = request("pod_node_exporter_by_controller.json");
    let (response, used, len) = evaluate(&policy, &pod, &settings(), "profile_not_granted.yml");
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!((used, len), (2, 2));
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.ends_with("; no profile is granted to user \"system:serviceaccount:kube-system:daemon-set-controller\" or service account \"monitoring/node-exporter\" (profiles: \"node-agents\")"),
        "{message}"
    );
    assert!(response.get("auditAnnotations").is_none_or(Value::is_null));
}

#[test]
fn a_failed_access_review_rejects_naming_it() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    let pod = request("pod_node_exporter_by_controller.json");
    let (response, used, _) = evaluate(&policy, &pod, &settings(), "profile_can_i_timeout.yml");
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(used, 1);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("; cannot tell whether profile \"node-agents\" is granted: cannot read whether \"system:serviceaccount:kube-system:daemon-set-controller\" may use profiles \"node-agents\": "),
        "{message}"
    );
    assert!(
        message.contains("the server was unable to return a response in the time allotted"),
        "{message}"
    );
}

#[test]
fn an_access_review_the_authorizer_could_not_decide_rejects_naming_why() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    // The API server answers, but with an evaluationError: not a grant, and not a refusal
    // either, so the service account is not asked about.
    let pod = request("pod_node_exporter_by_controller.json");
    let (response, used, len) = evaluate(
        &policy,
        &pod,
        &settings(),
        "profile_can_i_evaluation_error.yml",
    );
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!((used, len), (1, 1));
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.ends_with("; cannot tell whether profile \"node-agents\" is granted: cannot read whether \"system:serviceaccount:kube-system:daemon-set-controller\" may use profiles \"node-agents\": Post \"https://authz-webhook.kube-system.svc:443/authorize\": context deadline exceeded"),
        "{message}"
    );
}

#[test]
fn a_granted_profile_that_still_rejects_says_why() {
    let Some(policy) = support::load_policy() else {
        return;
    };
    // The profile exempts host access but not privileged containers.
    let mut pod = request("pod_node_exporter_by_controller.json");
    pod["object"]["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    let (response, _, _) = evaluate(
        &policy,
        &pod,
        &settings(),
        "profile_granted_to_pod_service_account.yml",
    );
    assert_eq!(response["allowed"], false, "{response}");
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.ends_with("; the granted profiles reject it too: profile \"node-agents\" (granted to service account \"monitoring/node-exporter\"): violates PodSecurity \"baseline:latest\": privileged (container \"node-exporter\" must not set securityContext.privileged=true)"),
        "{message}"
    );
}
