//! `allowPrivilegeEscalation: false`: every container must set
//! `allowPrivilegeEscalation: false` (unset counts as allowed, as in PodSecurityPolicy, whose
//! defaulting then set it). `true`, PodSecurityPolicy's default, allows escalation.
//! `defaultAllowPrivilegeEscalation` is the value mutation sets where a container sets none.
//! The judgement is the restricted check's first revision: PSP exempted no Windows pod.

use super::{host_namespace::forbids, Constraint, Constraints};
use crate::checks::{allow_privilege_escalation, CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "allowPrivilegeEscalationConstraint",
    configured: |c| forbids(c.allow_privilege_escalation),
    evaluate,
    prepare,
};

#[cfg_attr(scp_optimize_size, optimize(size))]
fn prepare(constraints: &mut Constraints) -> Result<(), String> {
    if forbids(constraints.allow_privilege_escalation)
        && constraints.default_allow_privilege_escalation == Some(true)
    {
        return Err("invalid settings: defaultAllowPrivilegeEscalation is true but allowPrivilegeEscalation is false: the default would be refused".to_string());
    }
    Ok(())
}

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    if !forbids(constraints.allow_privilege_escalation) {
        return None;
    }
    allow_privilege_escalation::allow_privilege_escalation_1_8(input)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use crate::settings::Settings;
    use serde_json::json;

    #[test]
    fn unset_and_true_are_refused_when_escalation_is_forbidden() {
        let settings = json!({"level": "privileged", "allowPrivilegeEscalation": false});
        assert_eq!(
            denied(
                &settings,
                json!({
                    "initContainers": [{"name": "i"}],
                    "containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": false}},
                                   {"name": "b", "securityContext": {"allowPrivilegeEscalation": true}}],
                    "ephemeralContainers": [{"name": "e"}]
                })
            ),
            r#"allowPrivilegeEscalation != false (containers "i", "b", "e" must set securityContext.allowPrivilegeEscalation=false)"#
        );
        assert_eq!(
            constrained(
                &json!({"allowPrivilegeEscalation": true}),
                json!({"containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": true}}]})
            ),
            None
        );
    }

    #[test]
    fn a_default_that_would_be_refused_is_invalid() {
        let err = Settings::from_json(
            br#"{"allowPrivilegeEscalation": false, "defaultAllowPrivilegeEscalation": true}"#,
        )
        .unwrap_err();
        assert!(
            err.contains("defaultAllowPrivilegeEscalation is true"),
            "{err}"
        );
    }
}
