//! `hostPID: false`: the pod must not share the host's PID namespace (`true` allows it).

use super::{host_namespace, nothing_to_prepare, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "hostPIDConstraint",
    configured: |c| host_namespace::forbids(c.host_pid),
    evaluate,
    prepare: nothing_to_prepare,
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    host_namespace::evaluate(constraints.host_pid, "hostPID", input.pod.host_pid)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn false_forbids_and_true_allows() {
        let pod = json!({"hostPID": true, "containers": [{"name": "a"}]});
        assert_eq!(
            denied(&json!({"hostPID": false}), pod.clone()),
            "hostPID (pod must not set hostPID=true)"
        );
        assert_eq!(constrained(&json!({"hostPID": true}), pod), None);
        assert_eq!(
            constrained(
                &json!({"hostPID": false}),
                json!({"hostPID": false, "containers": [{"name": "a"}]})
            ),
            None
        );
    }
}
