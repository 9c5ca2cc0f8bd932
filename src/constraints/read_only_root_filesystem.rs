//! `readOnlyRootFilesystem: true`: every container mounts its root filesystem read-only.

use super::{nothing_to_prepare, Constraint, Constraints};
use crate::checks::message::containers_phrase;
use crate::checks::{names_where, CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "readOnlyRootFilesystemConstraint",
    configured: |c| c.read_only_root_filesystem == Some(true),
    evaluate,
    prepare: nothing_to_prepare,
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    if constraints.read_only_root_filesystem != Some(true) {
        return None;
    }
    let bad = names_where(input, |c| {
        c.effective.read_only_root_filesystem != Some(true)
    });
    if bad.is_empty() {
        return None;
    }
    Violation::new(
        "readOnlyRootFilesystem != true",
        format!(
            "{} must set securityContext.readOnlyRootFilesystem=true",
            containers_phrase(&bad)
        ),
    )
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn every_container_must_be_read_only() {
        let settings = json!({"readOnlyRootFilesystem": true});
        assert_eq!(
            denied(
                &settings,
                json!({"initContainers": [{"name": "i"}], "containers": [
                    {"name": "a", "securityContext": {"readOnlyRootFilesystem": true}},
                    {"name": "b", "securityContext": {"readOnlyRootFilesystem": false}}
                ]})
            ),
            r#"readOnlyRootFilesystem != true (containers "i", "b" must set securityContext.readOnlyRootFilesystem=true)"#
        );
        assert_eq!(
            constrained(
                &settings,
                json!({"containers": [{"name": "a", "securityContext": {"readOnlyRootFilesystem": true}}]})
            ),
            None
        );
        assert_eq!(
            constrained(
                &json!({"readOnlyRootFilesystem": false}),
                json!({"containers": [{"name": "a"}]})
            ),
            None
        );
    }
}
