//! `allowedFlexVolumes`: PodSecurityPolicy's list of `{driver}`; a flexVolume volume's driver
//! must be listed. An empty list, like PSP's, allows any driver (whether flexVolume volumes are
//! allowed at all is `volumes`' business).

use super::{driver_allow_list, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedFlexVolume {
    pub driver: String,
}

crate::json_text::deserialize_by_shape!(AllowedFlexVolume { "driver" => driver } required ["driver"]);

pub const CONSTRAINT: Constraint = Constraint {
    id: "allowedFlexVolumesConstraint",
    configured: |c| {
        c.allowed_flex_volumes
            .as_ref()
            .is_some_and(|l| !l.is_empty())
    },
    evaluate,
    prepare: |c| driver_allow_list::check("allowedFlexVolumes", "driver", &drivers(c)),
};

fn drivers(constraints: &Constraints) -> Vec<&str> {
    constraints
        .allowed_flex_volumes
        .iter()
        .flatten()
        .map(|d| d.driver.as_str())
        .collect()
}

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let allowed = drivers(constraints);
    driver_allow_list::evaluate(input, &allowed, "flexVolume drivers", "flexVolume", |v| {
        (v.source_field == Some("flexVolume")).then(|| v.flex_volume_driver.unwrap_or(""))
    })
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use crate::settings::Settings;
    use serde_json::json;

    #[test]
    fn flex_volume_drivers_must_be_listed() {
        let settings =
            json!({"level": "privileged", "allowedFlexVolumes": [{"driver": "example/lvm"}]});
        let pod = |driver: &str| json!({"volumes": [{"name": "f", "flexVolume": {"driver": driver}}, {"name": "c", "csi": {"driver": "x"}}], "containers": [{"name": "a"}]});
        assert_eq!(constrained(&settings, pod("example/lvm")), None);
        assert_eq!(
            denied(&settings, pod("example/cifs")),
            r#"flexVolume drivers (volume "f" uses flexVolume driver "example/cifs" (allowed: "example/lvm"))"#
        );
        assert_eq!(
            constrained(&json!({"allowedFlexVolumes": []}), pod("any")),
            None
        );
        let err = Settings::from_json(br#"{"allowedFlexVolumes": [{"driver": ""}]}"#).unwrap_err();
        assert!(
            err.contains("allowedFlexVolumes[0].driver is empty"),
            "{err}"
        );
        let err = Settings::from_json(br#"{"allowedFlexVolumes": ["lvm"]}"#).unwrap_err();
        assert!(err.starts_with("invalid settings"), "{err}");
    }
}
