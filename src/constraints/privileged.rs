//! `privileged: false`: no container may run privileged, whatever the level (`true` allows it).
//! The judgement is the baseline check's, applied independently of the level.

use super::{host_namespace::forbids, nothing_to_prepare, Constraint, Constraints};
use crate::checks::{privileged, CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "privilegedConstraint",
    configured: |c| forbids(c.privileged),
    evaluate,
    prepare: nothing_to_prepare,
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    if !forbids(constraints.privileged) {
        return None;
    }
    privileged::privileged_1_0(input)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn every_kind_of_container_is_checked() {
        let settings = json!({"privileged": false, "level": "privileged"});
        let privileged = json!({"privileged": true});
        assert_eq!(
            denied(
                &settings,
                json!({
                    "initContainers": [{"name": "i", "securityContext": privileged}],
                    "containers": [{"name": "a"}, {"name": "b", "securityContext": {"privileged": false}}],
                    "ephemeralContainers": [{"name": "e", "securityContext": privileged}]
                })
            ),
            r#"privileged (containers "i", "e" must not set securityContext.privileged=true)"#
        );
        assert_eq!(
            constrained(
                &json!({"privileged": true}),
                json!({"containers": [{"name": "a", "securityContext": privileged}]})
            ),
            None
        );
    }
}
