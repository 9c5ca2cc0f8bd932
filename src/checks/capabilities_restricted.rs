//! Every container drops ALL capabilities and adds back nothing but NET_BIND_SERVICE.
//! Restricted: since v1.22; since v1.25 Windows pods are exempt. Replaces the baseline
//! capabilities check.

use super::capabilities_baseline::ID as CAPABILITIES_BASELINE;
use super::message::{containers_phrase, join_quoted, sorted_set};
use super::{since_overriding, Check, CheckInput, CheckLevel, Violation};

pub const ID: &str = "capabilities_restricted";

pub const CHECK: Check = Check {
    id: ID,
    level: CheckLevel::Restricted,
    versions: &[
        since_overriding(22, capabilities_restricted_1_22, &[CAPABILITIES_BASELINE]),
        since_overriding(25, capabilities_restricted_1_25, &[CAPABILITIES_BASELINE]),
    ],
};

/// Whether a `capabilities.drop` list is what restricted requires: `ALL`, spelt exactly so.
pub fn drops_all(drop: &[&str]) -> bool {
    drop.contains(&"ALL")
}

/// Whether restricted refuses `capabilities.add` naming `cap`: all but NET_BIND_SERVICE.
pub fn forbids_adding(cap: &str) -> bool {
    cap != "NET_BIND_SERVICE"
}

fn capabilities_restricted_1_22(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut missing_drop_all = Vec::new();
    let mut adding_forbidden = Vec::new();
    let mut forbidden = Vec::new();
    for c in input.containers() {
        let Some(caps) = c.context().and_then(|sc| sc.capabilities.as_ref()) else {
            missing_drop_all.push(c.name);
            continue;
        };
        if !drops_all(&caps.drop) {
            missing_drop_all.push(c.name);
        }
        let before = forbidden.len();
        forbidden.extend(caps.add.iter().filter(|cap| forbids_adding(cap)));
        if forbidden.len() > before {
            adding_forbidden.push(c.name);
        }
    }
    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            r#"{} must set securityContext.capabilities.drop=["ALL"]"#,
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding_forbidden.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding_forbidden),
            join_quoted(&sorted_set(forbidden))
        ));
    }
    if details.is_empty() {
        return None;
    }
    Violation::new("unrestricted capabilities", details.join("; "))
}

fn capabilities_restricted_1_25(input: &CheckInput<'_, '_>) -> Option<Violation> {
    if input.pod.is_windows() {
        return None;
    }
    capabilities_restricted_1_22(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn missing_drop_and_extra_adds_are_denied_together() {
        let pod = json!({"spec": {"containers": [
            {"name": "a"},
            {"name": "b", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN", "NET_BIND_SERVICE"]}}},
            {"name": "c", "securityContext": {"capabilities": {"drop": ["NET_RAW"]}}}
        ]}});
        assert_eq!(
            denied(capabilities_restricted_1_22, pod),
            r#"unrestricted capabilities (containers "a", "c" must set securityContext.capabilities.drop=["ALL"]; container "b" must not include "NET_ADMIN" in securityContext.capabilities.add)"#
        );
    }

    #[test]
    fn drop_all_with_net_bind_service_is_allowed() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}
        ]}});
        assert_eq!(run(capabilities_restricted_1_22, pod), None);
    }

    #[test]
    fn windows_pods_are_exempt_from_1_25() {
        let pod = json!({"spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]}});
        assert!(run(capabilities_restricted_1_22, pod.clone()).is_some());
        assert_eq!(run(capabilities_restricted_1_25, pod), None);
    }
}
