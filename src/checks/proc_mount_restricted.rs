//! Unmasked /proc at the restricted level: since v1.35 it replaces the baseline check and keeps
//! forbidding any procMount but `Default`, user namespace or not.

use super::proc_mount::{forbid_non_default, ID as PROC_MOUNT_BASELINE};
use super::{since_overriding, Check, CheckInput, CheckLevel, Violation};

pub const CHECK: Check = Check {
    id: "procMount_restricted",
    level: CheckLevel::Restricted,
    versions: &[since_overriding(
        35,
        proc_mount_restricted_1_35,
        &[PROC_MOUNT_BASELINE],
    )],
};

fn proc_mount_restricted_1_35(input: &CheckInput<'_, '_>) -> Option<Violation> {
    forbid_non_default(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::run;
    use serde_json::json;

    #[test]
    fn user_namespaces_do_not_relax_it() {
        let pod = json!({"spec": {"hostUsers": false, "containers": [
            {"name": "a", "securityContext": {"procMount": "Unmasked"}}
        ]}});
        assert!(run(proc_mount_restricted_1_35, pod).is_some());
    }

    #[test]
    fn default_is_allowed() {
        let pod = json!({"spec": {"hostUsers": false, "containers": [{"name": "a"}]}});
        assert_eq!(run(proc_mount_restricted_1_35, pod), None);
    }
}
