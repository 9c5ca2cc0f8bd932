//! `imageUser`: the image's USER looked up through the host, counted on replayed kwctl sessions,
//! natively and through policy.wasm. The decisions themselves are cases in test_data/cases.json.

mod support;

use serde_json::{json, Value};
use support::ReplayContext;

fn request(file: &str) -> Value {
    serde_json::from_slice(&std::fs::read(support::test_data_dir().join(file)).unwrap()).unwrap()
}

fn session(file: &str) -> std::path::PathBuf {
    support::test_data_dir().join("sessions").join(file)
}

/// The native decision and how many host calls it made.
fn native(request: &Value, settings: &Value, session_file: &str) -> (Value, usize) {
    let context = ReplayContext::from_file(&session(session_file));
    let outcome = security_context_policy::admission::validate_with(
        &support::validation_payload(request, settings),
        &context,
    );
    (support::outcome_json(&outcome), context.replayed())
}

/// The same through policy.wasm in the runner; `None` without the module.
fn wasm(request: &Value, settings: &Value, session_file: &str) -> Option<(Value, usize)> {
    let policy = support::load_policy()?;
    policy.set_host_capabilities(policy_runner::HostCapabilities {
        allow_context_aware: true,
        replay: Some(policy_runner::ReplaySession::from_file(session(session_file)).unwrap()),
        ..Default::default()
    });
    let answer = support::wasm_validate(&policy, &support::validation_payload(request, settings));
    let calls = policy
        .host_capabilities()
        .replay
        .as_ref()
        .map_or(0, |r| r.replayed());
    Some((answer, calls))
}

fn both(request: &Value, settings: &Value, session_file: &str) -> Vec<(Value, usize)> {
    let mut answers = vec![native(request, settings, session_file)];
    answers.extend(wasm(request, settings, session_file));
    answers
}

#[test]
fn each_distinct_image_is_asked_once() {
    // Five containers, four distinct images.
    let deployment = request("deployment_image_users.json");
    for (answer, calls) in both(
        &deployment,
        &json!({"imageUser": {}}),
        "image_users_storefront.yml",
    ) {
        assert_eq!(calls, 4, "{answer}");
        assert_eq!(answer["accepted"], false, "{answer}");
        let message = answer["message"].as_str().unwrap();
        // The root and the named image are refused, the numeric ones are not.
        assert!(message.contains("container \"web\""), "{message}");
        assert!(message.contains("container \"metrics\""), "{message}");
        for fine in ["wait-for-db", "api", "worker"] {
            assert!(
                !message.contains(&format!("container \"{fine}\"")),
                "{message}"
            );
        }
    }
}

#[test]
fn a_pod_that_sets_run_as_user_is_never_looked_up() {
    let pod = request("pod_restricted_compliant.json");
    for (answer, calls) in both(&pod, &json!({"imageUser": {}}), "no_host_calls.yml") {
        assert_eq!(calls, 0, "{answer}");
        assert_eq!(answer["accepted"], true, "{answer}");
    }
    // The same pod without its runAsUser is looked up: the counting above can fail.
    let mut unpinned = pod.clone();
    unpinned["object"]["spec"]["securityContext"]
        .as_object_mut()
        .unwrap()
        .remove("runAsUser");
    for (answer, calls) in both(&unpinned, &json!({"imageUser": {}}), "no_host_calls.yml") {
        assert_eq!(calls, 1, "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("the list of recorded responses is empty"),
            "{message}"
        );
    }
}

#[test]
fn without_the_setting_nothing_is_asked() {
    let deployment = request("deployment_image_users.json");
    for (answer, calls) in both(&deployment, &json!({}), "no_host_calls.yml") {
        assert_eq!(calls, 0, "{answer}");
        assert_eq!(answer["accepted"], true, "{answer}");
    }
}

#[test]
fn mutation_looks_up_what_its_defaults_make_necessary() {
    // The pod sets no runAsNonRoot; mutation's restricted default sets it, which makes the
    // image's user matter: the nginx image runs as root, so no default can fix it.
    let mut deployment = request("deployment_image_users.json");
    let spec = &mut deployment["object"]["spec"]["template"]["spec"];
    spec["securityContext"] = json!({"seccompProfile": {"type": "RuntimeDefault"}});
    spec["initContainers"] = json!([]);
    spec["containers"] = json!([spec["containers"][0].clone()]);
    let settings = json!({"imageUser": {}, "mutate": true});
    let context = ReplayContext::new(nginx_only());
    let outcome = security_context_policy::admission::validate_with(
        &support::validation_payload(&deployment, &settings),
        &context,
    );
    let answer = support::outcome_json(&outcome);
    assert_eq!(context.replayed(), 1, "{answer}");
    assert_eq!(answer["accepted"], false, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("runs as root"),
        "{answer}"
    );
}

/// The storefront session's nginx exchange alone.
fn nginx_only() -> policy_runner::ReplaySession {
    let text = std::fs::read_to_string(session("image_users_storefront.yml")).unwrap();
    let exchanges: Vec<&str> = text.split("- type: Exchange\n").skip(1).collect();
    let nginx = exchanges
        .iter()
        .find(|e| e.contains("image: 127.0.0.1:5000/library/nginx:1.27.3"))
        .unwrap();
    policy_runner::ReplaySession::from_yaml(&format!("- type: Exchange\n{nginx}")).unwrap()
}
