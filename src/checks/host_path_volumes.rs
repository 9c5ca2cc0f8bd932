//! hostPath volumes expose the node's filesystem. Baseline, since v1.0.

use super::message::{join_quoted, pluralize};
use super::{since, Check, CheckInput, CheckLevel, Violation};

pub const ID: &str = "hostPathVolumes";

pub const CHECK: Check = Check {
    id: ID,
    level: CheckLevel::Baseline,
    versions: &[since(0, host_path_volumes_1_0)],
};

fn host_path_volumes_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let bad: Vec<&str> = input
        .pod
        .volumes
        .iter()
        .filter(|v| v.host_path)
        .map(|v| v.name)
        .collect();
    if bad.is_empty() {
        return None;
    }
    Violation::new(
        "hostPath volumes",
        format!(
            "{} {}",
            pluralize("volume", "volumes", bad.len()),
            join_quoted(&bad)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn host_path_volumes_are_denied() {
        let pod = json!({"spec": {"containers": [{"name": "a"}], "volumes": [
            {"name": "v1", "hostPath": {"path": "/"}}, {"name": "v2", "emptyDir": {}},
            {"name": "v3", "hostPath": {"path": "/etc"}}
        ]}});
        assert_eq!(
            denied(host_path_volumes_1_0, pod),
            r#"hostPath volumes (volumes "v1", "v3")"#
        );
    }

    #[test]
    fn other_volumes_are_allowed() {
        let pod =
            json!({"spec": {"containers": [{"name": "a"}], "volumes": [{"name": "v", "nfs": {}}]}});
        assert_eq!(run(host_path_volumes_1_0, pod), None);
    }
}
