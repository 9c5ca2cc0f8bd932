//! Privileged containers disable most security mechanisms. Baseline, since v1.0.

use super::message::containers_phrase;
use super::{names_where, since, Check, CheckInput, CheckLevel, Violation};

pub const ID: &str = "privileged";

pub const CHECK: Check = Check {
    id: ID,
    level: CheckLevel::Baseline,
    versions: &[since(0, privileged_1_0)],
};

fn privileged_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let bad = names_where(input, |c| {
        c.context().and_then(|sc| sc.privileged) == Some(true)
    });
    if bad.is_empty() {
        return None;
    }
    Violation::new(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&bad)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn privileged_containers_are_denied() {
        let pod = json!({"spec": {
            "initContainers": [{"name": "i", "securityContext": {"privileged": true}}],
            "containers": [{"name": "a", "securityContext": {"privileged": true}}, {"name": "b"}],
            "ephemeralContainers": [{"name": "e", "securityContext": {"privileged": true}}]
        }});
        assert_eq!(
            denied(privileged_1_0, pod),
            r#"privileged (containers "i", "a", "e" must not set securityContext.privileged=true)"#
        );
    }

    #[test]
    fn unprivileged_containers_are_allowed() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "securityContext": {"privileged": false}}, {"name": "b"}
        ]}});
        assert_eq!(run(privileged_1_0, pod), None);
    }
}
