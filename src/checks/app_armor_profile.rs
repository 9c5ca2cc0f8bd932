//! Overriding or disabling the default AppArmor profile. Baseline, since v1.0: the
//! `appArmorProfile` fields of pod and containers, and the legacy per-container annotations.

use super::message::{containers_phrase, join_quoted, pluralize, sorted_set};
use super::{since, Check, CheckInput, CheckLevel, Violation};
use crate::pod::APPARMOR_CONTAINER_ANNOTATION_PREFIX;
use crate::security_context::Profile;

pub const CHECK: Check = Check {
    id: "appArmorProfile",
    level: CheckLevel::Baseline,
    versions: &[since(0, app_armor_profile_1_0)],
};

fn allowed_type(profile: &Profile<'_>) -> bool {
    matches!(profile.type_, "RuntimeDefault" | "Localhost")
}

fn allowed_annotation(value: &str) -> bool {
    value.is_empty() || value == "runtime/default" || value.starts_with("localhost/")
}

fn app_armor_profile_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut setters = Vec::new();
    let mut bad_types = Vec::new();
    if let Some(p) = input.pod_context().and_then(|sc| sc.app_armor_profile) {
        if !allowed_type(&p) {
            setters.push("pod".to_string());
            bad_types.push(p.type_);
        }
    }
    let mut bad_containers = Vec::new();
    for c in input.containers() {
        if let Some(p) = c.context_common().and_then(|sc| sc.app_armor_profile) {
            if !allowed_type(&p) {
                bad_containers.push(c.name);
                bad_types.push(p.type_);
            }
        }
    }
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }
    let mut bad_values: Vec<String> = sorted_set(bad_types)
        .into_iter()
        .map(str::to_string)
        .collect();
    // Annotations are sorted by key in the model, which sorts these strings too.
    let annotations: Vec<String> = input
        .pod
        .annotations
        .iter()
        .filter(|(k, v)| {
            k.starts_with(APPARMOR_CONTAINER_ANNOTATION_PREFIX) && !allowed_annotation(v)
        })
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    if !annotations.is_empty() {
        setters.push(pluralize("annotation", "annotations", annotations.len()).to_string());
        bad_values.extend(annotations);
    }
    if setters.is_empty() {
        return None;
    }
    Violation::new(
        pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            bad_values.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quoted(&bad_values)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn unconfined_profiles_and_annotations_are_denied() {
        let pod = json!({
            "metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/a": "unconfined"}},
            "spec": {
                "securityContext": {"appArmorProfile": {"type": "Unconfined"}},
                "containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}]
            }
        });
        let detail = denied(app_armor_profile_1_0, pod);
        assert!(
            detail.starts_with("forbidden AppArmor profiles ("),
            "{detail}"
        );
        assert!(
            detail.contains(r#"pod and container "a" and annotation must not set"#),
            "{detail}"
        );
        assert!(
            detail.ends_with(
                r##"to "Unconfined", "container.apparmor.security.beta.kubernetes.io/a="unconfined"")"##
            ),
            "{detail}"
        );
    }

    #[test]
    fn container_profile_alone_is_checked() {
        let pod = json!({"spec": {
            "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}]
        }});
        assert_eq!(
            denied(app_armor_profile_1_0, pod),
            r#"forbidden AppArmor profile (container "a" must not set AppArmor profile type to "Unconfined")"#
        );
    }

    #[test]
    fn default_and_localhost_profiles_are_allowed() {
        let pod = json!({
            "metadata": {"annotations": {
                "container.apparmor.security.beta.kubernetes.io/a": "localhost/custom",
                "container.apparmor.security.beta.kubernetes.io/b": "runtime/default"
            }},
            "spec": {
                "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
                "containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}}]
            }
        });
        assert_eq!(run(app_armor_profile_1_0, pod), None);
    }
}
