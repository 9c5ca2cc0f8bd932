//! Unmasked /proc. Baseline: since v1.0 any procMount but `Default` is forbidden; since v1.35
//! anything goes for pods in their own user namespace (`hostUsers: false`).

use super::message::{containers_phrase, join_quoted, sorted_set};
use super::{since, Check, CheckInput, CheckLevel, Violation};

pub const ID: &str = "procMount";

pub const CHECK: Check = Check {
    id: ID,
    level: CheckLevel::Baseline,
    versions: &[since(0, proc_mount_1_0), since(35, proc_mount_1_35)],
};

/// Shared with the restricted twin, which drops the user-namespace relaxation.
pub(super) fn forbid_non_default(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut bad_containers = Vec::new();
    let mut types = Vec::new();
    for c in input.containers() {
        if let Some(pm) = c.context().and_then(|sc| sc.proc_mount) {
            if pm != "Default" {
                bad_containers.push(c.name);
                types.push(pm);
            }
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    Violation::new(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&bad_containers),
            join_quoted(&sorted_set(types))
        ),
    )
}

fn proc_mount_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    forbid_non_default(input)
}

fn proc_mount_1_35(input: &CheckInput<'_, '_>) -> Option<Violation> {
    if input.pod.in_user_namespace() {
        return None;
    }
    forbid_non_default(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    fn unmasked(host_users: Option<bool>) -> serde_json::Value {
        let mut pod = json!({"spec": {"containers": [
            {"name": "a", "securityContext": {"procMount": "Unmasked"}},
            {"name": "b", "securityContext": {"procMount": "Default"}}
        ]}});
        if let Some(h) = host_users {
            pod["spec"]["hostUsers"] = json!(h);
        }
        pod
    }

    #[test]
    fn unmasked_is_denied() {
        assert_eq!(
            denied(proc_mount_1_0, unmasked(None)),
            r#"procMount (container "a" must not set securityContext.procMount to "Unmasked")"#
        );
        assert!(run(proc_mount_1_35, unmasked(Some(true))).is_some());
    }

    #[test]
    fn user_namespaces_relax_it_from_1_35_only() {
        assert!(run(proc_mount_1_0, unmasked(Some(false))).is_some());
        assert_eq!(run(proc_mount_1_35, unmasked(Some(false))), None);
    }

    #[test]
    fn default_is_allowed() {
        let pod = json!({"spec": {"containers": [{"name": "b", "securityContext": {"procMount": "Default"}}]}});
        assert_eq!(run(proc_mount_1_0, pod), None);
    }
}
