//! What the policy asks the host, and what it does with the answers: namespace Pod Security
//! labels (pods and Namespace objects), the audit level, and failures of the host. Natively,
//! with kwctl replay sessions answering through the same host-call payloads as the waPC
//! implementation; the same sessions go through policy.wasm in `wasm_context_aware.rs`.

mod support;

use security_context_policy::admission::{validate_with, Decision, Outcome};
use security_context_policy::context::ClusterContext;
use serde_json::{json, Value};
use support::{namespace_session, session, ReplayContext};

const PSA: &str = "pod-security.kubernetes.io/";

fn request(file: &str) -> Value {
    support::request_file(file)
}

fn run(request: &Value, settings: Value, context: &dyn ClusterContext) -> Outcome {
    validate_with(&support::validation_payload(request, &settings), context)
}

fn rejection(outcome: &Outcome) -> &str {
    match &outcome.decision {
        Decision::Reject { message, .. } => message,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn warnings(outcome: &Outcome) -> &[String] {
    match &outcome.decision {
        Decision::Accept { warnings, .. } => warnings,
        other => panic!("expected an acceptance, got {other:?}"),
    }
}

fn label(name: &str) -> String {
    format!("{PSA}{name}")
}

/// A privileged pod in namespace "default" with these namespace labels and settings.
fn privileged_pod_in(labels: &[(&str, &str)], settings: Value) -> (Outcome, usize) {
    let labels: Vec<(String, &str)> = labels.iter().map(|(k, v)| (label(k), *v)).collect();
    let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let context = ReplayContext::new(namespace_session("default", &labels));
    let outcome = run(&request("pod_privileged.json"), settings, &context);
    (outcome, context.replayed())
}

#[test]
fn without_namespace_labels_the_host_is_never_asked() {
    for (file, settings) in [
        ("pod_privileged.json", json!({})),
        ("pod_privileged.json", json!({"level": "privileged"})),
        ("pod_restricted_compliant.json", json!({})),
        ("namespace_enforce_tightened.json", json!({})),
        (
            "namespace_invalid_labels.json",
            json!({"audit": {"level": "baseline"}}),
        ),
    ] {
        let context = ReplayContext::new(session(&[]));
        run(&request(file), settings, &context);
        assert_eq!(context.replayed(), 0, "{file}");
    }
}

#[test]
fn requests_that_are_not_judged_do_not_ask_for_the_namespace() {
    let settings = json!({"namespaceLabels": true});
    let context = ReplayContext::new(session(&[]));
    // A Pod update that changes only labels, a Service, a DELETE.
    let mut unchanged = request("pod_update_labels_only.json");
    run(&unchanged, settings.clone(), &context);
    run(&request("service_ignored.json"), settings.clone(), &context);
    unchanged["operation"] = json!("DELETE");
    run(&unchanged, settings, &context);
    assert_eq!(context.replayed(), 0);
}

#[test]
fn the_enforce_label_replaces_the_settings_level() {
    let (outcome, asked) = privileged_pod_in(
        &[("enforce", "baseline")],
        json!({"namespaceLabels": true, "level": "privileged"}),
    );
    assert_eq!(asked, 1);
    assert!(
        rejection(&outcome).starts_with("violates PodSecurity \"baseline:latest\": privileged"),
        "{outcome:?}"
    );
    // And the other way round: a privileged namespace admits what the settings reject.
    let (outcome, _) = privileged_pod_in(
        &[("enforce", "privileged")],
        json!({"namespaceLabels": true, "level": "restricted"}),
    );
    assert!(warnings(&outcome).is_empty());
}

#[test]
fn each_version_label_and_a_missing_one() {
    // enforce-version pins the version.
    let (outcome, _) = privileged_pod_in(
        &[("enforce", "baseline"), ("enforce-version", "v1.25")],
        json!({"namespaceLabels": true}),
    );
    assert!(
        rejection(&outcome).contains("\"baseline:v1.25\""),
        "{outcome:?}"
    );
    // Without it, the settings' version applies.
    let (outcome, _) = privileged_pod_in(
        &[("enforce", "baseline")],
        json!({"namespaceLabels": true, "version": "v1.30"}),
    );
    assert!(
        rejection(&outcome).contains("\"baseline:v1.30\""),
        "{outcome:?}"
    );
    // A version label alone keeps the settings' level.
    let (outcome, _) = privileged_pod_in(
        &[("enforce-version", "v1.29")],
        json!({"namespaceLabels": true, "level": "baseline"}),
    );
    assert!(
        rejection(&outcome).contains("\"baseline:v1.29\""),
        "{outcome:?}"
    );
    // warn-version and audit-version.
    let (outcome, _) = privileged_pod_in(
        &[
            ("enforce", "privileged"),
            ("warn", "baseline"),
            ("warn-version", "v1.27"),
            ("audit", "baseline"),
            ("audit-version", "v1.26"),
        ],
        json!({"namespaceLabels": true}),
    );
    assert!(
        warnings(&outcome)[0].starts_with("would violate PodSecurity \"baseline:v1.27\""),
        "{outcome:?}"
    );
    assert!(outcome.audit_annotations["audit-violations"]
        .starts_with("would violate PodSecurity \"baseline:v1.26\": privileged"));
}

#[test]
fn an_unlabelled_namespace_uses_the_settings() {
    let (outcome, asked) = privileged_pod_in(
        &[],
        json!({"namespaceLabels": true, "level": "baseline", "version": "v1.31",
               "warn": {"level": "restricted"}, "audit": {"level": "baseline"}}),
    );
    assert_eq!(asked, 1);
    assert!(
        rejection(&outcome).contains("\"baseline:v1.31\""),
        "{outcome:?}"
    );
    assert!(outcome.audit_annotations["audit-violations"]
        .starts_with("would violate PodSecurity \"baseline:latest\""));
    // Only Pod Security labels count.
    let (outcome, _) = privileged_pod_in(
        &[("enforce-level", "privileged")],
        json!({"namespaceLabels": true, "level": "baseline"}),
    );
    assert!(rejection(&outcome).contains("\"baseline:latest\""));
}

#[test]
fn invalid_labels_evaluate_like_psa_and_are_recorded() {
    // An invalid enforce level enforces restricted, even over a privileged default.
    let (outcome, _) = privileged_pod_in(
        &[("enforce", "Privileged")],
        json!({"namespaceLabels": true, "level": "privileged"}),
    );
    assert!(
        rejection(&outcome).contains("\"restricted:latest\""),
        "{outcome:?}"
    );
    assert_eq!(
        outcome.audit_annotations["error"],
        "Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"Privileged\": must be one of privileged, baseline, restricted"
    );
    // An invalid version is latest.
    let (outcome, _) = privileged_pod_in(
        &[("enforce", "baseline"), ("enforce-version", "1.25")],
        json!({"namespaceLabels": true}),
    );
    assert!(rejection(&outcome).contains("\"baseline:latest\""));
    assert!(outcome.audit_annotations["error"].contains("must be \"latest\" or \"v1.x\""));
    // Invalid warn and audit levels report nothing (fail open), the error is still recorded.
    let (outcome, _) = privileged_pod_in(
        &[("enforce", "privileged"), ("warn", "yes"), ("audit", "yes")],
        json!({"namespaceLabels": true, "warn": {"level": "baseline"}}),
    );
    assert!(warnings(&outcome).is_empty(), "{outcome:?}");
    assert!(!outcome.audit_annotations.contains_key("audit-violations"));
    assert!(outcome.audit_annotations["error"].starts_with("Failed to parse policy: ["));
}

#[test]
fn constraints_still_apply_in_a_privileged_namespace() {
    let (outcome, _) = privileged_pod_in(
        &[("enforce", "privileged")],
        json!({"namespaceLabels": true, "readOnlyRootFilesystem": true}),
    );
    assert!(
        rejection(&outcome).contains("readOnlyRootFilesystem"),
        "{outcome:?}"
    );
}

#[test]
fn audit_setting_annotates_without_rejecting() {
    let context = ReplayContext::new(session(&[]));
    let outcome = run(
        &request("pod_privileged.json"),
        json!({"level": "privileged", "audit": {"level": "baseline", "version": "v1.30"}}),
        &context,
    );
    assert!(warnings(&outcome).is_empty());
    assert_eq!(
        outcome.audit_annotations["audit-violations"],
        "would violate PodSecurity \"baseline:v1.30\": privileged (container \"web\" must not set securityContext.privileged=true)"
    );
    // A compliant pod: no annotation.
    let outcome = run(
        &request("pod_restricted_compliant.json"),
        json!({"audit": {"level": "restricted"}}),
        &context,
    );
    assert!(outcome.audit_annotations.is_empty());
    assert_eq!(context.replayed(), 0);
}

#[test]
fn host_failures_reject_naming_what_failed() {
    let pod = request("pod_restricted_compliant.json");
    let settings = json!({"namespaceLabels": true});
    let cases: Vec<(&str, policy_runner::ReplaySession, &str)> = vec![
        (
            "an API error",
            session(&[(
                support::get_namespace_request("default"),
                Err("namespaces \"default\" is forbidden".into()),
            )]),
            "namespaces \"default\" is forbidden",
        ),
        (
            "a timeout",
            session(&[(
                support::get_namespace_request("default"),
                Err("the server was unable to return a response in the time allotted".into()),
            )]),
            "time allotted",
        ),
        (
            "a namespace that does not exist",
            session(&[(
                support::get_namespace_request("default"),
                Err("namespaces \"default\" not found".into()),
            )]),
            "not found",
        ),
        (
            "an answer that is not JSON",
            session(&[(
                support::get_namespace_request("default"),
                Ok("<html>502</html>".into()),
            )]),
            "expected value",
        ),
        (
            "labels that are not strings",
            session(&[(
                support::get_namespace_request("default"),
                Ok(r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":3}}}"#.into()),
            )]),
            "is not a string",
        ),
        (
            "a session recorded for another namespace",
            session(&[(
                support::get_namespace_request("team-b"),
                Ok(r#"{"metadata":{}}"#.into()),
            )]),
            "Replay error: unexpected request",
        ),
        (
            "an exhausted session",
            session(&[]),
            "the list of recorded responses is empty",
        ),
    ];
    for (what, replay, reason) in cases {
        let outcome = run(&pod, settings.clone(), &ReplayContext::new(replay));
        let message = rejection(&outcome);
        assert!(
            message.starts_with(
                "PodSecurity \"restricted:latest\" cannot evaluate this Pod: cannot read namespace \"default\": "
            ),
            "{what}: {message}"
        );
        assert!(message.contains(reason), "{what}: {message}");
    }
}

#[test]
fn namespace_objects_with_invalid_labels_are_refused() {
    let settings = json!({"namespaceLabels": true});
    let context = ReplayContext::new(session(&[]));
    let outcome = run(
        &request("namespace_invalid_labels.json"),
        settings.clone(),
        &context,
    );
    assert_eq!(
        rejection(&outcome),
        "[metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted, metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: \"1.30\": must be \"latest\" or \"v1.x\"]"
    );
    // An update that leaves the same invalid labels is let through, like PSA; one that changes
    // them is refused.
    let mut update = request("namespace_invalid_labels.json");
    update["operation"] = json!("UPDATE");
    update["oldObject"] = update["object"].clone();
    update["object"]["metadata"]["labels"]["team"] = json!("a");
    assert!(matches!(
        run(&update, settings.clone(), &context).decision,
        Decision::Accept { .. }
    ));
    update["object"]["metadata"]["labels"][label("audit")] = json!("all");
    assert!(rejection(&run(&update, settings.clone(), &context))
        .contains("audit]: Invalid value: \"all\""));
    // Valid labels: accepted without asking anything.
    let mut create = request("namespace_invalid_labels.json");
    create["object"]["metadata"]["labels"] =
        json!({(label("enforce")): "baseline", (label("warn-version")): "v1.30"});
    assert!(matches!(
        run(&create, settings, &context).decision,
        Decision::Accept { .. }
    ));
    assert_eq!(context.replayed(), 0);
}

#[test]
fn tightening_enforce_warns_about_existing_pods_as_psa_does() {
    let context =
        ReplayContext::from_file(&support::test_data_dir().join("sessions/pods_in_team_a.yml"));
    let outcome = run(
        &request("namespace_enforce_tightened.json"),
        json!({"namespaceLabels": true}),
        &context,
    );
    assert_eq!(context.replayed(), 1);
    assert_eq!(
        warnings(&outcome),
        [
            "existing pods in namespace \"team-a\" violate the new PodSecurity enforce level \"baseline:latest\"",
            "debug-shell: host namespaces, privileged",
            "node-agent-ab12 (and 1 other pod): privileged",
        ]
    );
}

#[test]
fn relaxing_or_keeping_enforce_does_not_list_pods() {
    let context = ReplayContext::new(session(&[]));
    let settings = json!({"namespaceLabels": true});
    for (old, new) in [
        ("baseline", "privileged"),
        ("restricted", "baseline"),
        ("baseline", "baseline"),
    ] {
        let mut update = request("namespace_enforce_tightened.json");
        update["oldObject"]["metadata"]["labels"][label("enforce")] = json!(old);
        update["object"]["metadata"]["labels"][label("enforce")] = json!(new);
        assert!(
            warnings(&run(&update, settings.clone(), &context)).is_empty(),
            "{old} -> {new}"
        );
    }
    assert_eq!(context.replayed(), 0);
    // A new version at the same level is a change PSA checks pods for.
    let mut update = request("namespace_enforce_tightened.json");
    update["oldObject"]["metadata"]["labels"][label("enforce")] = json!("baseline");
    update["object"]["metadata"]["labels"][label("enforce-version")] = json!("v1.30");
    let context = ReplayContext::new(session(&[(
        support::list_pods_request("team-a"),
        Ok(json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": []}).to_string()),
    )]));
    assert!(warnings(&run(&update, settings, &context)).is_empty());
    assert_eq!(context.replayed(), 1);
}

#[test]
fn at_most_3000_existing_pods_are_checked() {
    let pods: Vec<Value> = (0..3001)
        .map(|i| {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("p{i:04}")},
                   "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": true}}]}})
        })
        .collect();
    let context = ReplayContext::new(session(&[(
        support::list_pods_request("team-a"),
        Ok(
            json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": pods})
                .to_string(),
        ),
    )]));
    let outcome = run(
        &request("namespace_enforce_tightened.json"),
        json!({"namespaceLabels": true}),
        &context,
    );
    assert_eq!(
        warnings(&outcome),
        [
            "new PodSecurity enforce level only checked against the first 3000 of 3001 existing pods",
            "existing pods in namespace \"team-a\" violate the new PodSecurity enforce level \"baseline:latest\"",
            "p0000 (and 2999 other pods): privileged",
        ]
    );
}

/// An existing pod of team-a: privileged, or with the host network when `host_network`; owned by
/// the controller with `controller_uid` when there is one.
fn existing_pod(name: &str, controller_uid: Option<&str>, host_network: bool) -> Value {
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {"containers": [{"name": "c", "image": "x"}]}});
    if host_network {
        pod["spec"]["hostNetwork"] = json!(true);
    } else {
        pod["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    }
    if let Some(uid) = controller_uid {
        pod["metadata"]["ownerReferences"] = json!([
            // A non-controller owner first: only the controller counts.
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "not-a-controller"},
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": uid,
             "controller": true}]);
    }
    pod
}

/// The namespace update's warnings with `pods` listed by the host in that order.
fn tightening_warnings(pods: Vec<Value>, settings: Value) -> Vec<String> {
    let context = support::ScriptedContext {
        pods: Some(Ok(pods)),
        ..Default::default()
    };
    let outcome = run(
        &request("namespace_enforce_tightened.json"),
        settings,
        &context,
    );
    assert_eq!(context.asked(), 1);
    warnings(&outcome).to_vec()
}

#[test]
fn one_pod_per_controller_is_checked_first_whatever_order_the_host_lists_pods_in() {
    // 3000 privileged pods of one DaemonSet, named to sort first, and two standalone pods
    // after them: checked in name order alone, the standalone pods would be the two left out.
    let mut pods: Vec<Value> = (0..3000)
        .map(|i| existing_pod(&format!("agent-{i:04}"), Some("ds-uid"), false))
        .collect();
    pods.push(existing_pod("z-hostnet", None, true));
    let mut debug = existing_pod("z-debug", None, false);
    debug["spec"]["hostPID"] = json!(true);
    pods.push(debug);
    let expected = [
        "new PodSecurity enforce level only checked against the first 3000 of 3002 existing pods",
        "existing pods in namespace \"team-a\" violate the new PodSecurity enforce level \"baseline:latest\"",
        // One agent pod first, the two standalone pods, then 2997 more agent pods.
        "agent-0000 (and 2997 other pods): privileged",
        "z-debug: host namespaces, privileged",
        "z-hostnet: host namespaces",
    ];
    let settings = json!({"namespaceLabels": true});
    assert_eq!(
        tightening_warnings(pods.clone(), settings.clone()),
        expected
    );
    // The host's order is a hash order: reversed, interleaved, the same warnings.
    let mut reversed = pods.clone();
    reversed.reverse();
    assert_eq!(tightening_warnings(reversed, settings.clone()), expected);
    let stride: Vec<Value> = (0..pods.len())
        .map(|i| pods[(i * 7919) % pods.len()].clone())
        .collect();
    assert_eq!(tightening_warnings(stride, settings), expected);
}

#[test]
fn the_checked_order_is_psa_s_first_per_controller_then_the_rest() {
    let pods = [
        existing_pod("web-b", Some("rs-1"), false),
        existing_pod("solo", None, false),
        existing_pod("db-1", Some("sts-1"), false),
        existing_pod("web-a", Some("rs-1"), false),
        existing_pod("db-0", Some("sts-1"), false),
        existing_pod("web-c", Some("rs-1"), false),
    ];
    let order = security_context_policy::admission::checked_pods_order(&pods);
    let names: Vec<&str> = order
        .iter()
        .map(|&i| pods[i]["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["db-0", "solo", "web-a", "db-1", "web-b", "web-c"]);
}

#[test]
fn wholly_exempted_pods_are_not_counted_as_psa_leaves_out_exempt_runtime_classes() {
    let baseline_checks: Vec<&str> = security_context_policy::checks::registry::resolve(
        security_context_policy::level::Level::Baseline,
        security_context_policy::level::NEWEST_KNOWN_MINOR,
    )
    .iter()
    .map(|check| check.id)
    .collect();
    let mut pods: Vec<Value> = (0..2999)
        .map(|i| existing_pod(&format!("agent-{i:04}"), Some("ds-uid"), false))
        .collect();
    for i in 0..2 {
        let mut sandboxed = existing_pod(&format!("sandboxed-{i}"), None, false);
        sandboxed["spec"]["runtimeClassName"] = json!("gvisor");
        pods.push(sandboxed);
    }
    // 3001 pods, two of which every enforced check exempts: 2999 to count, all checked.
    let exempt = json!({"namespaceLabels": true,
        "exemptions": [{"checks": baseline_checks, "runtimeClasses": ["gvisor"]}]});
    assert_eq!(
        tightening_warnings(pods.clone(), exempt),
        [
            "existing pods in namespace \"team-a\" violate the new PodSecurity enforce level \"baseline:latest\"",
            "agent-0000 (and 2998 other pods): privileged",
        ]
    );
    // Exempted from one check only, they count, and two pods go unchecked.
    let partly = json!({"namespaceLabels": true,
        "exemptions": [{"checks": ["privileged"], "runtimeClasses": ["gvisor"]}]});
    assert_eq!(
        tightening_warnings(pods, partly),
        [
            "new PodSecurity enforce level only checked against the first 3000 of 3001 existing pods",
            "existing pods in namespace \"team-a\" violate the new PodSecurity enforce level \"baseline:latest\"",
            "agent-0000 (and 2997 other pods): privileged",
        ]
    );
}

#[test]
fn pods_that_cannot_be_listed_reject_the_namespace_update() {
    // Scripted, not recorded: kwctl's cache retries a failing list until it succeeds, so no
    // session holds this failure.
    let context = support::ScriptedContext {
        pods: Some(Err("the server was unable to return a response in the time allotted, but may still be processing the request (get pods)".into())),
        ..Default::default()
    };
    let outcome = run(
        &request("namespace_enforce_tightened.json"),
        json!({"namespaceLabels": true}),
        &context,
    );
    assert_eq!(context.asked(), 1);
    let message = rejection(&outcome);
    assert!(
        message.starts_with("cannot check the existing pods of namespace \"team-a\" against the new PodSecurity enforce level \"baseline:latest\": cannot read the pods of namespace \"team-a\": "),
        "{message}"
    );
    assert!(message.contains("time allotted"), "{message}");
}

#[test]
fn every_version_a_namespace_spells_is_evaluated_as_its_own() {
    // More combinations than the policy keeps built: each is still judged at its version.
    for minor in (0..100).chain(0..3) {
        let version = format!("v1.{minor}");
        let (outcome, _) = privileged_pod_in(
            &[("enforce", "baseline"), ("enforce-version", &version)],
            json!({"namespaceLabels": true}),
        );
        assert!(
            rejection(&outcome).starts_with(&format!(
                "violates PodSecurity \"baseline:{version}\": privileged"
            )),
            "{outcome:?}"
        );
    }
}
