//! RBAC-granted profiles, natively, against a scripted `ClusterContext`: the order of the
//! questions asked, who is asked about, and every message.

mod support;

use security_context_policy::admission::{self, AdmissionRequest, Decision};
use security_context_policy::context::{AccessReview, ClusterContext, ContextError};
use security_context_policy::policy::Policy;
use security_context_policy::settings::Settings;
use serde_json::{json, Value};
use std::cell::RefCell;

/// Answers `can_i` from a table of (user, profile) grants, or fails for one user; records every
/// question. Any other question is a test failure.
#[derive(Default)]
struct ScriptedContext {
    grants: Vec<(&'static str, &'static str)>,
    failing_user: Option<&'static str>,
    asked: RefCell<Vec<AccessReview>>,
}

impl ScriptedContext {
    fn granting(grants: &[(&'static str, &'static str)]) -> ScriptedContext {
        ScriptedContext {
            grants: grants.to_vec(),
            ..ScriptedContext::default()
        }
    }

    /// `user:profile` for every question, in order.
    fn questions(&self) -> Vec<String> {
        self.asked
            .borrow()
            .iter()
            .map(|r| format!("{}:{}", r.user, r.name))
            .collect()
    }
}

impl ClusterContext for ScriptedContext {
    fn namespace(&self, name: &str) -> Result<Value, ContextError> {
        // Only the test of an unreadable namespace asks.
        Err(ContextError::new(
            format!("namespace \"{name}\""),
            "namespaces is forbidden",
        ))
    }

    fn pods_in_namespace(&self, namespace: &str) -> Result<Vec<Value>, ContextError> {
        panic!("unexpected question: pods in {namespace}")
    }

    fn can_i(&self, review: &AccessReview) -> Result<bool, ContextError> {
        self.asked.borrow_mut().push(review.clone());
        if self.failing_user == Some(review.user.as_str()) {
            return Err(ContextError::new(
                format!(
                    "whether \"{}\" may use profiles \"{}\"",
                    review.user, review.name
                ),
                "the API server timed out",
            ));
        }
        Ok(self
            .grants
            .iter()
            .any(|(user, profile)| *user == review.user && *profile == review.name))
    }

    fn image_config(&self, image: &str) -> Result<Value, ContextError> {
        panic!("unexpected question: image {image}")
    }
}

/// The decision alone.
fn decide_with(policy: &Policy, request: &AdmissionRequest, context: &ScriptedContext) -> Decision {
    admission::decide_with(policy, request, context).decision
}

const CONTROLLER_SA: &str = "system:serviceaccount:kube-system:replicaset-controller";
const POD_SA: &str = "system:serviceaccount:team-a:agent";

/// restricted by default; `baseline-ish` allows root but not privileged; `privileged` allows it.
fn settings() -> Value {
    json!({
        "level": "restricted",
        "profiles": [
            {"name": "baseline-ish", "level": "baseline"},
            {"name": "privileged", "level": "privileged"}
        ]
    })
}

fn policy(settings: &Value) -> Policy {
    Policy::new(Settings::from_value(settings).unwrap())
}

/// A pod in `team-a` with service account `agent`, requested by `user`.
fn request(user: &str, privileged: bool) -> AdmissionRequest {
    let mut r = support::request(
        "",
        "v1",
        "Pod",
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "team-a"},
            "spec": {
                "serviceAccountName": "agent",
                "containers": [{"name": "app", "image": "i",
                                "securityContext": {"privileged": privileged}}]
            }
        }),
    );
    r["namespace"] = json!("team-a");
    r["userInfo"] = json!({"username": user, "groups": ["dev", "system:authenticated"]});
    serde_json::from_value(r).unwrap()
}

fn compliant_request(user: &str) -> AdmissionRequest {
    let mut r: Value = support::pod_request(&json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "app", "image": "i", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
        }
    }));
    r["userInfo"] = json!({"username": user});
    serde_json::from_value(r).unwrap()
}

#[test]
fn nothing_is_asked_when_the_base_settings_accept() {
    let context = ScriptedContext::granting(&[]);
    let decision = decide_with(&policy(&settings()), &compliant_request("alice"), &context);
    assert_eq!(decision, Decision::accept());
    assert!(context.questions().is_empty(), "{:?}", context.questions());
}

#[test]
fn the_admitting_profile_is_an_audit_annotation() {
    let context = ScriptedContext::granting(&[("alice", "baseline-ish")]);
    let outcome = admission::decide_with(&policy(&settings()), &request("alice", false), &context);
    assert!(matches!(outcome.decision, Decision::Accept { .. }));
    assert_eq!(
        outcome
            .audit_annotations
            .get("admitted-by-profile")
            .map(String::as_str),
        Some("baseline-ish")
    );
    // A rejection carries none.
    let context = ScriptedContext::granting(&[]);
    let outcome = admission::decide_with(&policy(&settings()), &request("alice", false), &context);
    assert!(matches!(outcome.decision, Decision::Reject { .. }));
    assert!(!outcome
        .audit_annotations
        .contains_key("admitted-by-profile"));
}

#[test]
fn a_user_granted_a_profile_gets_what_the_base_rejects() {
    let context = ScriptedContext::granting(&[("alice", "baseline-ish")]);
    let decision = decide_with(&policy(&settings()), &request("alice", false), &context);
    let Decision::Accept { warnings, mutated } = decision else {
        panic!("expected an acceptance, got {decision:?}");
    };
    assert_eq!(mutated, None);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(
            "admitted by profile \"baseline-ish\", granted to user \"alice\"; the base settings reject it: violates PodSecurity \"restricted:latest\": "
        ),
        "{}",
        warnings[0]
    );
    // The first profile was granted to alice herself: the service account was not asked.
    assert_eq!(context.questions(), ["alice:baseline-ish"]);
    let review = &context.asked.borrow()[0];
    assert_eq!(
        review,
        &AccessReview {
            user: "alice".into(),
            groups: vec!["dev".into(), "system:authenticated".into()],
            verb: "use".into(),
            group: "security-context-policy.kubewarden.io".into(),
            resource: "profiles".into(),
            name: "baseline-ish".into(),
            namespace: "team-a".into(),
        }
    );
}

#[test]
fn a_user_granted_nothing_is_rejected_after_every_question() {
    let context = ScriptedContext::granting(&[]);
    let Decision::Reject { message, .. } =
        decide_with(&policy(&settings()), &request("mallory", true), &context)
    else {
        panic!("expected a rejection");
    };
    assert!(message.starts_with("violates PodSecurity \"restricted:latest\": privileged"));
    assert!(
        message.ends_with(
            "; no profile is granted to user \"mallory\" or service account \"team-a/agent\" (profiles: \"baseline-ish\", \"privileged\")"
        ),
        "{message}"
    );
    assert_eq!(
        context.questions(),
        [
            "mallory:baseline-ish",
            &format!("{POD_SA}:baseline-ish"),
            "mallory:privileged",
            &format!("{POD_SA}:privileged"),
        ]
    );
    let asked = context.asked.borrow();
    assert_eq!(
        asked[1].groups,
        [
            "system:serviceaccounts",
            "system:serviceaccounts:team-a",
            "system:authenticated"
        ]
    );
}

#[test]
fn a_pod_whose_service_account_is_granted_is_admitted_though_a_controller_asks() {
    let context = ScriptedContext::granting(&[(POD_SA, "privileged")]);
    let decision = decide_with(
        &policy(&settings()),
        &request(CONTROLLER_SA, true),
        &context,
    );
    let Decision::Accept { warnings, .. } = decision else {
        panic!("expected an acceptance, got {decision:?}");
    };
    assert!(
        warnings[0].starts_with(
            "admitted by profile \"privileged\", granted to service account \"team-a/agent\";"
        ),
        "{warnings:?}"
    );
    assert_eq!(
        context.questions(),
        [
            format!("{CONTROLLER_SA}:baseline-ish"),
            format!("{POD_SA}:baseline-ish"),
            format!("{CONTROLLER_SA}:privileged"),
            format!("{POD_SA}:privileged"),
        ]
    );
}

#[test]
fn granted_profiles_that_still_reject_are_named_with_their_reasons() {
    let context = ScriptedContext::granting(&[("alice", "baseline-ish")]);
    let Decision::Reject { message, .. } =
        decide_with(&policy(&settings()), &request("alice", true), &context)
    else {
        panic!("expected a rejection");
    };
    assert!(
        message.ends_with(
            "; the granted profiles reject it too: profile \"baseline-ish\" (granted to user \"alice\"): violates PodSecurity \"baseline:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"
        ),
        "{message}"
    );
    // `privileged` was asked about too, for alice and the pod's service account.
    assert_eq!(
        context.questions(),
        [
            "alice:baseline-ish",
            "alice:privileged",
            &format!("{POD_SA}:privileged")
        ]
    );
}

#[test]
fn the_first_granted_profile_that_accepts_wins() {
    let context = ScriptedContext::granting(&[("alice", "baseline-ish"), ("alice", "privileged")]);
    let Decision::Accept { warnings, .. } =
        decide_with(&policy(&settings()), &request("alice", true), &context)
    else {
        panic!("expected an acceptance");
    };
    assert!(
        warnings[0].starts_with("admitted by profile \"privileged\""),
        "{warnings:?}"
    );
    assert_eq!(
        context.questions(),
        ["alice:baseline-ish", "alice:privileged"]
    );
}

#[test]
fn a_host_failure_rejects_naming_what_failed() {
    let context = ScriptedContext {
        failing_user: Some("alice"),
        ..ScriptedContext::granting(&[(POD_SA, "baseline-ish")])
    };
    let Decision::Reject { message, .. } =
        decide_with(&policy(&settings()), &request("alice", false), &context)
    else {
        panic!("expected a rejection");
    };
    assert!(
        message.ends_with(
            "; cannot tell whether profile \"baseline-ish\" is granted: cannot read whether \"alice\" may use profiles \"baseline-ish\": the API server timed out"
        ),
        "{message}"
    );
    assert_eq!(context.questions(), ["alice:baseline-ish"]);
}

#[test]
fn without_host_capabilities_profiles_fail_closed() {
    let request = request("alice", false);
    let decision = admission::decide(&policy(&settings()), &request);
    let Decision::Reject { message, .. } = decision else {
        panic!("expected a rejection");
    };
    assert!(
        message.contains("cannot tell whether profile \"baseline-ish\" is granted: cannot read whether \"alice\" may use profiles \"baseline-ish\": no host capabilities are available here"),
        "{message}"
    );
}

#[test]
fn a_profile_applies_its_own_exemptions_and_mutation() {
    let settings = json!({
        "level": "restricted",
        "profiles": [{
            "name": "agents", "level": "restricted", "mutate": true,
            "exemptions": [{"checks": ["runAsNonRoot"], "serviceAccounts": ["team-a/agent"]}]
        }]
    });
    let context = ScriptedContext::granting(&[(POD_SA, "agents")]);
    let Decision::Accept { warnings, mutated } =
        decide_with(&policy(&settings), &request("alice", false), &context)
    else {
        panic!("expected an acceptance");
    };
    assert!(warnings[0].starts_with("admitted by profile \"agents\""));
    let mutated = mutated.expect("the profile's defaults are set");
    let pod_context = &mutated["spec"]["securityContext"];
    assert_eq!(pod_context["seccompProfile"]["type"], "RuntimeDefault");
    // Exempted for this service account by the profile: left alone.
    assert!(pod_context.get("runAsNonRoot").is_none(), "{mutated}");
}

#[test]
fn a_requester_that_is_the_pods_service_account_is_asked_about_once() {
    let context = ScriptedContext::granting(&[]);
    let decision = decide_with(&policy(&settings()), &request(POD_SA, true), &context);
    assert!(matches!(decision, Decision::Reject { .. }));
    assert_eq!(
        context.questions(),
        [
            format!("{POD_SA}:baseline-ish"),
            format!("{POD_SA}:privileged")
        ]
    );
}

#[test]
fn a_granted_profile_decides_alone_when_the_base_cannot_read_the_namespace() {
    let settings = json!({
        "namespaceLabels": true,
        "profiles": [{"name": "privileged", "level": "privileged"}]
    });
    let context = ScriptedContext::granting(&[("alice", "privileged")]);
    let Decision::Accept { warnings, .. } =
        decide_with(&policy(&settings), &request("alice", true), &context)
    else {
        panic!("expected an acceptance");
    };
    assert!(
        warnings[0].ends_with(
            "the base settings reject it: PodSecurity \"restricted:latest\" cannot evaluate this Pod: cannot read namespace \"team-a\": namespaces is forbidden"
        ),
        "{warnings:?}"
    );
    // Not granted: the base's failure is the rejection, with the profile question after it.
    let context = ScriptedContext::granting(&[]);
    let Decision::Reject { message, .. } =
        decide_with(&policy(&settings), &request("alice", true), &context)
    else {
        panic!("expected a rejection");
    };
    assert!(message.starts_with("PodSecurity \"restricted:latest\" cannot evaluate this Pod: cannot read namespace \"team-a\""), "{message}");
    assert!(
        message.contains("; no profile is granted to user \"alice\""),
        "{message}"
    );
}
