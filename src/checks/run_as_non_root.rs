//! Containers must run as non-root. Restricted: since v1.0; since v1.35 pods in their own user
//! namespace (`hostUsers: false`) are exempt, their root being unprivileged on the node.

use super::message::containers_phrase;
use super::{since, Check, CheckInput, CheckLevel, Violation};

pub const CHECK: Check = Check {
    id: "runAsNonRoot",
    level: CheckLevel::Restricted,
    versions: &[
        since(0, run_as_non_root_1_0),
        since(35, run_as_non_root_1_35),
    ],
};

fn run_as_non_root_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut setters = Vec::new();
    let pod_value = input.pod_context().and_then(|sc| sc.run_as_non_root);
    if pod_value == Some(false) {
        setters.push("pod".to_string());
    }
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    for c in input.containers() {
        match c.context_common().and_then(|sc| sc.run_as_non_root) {
            Some(false) => explicitly_bad.push(c.name),
            Some(true) => {}
            None if pod_value != Some(true) => implicitly_bad.push(c.name),
            None => {}
        }
    }
    if !explicitly_bad.is_empty() {
        setters.push(containers_phrase(&explicitly_bad));
    }
    if !setters.is_empty() {
        return Violation::new(
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
        );
    }
    if !implicitly_bad.is_empty() {
        return Violation::new(
            "runAsNonRoot != true",
            format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                containers_phrase(&implicitly_bad)
            ),
        );
    }
    None
}

fn run_as_non_root_1_35(input: &CheckInput<'_, '_>) -> Option<Violation> {
    if input.pod.in_user_namespace() {
        return None;
    }
    run_as_non_root_1_0(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn explicit_false_is_denied_even_with_the_pod_set_to_true() {
        let pod = json!({"spec": {
            "securityContext": {"runAsNonRoot": true},
            "containers": [{"name": "a", "securityContext": {"runAsNonRoot": false}}, {"name": "b"}]
        }});
        assert_eq!(
            denied(run_as_non_root_1_0, pod),
            r#"runAsNonRoot != true (container "a" must not set securityContext.runAsNonRoot=false)"#
        );
    }

    #[test]
    fn pod_false_is_denied_even_when_every_container_overrides_it() {
        let pod = json!({"spec": {
            "securityContext": {"runAsNonRoot": false},
            "containers": [{"name": "a", "securityContext": {"runAsNonRoot": true}}]
        }});
        assert_eq!(
            denied(run_as_non_root_1_0, pod),
            r#"runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)"#
        );
    }

    #[test]
    fn unset_is_denied() {
        let pod = json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsNonRoot": true}}]}});
        assert_eq!(
            denied(run_as_non_root_1_0, pod),
            r#"runAsNonRoot != true (pod or container "a" must set securityContext.runAsNonRoot=true)"#
        );
    }

    #[test]
    fn container_setting_overrides_an_unset_pod() {
        let pod = json!({"spec": {"containers": [{"name": "a", "securityContext": {"runAsNonRoot": true}}]}});
        assert_eq!(run(run_as_non_root_1_0, pod), None);
        let pod = json!({"spec": {"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}]}});
        assert_eq!(run(run_as_non_root_1_0, pod), None);
    }

    #[test]
    fn user_namespaces_are_exempt_from_1_35() {
        let pod = json!({"spec": {"hostUsers": false, "containers": [{"name": "a"}]}});
        assert!(run(run_as_non_root_1_0, pod.clone()).is_some());
        assert_eq!(run(run_as_non_root_1_35, pod), None);
        let pod = json!({"spec": {"hostUsers": true, "containers": [{"name": "a"}]}});
        assert!(run(run_as_non_root_1_35, pod).is_some());
    }
}
