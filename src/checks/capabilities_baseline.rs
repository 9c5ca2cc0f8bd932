//! Adding capabilities beyond the container runtime's default set. Baseline, since v1.0.

use super::message::{containers_phrase, join_quoted, sorted_set};
use super::{since, Check, CheckInput, CheckLevel, Violation};

pub const ID: &str = "capabilities_baseline";

pub const CHECK: Check = Check {
    id: ID,
    level: CheckLevel::Baseline,
    versions: &[since(0, capabilities_baseline_1_0)],
};

/// The runtime's default capabilities, as far as the baseline level lets a container add them
/// back. Compared exactly, as Kubernetes does: the API server passes names to the runtime
/// verbatim.
pub const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Whether baseline refuses `capabilities.add` naming `cap`, spelt as written.
pub fn forbids_adding(cap: &str) -> bool {
    !DEFAULT_CAPABILITIES.contains(&cap)
}

fn capabilities_baseline_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut bad_containers = Vec::new();
    let mut forbidden = Vec::new();
    for c in input.containers() {
        let Some(caps) = c.context().and_then(|sc| sc.capabilities.as_ref()) else {
            continue;
        };
        let before = forbidden.len();
        forbidden.extend(caps.add.iter().filter(|cap| forbids_adding(cap)));
        if forbidden.len() > before {
            bad_containers.push(c.name);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    Violation::new(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad_containers),
            join_quoted(&sorted_set(forbidden))
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn non_default_capabilities_are_denied() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "CHOWN", "NET_RAW"]}}},
            {"name": "b", "securityContext": {"capabilities": {"add": ["NET_RAW"]}}},
            {"name": "c", "securityContext": {"capabilities": {"add": ["KILL"]}}}
        ]}});
        assert_eq!(
            denied(capabilities_baseline_1_0, pod),
            r#"non-default capabilities (containers "a", "b" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)"#
        );
    }

    #[test]
    fn default_capabilities_and_drops_are_allowed() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN"], "drop": ["ALL"]}}}
        ]}});
        assert_eq!(run(capabilities_baseline_1_0, pod), None);
    }

    #[test]
    fn names_are_compared_exactly_like_upstream() {
        // Pod Security Admission does not normalise case or the CAP_ prefix.
        let pod = json!({"spec": {"containers": [
            {"name": "a", "securityContext": {"capabilities": {"add": ["chown"]}}}
        ]}});
        assert!(run(capabilities_baseline_1_0, pod).is_some());
    }
}
