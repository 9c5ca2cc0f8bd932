//! `supplementalGroups`, a pod-level list: MustRunAs requires at least one entry and every
//! entry in range, MayRunAs every entry in range.

use super::id_range::{check_ranges, describe, in_ranges, GroupRule};
use super::{violation, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "supplementalGroupsConstraint",
    configured: |c| c.supplemental_groups.is_some(),
    evaluate,
    prepare: |c| match &c.supplemental_groups {
        Some(s) => check_ranges(
            "supplementalGroups",
            &s.ranges,
            s.rule != GroupRule::RunAsAny,
        ),
        None => Ok(()),
    },
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let setting = constraints.supplemental_groups.as_ref()?;
    if setting.rule == GroupRule::RunAsAny {
        return None;
    }
    let groups = input
        .pod
        .security_context
        .as_ref()
        .map(|sc| sc.supplemental_groups.as_slice())
        .unwrap_or_default();
    let mut details = Vec::new();
    if groups.is_empty() && setting.rule == GroupRule::MustRunAs {
        details.push(format!(
            "pod must set securityContext.supplementalGroups, every entry within {}",
            describe(&setting.ranges)
        ));
    }
    let outside: Vec<String> = groups
        .iter()
        .filter(|g| !in_ranges(**g, &setting.ranges))
        .map(|g| g.to_string())
        .collect();
    if !outside.is_empty() {
        details.push(format!(
            "pod must set securityContext.supplementalGroups within {}, got {}",
            describe(&setting.ranges),
            outside.join(", ")
        ));
    }
    violation("supplementalGroups", details)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn must_run_as_requires_entries_all_in_range() {
        let settings = json!({"supplementalGroups": {"rule": "MustRunAs", "ranges": [{"min": 100, "max": 200}]}});
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"supplementalGroups": [100, 200]}, "containers": [{"name": "a"}]})
            ),
            None
        );
        assert_eq!(
            denied(&settings, json!({"securityContext": {"supplementalGroups": [100, 0, 300]}, "containers": [{"name": "a"}]})),
            "supplementalGroups (pod must set securityContext.supplementalGroups within 100-200, got 0, 300)"
        );
        assert!(denied(&settings, json!({"containers": [{"name": "a"}]}))
            .contains("every entry within 100-200"));
    }

    #[test]
    fn may_run_as_allows_none() {
        let settings = json!({"supplementalGroups": {"rule": "MayRunAs", "ranges": [{"min": 100, "max": 200}]}});
        assert_eq!(
            constrained(&settings, json!({"containers": [{"name": "a"}]})),
            None
        );
        assert!(constrained(
            &settings,
            json!({"securityContext": {"supplementalGroups": [5]}, "containers": [{"name": "a"}]})
        )
        .is_some());
    }
}
