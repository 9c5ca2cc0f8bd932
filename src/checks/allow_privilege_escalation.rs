//! Privilege escalation through setuid binaries and file capabilities. Restricted: since v1.8
//! every container must set `allowPrivilegeEscalation: false`; since v1.25 Windows pods are
//! exempt (the field means nothing there).

use super::message::containers_phrase;
use super::{names_where, since, Check, CheckInput, CheckLevel, Violation};

pub const CHECK: Check = Check {
    id: "allowPrivilegeEscalation",
    level: CheckLevel::Restricted,
    versions: &[
        since(8, allow_privilege_escalation_1_8),
        since(25, allow_privilege_escalation_1_25),
    ],
};

pub(crate) fn allow_privilege_escalation_1_8(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let bad = names_where(input, |c| {
        c.context().and_then(|sc| sc.allow_privilege_escalation) != Some(false)
    });
    if bad.is_empty() {
        return None;
    }
    Violation::new(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&bad)
        ),
    )
}

fn allow_privilege_escalation_1_25(input: &CheckInput<'_, '_>) -> Option<Violation> {
    if input.pod.is_windows() {
        return None;
    }
    allow_privilege_escalation_1_8(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn unset_or_true_is_denied() {
        let pod = json!({"spec": {"containers": [
            {"name": "a"}, {"name": "b", "securityContext": {"allowPrivilegeEscalation": true}},
            {"name": "c", "securityContext": {"allowPrivilegeEscalation": false}}
        ]}});
        assert_eq!(
            denied(allow_privilege_escalation_1_8, pod),
            r#"allowPrivilegeEscalation != false (containers "a", "b" must set securityContext.allowPrivilegeEscalation=false)"#
        );
    }

    #[test]
    fn false_is_allowed() {
        let pod = json!({"spec": {"containers": [{"name": "c", "securityContext": {"allowPrivilegeEscalation": false}}]}});
        assert_eq!(run(allow_privilege_escalation_1_8, pod), None);
    }

    #[test]
    fn windows_pods_are_exempt_from_1_25() {
        let pod = json!({"spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]}});
        assert!(run(allow_privilege_escalation_1_8, pod.clone()).is_some());
        assert_eq!(run(allow_privilege_escalation_1_25, pod), None);
        let linux = json!({"spec": {"os": {"name": "linux"}, "containers": [{"name": "a"}]}});
        assert!(run(allow_privilege_escalation_1_25, linux).is_some());
    }
}
