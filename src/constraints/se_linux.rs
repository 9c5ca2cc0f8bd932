//! `seLinux`: every part of a container's effective seLinuxOptions that is set must be listed;
//! an empty or absent list allows none.

use super::{container_subject, nothing_to_prepare, violation, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

#[derive(Debug, Clone, Default)]
pub struct SeLinuxConstraint {
    pub allowed_types: Vec<String>,
    pub allowed_levels: Vec<String>,
    pub allowed_users: Vec<String>,
    pub allowed_roles: Vec<String>,
}

crate::json_text::deserialize_by_shape!(SeLinuxConstraint {
    "allowedTypes" => allowed_types,
    "allowedLevels" => allowed_levels,
    "allowedUsers" => allowed_users,
    "allowedRoles" => allowed_roles,
});

pub const CONSTRAINT: Constraint = Constraint {
    id: "seLinuxConstraint",
    configured: |c| c.se_linux.is_some(),
    evaluate,
    prepare: nothing_to_prepare,
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let setting = constraints.se_linux.as_ref()?;
    let mut details = Vec::new();
    for c in input.containers() {
        let Some(opts) = c.effective.common.se_linux_options else {
            continue;
        };
        for (part, value, allowed) in [
            ("user", opts.user, &setting.allowed_users),
            ("role", opts.role, &setting.allowed_roles),
            ("type", opts.type_, &setting.allowed_types),
            ("level", opts.level, &setting.allowed_levels),
        ] {
            if !value.is_empty() && !allowed.iter().any(|a| a == value) {
                details.push(format!(
                    "{} must not set securityContext.seLinuxOptions.{part} to \"{value}\" (allowed: {})",
                    container_subject(c.name),
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        crate::checks::message::join_quoted(allowed)
                    }
                ));
            }
        }
    }
    violation("seLinuxOptions", details)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn set_parts_must_be_listed() {
        let settings = json!({"seLinux": {"allowedTypes": ["container_t"], "allowedLevels": ["s0:c123,c456"]}});
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"seLinuxOptions": {"type": "container_t", "level": "s0:c123,c456"}}, "containers": [{"name": "a"}]})
            ),
            None
        );
        assert_eq!(
            constrained(&settings, json!({"containers": [{"name": "a"}]})),
            None
        );
        assert_eq!(
            denied(
                &settings,
                json!({"securityContext": {"seLinuxOptions": {"type": "container_t"}}, "containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"type": "spc_t", "user": "system_u"}}}]})
            ),
            r#"seLinuxOptions (container "a" must not set securityContext.seLinuxOptions.user to "system_u" (allowed: none); container "a" must not set securityContext.seLinuxOptions.type to "spc_t" (allowed: "container_t"))"#
        );
        // The container's options replace the pod's as a whole.
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"seLinuxOptions": {"type": "spc_t"}}, "containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_t"}}}]})
            ),
            None
        );
    }
}
