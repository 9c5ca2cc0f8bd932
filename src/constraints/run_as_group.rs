//! `runAsGroup`: MustRunAs pins every container's effective GID to ranges; MayRunAs only checks
//! a GID that is set.

use super::id_range::{check_ranges, id_problem, image_note, GroupRule, UNSET_ON_BOTH};
use super::{container_subject, violation, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "runAsGroupConstraint",
    configured: |c| c.run_as_group.is_some(),
    evaluate,
    prepare: |c| match &c.run_as_group {
        Some(s) => check_ranges(
            "runAsGroup",
            &s.ranges,
            s.rule == GroupRule::MustRunAs || s.rule == GroupRule::MayRunAs,
        ),
        None => Ok(()),
    },
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let setting = constraints.run_as_group.as_ref()?;
    if setting.rule == GroupRule::RunAsAny {
        return None;
    }
    let required = setting.rule == GroupRule::MustRunAs;
    let details = input
        .containers()
        .filter_map(|c| {
            id_problem(
                "runAsGroup",
                c.effective.run_as_group_or_image(),
                &setting.ranges,
                required,
                UNSET_ON_BOTH,
            )
            .map(|p| {
                let from_image = image_note(
                    c.effective.image_deciding(c.effective.common.run_as_group),
                    c.effective.run_as_group_or_image(),
                );
                format!("{} {p}{from_image}", container_subject(c.name))
            })
        })
        .collect();
    violation("runAsGroup", details)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn must_run_as_requires_a_gid_in_range() {
        let settings =
            json!({"runAsGroup": {"rule": "MustRunAs", "ranges": [{"min": 100, "max": 200}]}});
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"runAsGroup": 150}, "containers": [{"name": "a"}]})
            ),
            None
        );
        assert_eq!(
            denied(
                &settings,
                json!({"securityContext": {"runAsGroup": 150}, "containers": [{"name": "a", "securityContext": {"runAsGroup": 0}}]})
            ),
            r#"runAsGroup (container "a" must set securityContext.runAsGroup within 100-200, got 0)"#
        );
        assert!(constrained(&settings, json!({"containers": [{"name": "a"}]})).is_some());
    }

    #[test]
    fn may_run_as_only_checks_set_values() {
        let settings =
            json!({"runAsGroup": {"rule": "MayRunAs", "ranges": [{"min": 100, "max": 200}]}});
        assert_eq!(
            constrained(&settings, json!({"containers": [{"name": "a"}]})),
            None
        );
        assert!(constrained(
            &settings,
            json!({"containers": [{"name": "a", "securityContext": {"runAsGroup": 5}}]})
        )
        .is_some());
        // The container's value wins over the pod's.
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"runAsGroup": 5}, "containers": [{"name": "a", "securityContext": {"runAsGroup": 150}}]})
            ),
            None
        );
    }
}
