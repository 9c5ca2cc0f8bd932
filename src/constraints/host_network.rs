//! `hostNetwork: false`: the pod must not share the host's Network namespace (`true` allows it).

use super::{host_namespace, nothing_to_prepare, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "hostNetworkConstraint",
    configured: |c| host_namespace::forbids(c.host_network),
    evaluate,
    prepare: nothing_to_prepare,
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    host_namespace::evaluate(
        constraints.host_network,
        "hostNetwork",
        input.pod.host_network,
    )
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn false_forbids_and_true_allows() {
        let pod = json!({"hostNetwork": true, "containers": [{"name": "a"}]});
        assert_eq!(
            denied(&json!({"hostNetwork": false}), pod.clone()),
            "hostNetwork (pod must not set hostNetwork=true)"
        );
        assert_eq!(constrained(&json!({"hostNetwork": true}), pod), None);
        assert_eq!(
            constrained(
                &json!({"hostNetwork": false}),
                json!({"hostNetwork": false, "containers": [{"name": "a"}]})
            ),
            None
        );
    }
}
