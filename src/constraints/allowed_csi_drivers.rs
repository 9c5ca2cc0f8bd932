//! `allowedCSIDrivers`: PodSecurityPolicy's list of `{name}`; an inline CSI volume's driver must
//! be listed. An empty list, like PSP's, allows any driver (whether csi volumes are allowed at
//! all is `volumes`' business). Persistent volumes are not inline and not checked.

use super::{driver_allow_list, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedCsiDriver {
    pub name: String,
}

crate::json_text::deserialize_by_shape!(AllowedCsiDriver { "name" => name } required ["name"]);

pub const CONSTRAINT: Constraint = Constraint {
    id: "allowedCSIDriversConstraint",
    configured: |c| {
        c.allowed_csi_drivers
            .as_ref()
            .is_some_and(|l| !l.is_empty())
    },
    evaluate,
    prepare: |c| driver_allow_list::check("allowedCSIDrivers", "name", &drivers(c)),
};

fn drivers(constraints: &Constraints) -> Vec<&str> {
    constraints
        .allowed_csi_drivers
        .iter()
        .flatten()
        .map(|d| d.name.as_str())
        .collect()
}

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let allowed = drivers(constraints);
    driver_allow_list::evaluate(input, &allowed, "CSI drivers", "inline CSI", |v| {
        (v.source_field == Some("csi")).then(|| v.csi_driver.unwrap_or(""))
    })
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn inline_csi_drivers_must_be_listed() {
        let settings = json!({"allowedCSIDrivers": [{"name": "secrets-store.csi.k8s.io"}]});
        let pod = |driver: &str| json!({"volumes": [{"name": "s", "csi": {"driver": driver}}, {"name": "f", "flexVolume": {"driver": "x"}}], "containers": [{"name": "a"}]});
        assert_eq!(
            constrained(&settings, pod("secrets-store.csi.k8s.io")),
            None
        );
        assert_eq!(
            denied(&settings, pod("evil.csi.example.com")),
            r#"CSI drivers (volume "s" uses inline CSI driver "evil.csi.example.com" (allowed: "secrets-store.csi.k8s.io"))"#
        );
    }
}
