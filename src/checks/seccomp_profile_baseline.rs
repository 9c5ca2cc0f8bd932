//! Disabling seccomp. Baseline: before v1.19 through the alpha annotations; from v1.19 through
//! the `seccompProfile` fields (the annotations are ignored from then on).

use super::message::{containers_phrase, join_quoted, pluralize, sorted_set};
use super::{since, Check, CheckInput, CheckLevel, Violation};
use crate::pod::{SECCOMP_CONTAINER_ANNOTATION_PREFIX, SECCOMP_POD_ANNOTATION};

pub const ID: &str = "seccompProfile_baseline";

pub const CHECK: Check = Check {
    id: ID,
    level: CheckLevel::Baseline,
    versions: &[
        since(0, seccomp_profile_baseline_1_0),
        since(19, seccomp_profile_baseline_1_19),
    ],
};

pub(super) fn allowed_type(type_: &str) -> bool {
    matches!(type_, "RuntimeDefault" | "Localhost")
}

fn allowed_annotation(value: &str) -> bool {
    value == "runtime/default" || value == "docker/default" || value.starts_with("localhost/")
}

fn seccomp_profile_baseline_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut forbidden = Vec::new();
    if let Some(v) = input.pod.annotation(SECCOMP_POD_ANNOTATION) {
        if !allowed_annotation(v) {
            forbidden.push(format!("{SECCOMP_POD_ANNOTATION}={v:?}"));
        }
    }
    for c in input.containers() {
        let key = format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", c.name);
        if let Some(v) = input.pod.annotation(&key) {
            if !allowed_annotation(v) {
                forbidden.push(format!("{key}={v:?}"));
            }
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    forbidden.sort_unstable();
    forbidden.dedup();
    Violation::new(
        "seccompProfile",
        format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", forbidden.len()),
            forbidden.join(", ")
        ),
    )
}

/// Pod and containers that explicitly set a forbidden type, in upstream's wording; shared with
/// the restricted twin.
pub(super) fn explicitly_bad(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut setters = Vec::new();
    let mut bad_types = Vec::new();
    if let Some(p) = input.pod_context().and_then(|sc| sc.seccomp_profile) {
        if !allowed_type(p.type_) {
            setters.push("pod".to_string());
            bad_types.push(p.type_);
        }
    }
    let mut bad_containers = Vec::new();
    for c in input.containers() {
        if let Some(p) = c.context_common().and_then(|sc| sc.seccomp_profile) {
            if !allowed_type(p.type_) {
                bad_containers.push(c.name);
                bad_types.push(p.type_);
            }
        }
    }
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }
    if setters.is_empty() {
        return None;
    }
    Violation::new(
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.join(" and "),
            join_quoted(&sorted_set(bad_types))
        ),
    )
}

fn seccomp_profile_baseline_1_19(input: &CheckInput<'_, '_>) -> Option<Violation> {
    explicitly_bad(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn unconfined_annotations_are_denied_before_1_19() {
        let pod = json!({
            "metadata": {"annotations": {
                "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
                "container.seccomp.security.alpha.kubernetes.io/a": "runtime/default"
            }},
            "spec": {"containers": [{"name": "a"}]}
        });
        assert_eq!(
            denied(seccomp_profile_baseline_1_0, pod.clone()),
            r#"seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")"#
        );
        assert_eq!(run(seccomp_profile_baseline_1_19, pod), None);
    }

    #[test]
    fn unconfined_fields_are_denied_from_1_19() {
        let pod = json!({"spec": {
            "securityContext": {"seccompProfile": {"type": "Unconfined"}},
            "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}]
        }});
        assert_eq!(
            denied(seccomp_profile_baseline_1_19, pod.clone()),
            r#"seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")"#
        );
        assert_eq!(run(seccomp_profile_baseline_1_0, pod), None);
    }

    #[test]
    fn allowed_profiles_pass() {
        let pod = json!({
            "metadata": {"annotations": {"container.seccomp.security.alpha.kubernetes.io/a": "localhost/x"}},
            "spec": {"containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "x"}}}]}
        });
        assert_eq!(run(seccomp_profile_baseline_1_0, pod.clone()), None);
        assert_eq!(run(seccomp_profile_baseline_1_19, pod), None);
    }
}
