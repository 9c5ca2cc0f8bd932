//! `fsGroup`, a pod-level field: MustRunAs requires it set and in range, MayRunAs in range when
//! set.

use super::id_range::{check_ranges, id_problem, GroupRule};
use super::{violation, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "fsGroupConstraint",
    configured: |c| c.fs_group.is_some(),
    evaluate,
    prepare: |c| match &c.fs_group {
        Some(s) => check_ranges("fsGroup", &s.ranges, s.rule != GroupRule::RunAsAny),
        None => Ok(()),
    },
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let setting = constraints.fs_group.as_ref()?;
    if setting.rule == GroupRule::RunAsAny {
        return None;
    }
    let value = input
        .pod
        .security_context
        .as_ref()
        .and_then(|sc| sc.fs_group);
    let required = setting.rule == GroupRule::MustRunAs;
    let details = id_problem("fsGroup", value, &setting.ranges, required, "")
        .map(|p| format!("pod {p}"))
        .into_iter()
        .collect();
    violation("fsGroup", details)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn must_run_as_requires_an_fs_group_in_range() {
        let settings =
            json!({"fsGroup": {"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 2000}]}});
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"fsGroup": 1500}, "containers": [{"name": "a"}]})
            ),
            None
        );
        assert_eq!(
            denied(
                &settings,
                json!({"securityContext": {"fsGroup": 0}, "containers": [{"name": "a"}]})
            ),
            "fsGroup (pod must set securityContext.fsGroup within 1000-2000, got 0)"
        );
        assert_eq!(
            denied(&settings, json!({"containers": [{"name": "a"}]})),
            "fsGroup (pod must set securityContext.fsGroup within 1000-2000)"
        );
    }

    #[test]
    fn may_run_as_allows_unset() {
        let settings =
            json!({"fsGroup": {"rule": "MayRunAs", "ranges": [{"min": 1000, "max": 2000}]}});
        assert_eq!(
            constrained(&settings, json!({"containers": [{"name": "a"}]})),
            None
        );
        assert!(constrained(
            &settings,
            json!({"securityContext": {"fsGroup": 1}, "containers": [{"name": "a"}]})
        )
        .is_some());
    }
}
