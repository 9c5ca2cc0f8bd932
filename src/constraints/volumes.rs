//! `volumes`: PodSecurityPolicy's allow-list of volume types, by PSP's names (`hostPath`,
//! `configMap`, `cephFS`, ...), `"*"` for all. Every volume's type must be listed; an empty list
//! allows no volume at all. A volume of a type this policy does not know is allowed only by `*`.

use super::{violation, Constraint, Constraints};
use crate::checks::message::join_quoted;
use crate::checks::{CheckInput, Violation};
use crate::pod::Volume;

/// PodSecurityPolicy's volume type names, plus `image`, a volume type newer than PSP.
pub const VOLUME_TYPES: &[&str] = &[
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephFS",
    "cinder",
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "hostPath",
    "image",
    "iscsi",
    "nfs",
    "persistentVolumeClaim",
    "photonPersistentDisk",
    "portworxVolume",
    "projected",
    "quobyte",
    "rbd",
    "scaleIO",
    "secret",
    "storageos",
    "vsphereVolume",
];

pub const CONSTRAINT: Constraint = Constraint {
    id: "volumesConstraint",
    configured: |c| c.volumes.is_some(),
    evaluate,
    prepare,
};

#[cfg_attr(scp_optimize_size, optimize(size))]
fn prepare(constraints: &mut Constraints) -> Result<(), String> {
    for (i, name) in constraints.volumes.iter().flatten().enumerate() {
        if name != "*" && !VOLUME_TYPES.contains(&name.as_str()) {
            return Err(format!(
                "invalid settings: volumes[{i}]: unknown volume type \"{name}\"; known types: \"*\", {}",
                join_quoted(VOLUME_TYPES)
            ));
        }
    }
    Ok(())
}

/// The volume's type as PodSecurityPolicy names it: its source field, `cephfs` spelt `cephFS`,
/// and no source at all being the `emptyDir` the API server defaults it to.
pub fn volume_type<'a>(v: &Volume<'a>) -> &'a str {
    match v.source_field {
        None => "emptyDir",
        Some("cephfs") => "cephFS",
        Some(field) => field,
    }
}

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let allowed = constraints.volumes.as_deref()?;
    if allowed.iter().any(|a| a == "*") {
        return None;
    }
    let details: Vec<String> = input
        .pod
        .volumes
        .iter()
        .filter(|v| !allowed.iter().any(|a| a == volume_type(v)))
        .map(|v| {
            format!(
                "volume \"{}\" is of type {} (allowed: {})",
                v.name,
                volume_type(v),
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    join_quoted(allowed)
                }
            )
        })
        .collect();
    violation("volume types", details)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use crate::settings::Settings;
    use serde_json::json;

    fn pod() -> serde_json::Value {
        json!({"volumes": [
            {"name": "a", "configMap": {"name": "x"}},
            {"name": "b", "cephfs": {"monitors": ["m"]}},
            {"name": "c"},
            {"name": "d", "somethingNew": {}}
        ], "containers": [{"name": "x"}]})
    }

    #[test]
    fn every_volume_type_must_be_listed() {
        let settings = json!({"level": "privileged", "volumes": ["configMap", "emptyDir"]});
        assert_eq!(
            denied(&settings, pod()),
            r#"volume types (volume "b" is of type cephFS (allowed: "configMap", "emptyDir"); volume "d" is of type somethingNew (allowed: "configMap", "emptyDir"))"#
        );
        let psp_names = json!({"volumes": ["configMap", "emptyDir", "cephFS"]});
        assert!(denied(&psp_names, pod()).contains("somethingNew"));
        assert_eq!(constrained(&json!({"volumes": ["*"]}), pod()), None);
        assert!(denied(&json!({"volumes": []}), pod()).contains("(allowed: none)"));
        assert_eq!(
            constrained(
                &json!({"volumes": []}),
                json!({"containers": [{"name": "x"}]})
            ),
            None
        );
    }

    #[test]
    fn unknown_type_names_are_invalid() {
        let err = Settings::from_json(br#"{"volumes": ["cephfs"]}"#).unwrap_err();
        assert!(
            err.contains("volumes[0]: unknown volume type \"cephfs\""),
            "{err}"
        );
    }
}
