//! `hostIPC: false`: the pod must not share the host's IPC namespace (`true` allows it).

use super::{host_namespace, nothing_to_prepare, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "hostIPCConstraint",
    configured: |c| host_namespace::forbids(c.host_ipc),
    evaluate,
    prepare: nothing_to_prepare,
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    host_namespace::evaluate(constraints.host_ipc, "hostIPC", input.pod.host_ipc)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn false_forbids_and_true_allows() {
        let pod = json!({"hostIPC": true, "containers": [{"name": "a"}]});
        assert_eq!(
            denied(&json!({"hostIPC": false}), pod.clone()),
            "hostIPC (pod must not set hostIPC=true)"
        );
        assert_eq!(constrained(&json!({"hostIPC": true}), pod), None);
        assert_eq!(
            constrained(
                &json!({"hostIPC": false}),
                json!({"hostIPC": false, "containers": [{"name": "a"}]})
            ),
            None
        );
    }
}
