//! Containers must not run as UID 0. Restricted: since v1.23; since v1.35 pods in their own user
//! namespace (`hostUsers: false`) are exempt.

use super::message::containers_phrase;
use super::{names_where, since, Check, CheckInput, CheckLevel, Violation};

pub const CHECK: Check = Check {
    id: "runAsUser",
    level: CheckLevel::Restricted,
    versions: &[since(23, run_as_user_1_23), since(35, run_as_user_1_35)],
};

fn run_as_user_1_23(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut setters = Vec::new();
    // The pod's value counts even where every container overrides it, as upstream.
    if input.pod_context().and_then(|sc| sc.run_as_user) == Some(0) {
        setters.push("pod".to_string());
    }
    let bad = names_where(input, |c| {
        c.context_common().and_then(|sc| sc.run_as_user) == Some(0)
    });
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    Violation::new(
        "runAsUser=0",
        format!("{} must not set runAsUser=0", setters.join(" and ")),
    )
}

fn run_as_user_1_35(input: &CheckInput<'_, '_>) -> Option<Violation> {
    if input.pod.in_user_namespace() {
        return None;
    }
    run_as_user_1_23(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn uid_0_is_denied_at_either_level() {
        let pod = json!({"spec": {
            "securityContext": {"runAsUser": 0},
            "containers": [{"name": "a", "securityContext": {"runAsUser": 1000}}, {"name": "b", "securityContext": {"runAsUser": 0}}]
        }});
        assert_eq!(
            denied(run_as_user_1_23, pod),
            r#"runAsUser=0 (pod and container "b" must not set runAsUser=0)"#
        );
    }

    #[test]
    fn pod_uid_0_counts_even_when_overridden() {
        let pod = json!({"spec": {
            "securityContext": {"runAsUser": 0},
            "containers": [{"name": "a", "securityContext": {"runAsUser": 1000}}]
        }});
        assert!(run(run_as_user_1_23, pod).is_some());
    }

    #[test]
    fn non_zero_and_unset_are_allowed() {
        let pod = json!({"spec": {"securityContext": {"runAsUser": 1000}, "containers": [{"name": "a"}]}});
        assert_eq!(run(run_as_user_1_23, pod), None);
    }

    #[test]
    fn user_namespaces_are_exempt_from_1_35() {
        let pod = json!({"spec": {"hostUsers": false, "securityContext": {"runAsUser": 0}, "containers": [{"name": "a"}]}});
        assert!(run(run_as_user_1_23, pod.clone()).is_some());
        assert_eq!(run(run_as_user_1_35, pod), None);
    }
}
