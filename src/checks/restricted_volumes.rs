//! Volume types beyond the ephemeral and API-backed ones. Restricted, since v1.0; replaces the
//! baseline hostPath check.

use super::host_path_volumes::ID as HOST_PATH_VOLUMES;
use super::message::{join_quoted, pluralize, sorted_set};
use super::{since_overriding, Check, CheckInput, CheckLevel, Violation};
use crate::pod::VolumeSource;

pub const CHECK: Check = Check {
    id: "restrictedVolumes",
    level: CheckLevel::Restricted,
    versions: &[since_overriding(
        0,
        restricted_volumes_1_0,
        &[HOST_PATH_VOLUMES],
    )],
};

fn restricted_volumes_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut bad_volumes = Vec::new();
    let mut types = Vec::new();
    for v in &input.pod.volumes {
        match v.source {
            // No source at all is what the API server defaults to emptyDir.
            VolumeSource::Allowed | VolumeSource::Unspecified => {}
            VolumeSource::Restricted(name) => {
                bad_volumes.push(v.name);
                types.push(name);
            }
            VolumeSource::Unknown => {
                bad_volumes.push(v.name);
                types.push("unknown");
            }
        }
    }
    if bad_volumes.is_empty() {
        return None;
    }
    let types = sorted_set(types);
    Violation::new(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", bad_volumes.len()),
            join_quoted(&bad_volumes),
            pluralize("uses", "use", bad_volumes.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quoted(&types)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn restricted_volume_types_are_denied() {
        let pod = json!({"spec": {"containers": [{"name": "a"}], "volumes": [
            {"name": "b", "nfs": {"server": "s", "path": "/"}},
            {"name": "a", "hostPath": {"path": "/"}},
            {"name": "c", "configMap": {"name": "x"}},
            {"name": "d", "futureVolumeType": {}}
        ]}});
        assert_eq!(
            denied(restricted_volumes_1_0, pod),
            r#"restricted volume types (volumes "b", "a", "d" use restricted volume types "hostPath", "nfs", "unknown")"#
        );
    }

    #[test]
    fn allowed_and_defaulted_volumes_pass() {
        let pod = json!({"spec": {"containers": [{"name": "a"}], "volumes": [
            {"name": "a", "emptyDir": {}}, {"name": "b", "secret": {"secretName": "s"}},
            {"name": "c", "projected": {"sources": []}}, {"name": "d", "persistentVolumeClaim": {"claimName": "x"}},
            {"name": "e", "csi": {"driver": "d"}}, {"name": "f", "ephemeral": {}}, {"name": "g", "downwardAPI": {}},
            {"name": "h", "image": {"reference": "r"}}, {"name": "i"}
        ]}});
        assert_eq!(run(restricted_volumes_1_0, pod), None);
    }
}
