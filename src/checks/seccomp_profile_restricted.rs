//! A seccomp profile is required. Restricted: since v1.19 the pod or every container must set
//! RuntimeDefault or Localhost, and nothing may set another type; since v1.25 Windows pods are
//! exempt. Replaces the baseline seccomp check.

use super::message::containers_phrase;
use super::seccomp_profile_baseline::{allowed_type, explicitly_bad, ID as SECCOMP_BASELINE};
use super::{since_overriding, Check, CheckInput, CheckLevel, Violation};

pub const CHECK: Check = Check {
    id: "seccompProfile_restricted",
    level: CheckLevel::Restricted,
    versions: &[
        since_overriding(19, seccomp_profile_restricted_1_19, &[SECCOMP_BASELINE]),
        since_overriding(25, seccomp_profile_restricted_1_25, &[SECCOMP_BASELINE]),
    ],
};

fn seccomp_profile_restricted_1_19(input: &CheckInput<'_, '_>) -> Option<Violation> {
    if let Some(v) = explicitly_bad(input) {
        return Some(v);
    }
    let pod_set = input
        .pod_context()
        .and_then(|sc| sc.seccomp_profile)
        .is_some_and(|p| allowed_type(p.type_));
    let unset: Vec<&str> = input
        .containers()
        .filter(|c| {
            c.context_common()
                .and_then(|sc| sc.seccomp_profile)
                .is_none()
                && !pod_set
        })
        .map(|c| c.name)
        .collect();
    if unset.is_empty() {
        return None;
    }
    Violation::new(
        "seccompProfile",
        format!(
            r#"pod or {} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#,
            containers_phrase(&unset)
        ),
    )
}

fn seccomp_profile_restricted_1_25(input: &CheckInput<'_, '_>) -> Option<Violation> {
    if input.pod.is_windows() {
        return None;
    }
    seccomp_profile_restricted_1_19(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn missing_profiles_are_denied() {
        let pod = json!({"spec": {"containers": [
            {"name": "a"}, {"name": "b", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}
        ]}});
        assert_eq!(
            denied(seccomp_profile_restricted_1_19, pod),
            r#"seccompProfile (pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
        );
    }

    #[test]
    fn unconfined_is_denied_even_when_containers_override_it() {
        let pod = json!({"spec": {
            "securityContext": {"seccompProfile": {"type": "Unconfined"}},
            "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}]
        }});
        assert_eq!(
            denied(seccomp_profile_restricted_1_19, pod),
            r#"seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")"#
        );
    }

    #[test]
    fn pod_profile_covers_containers_and_container_profile_overrides() {
        let pod = json!({"spec": {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "a"}]}});
        assert_eq!(run(seccomp_profile_restricted_1_19, pod), None);
        let pod = json!({"spec": {
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]
        }});
        assert!(run(seccomp_profile_restricted_1_19, pod).is_some());
    }

    #[test]
    fn windows_pods_are_exempt_from_1_25() {
        let pod = json!({"spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]}});
        assert!(run(seccomp_profile_restricted_1_19, pod.clone()).is_some());
        assert_eq!(run(seccomp_profile_restricted_1_25, pod), None);
    }
}
