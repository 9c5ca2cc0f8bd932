//! `appArmor`: like `seccomp`, on the effective AppArmor profile: the container's field, else
//! its legacy `container.apparmor.security.beta.kubernetes.io/<name>` annotation, else the pod's
//! field (the kubelet's order). An unset profile is the runtime default, which is what the
//! kubelet applies on an AppArmor host, so `allowedTypes: [RuntimeDefault]` accepts it.

use super::{Constraint, Constraints, ProfileType};
use crate::checks::{CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "appArmorConstraint",
    configured: |c| c.app_armor.is_some(),
    evaluate,
    prepare: |c| c.app_armor.as_ref().map_or(Ok(()), |s| s.check("appArmor")),
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let setting = constraints.app_armor.as_ref()?;
    super::profile::evaluate(
        input,
        setting,
        "AppArmor profile",
        "appArmorProfile",
        Some(ProfileType::RuntimeDefault),
        |c| c.effective.common.app_armor_profile,
    )
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn fields_and_legacy_annotations_are_both_read() {
        let settings = json!({"appArmor": {"allowedTypes": ["RuntimeDefault", "Localhost"], "allowedLocalhostProfiles": ["k8s-*"]}});
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "a"}]})
            ),
            None
        );
        let annotated = |value: &str| {
            json!({
                "metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/a": value}},
                "spec": {"containers": [{"name": "a"}]}
            })
        };
        assert_eq!(
            crate::constraints::testing::constrained_pod(
                &settings,
                annotated("localhost/k8s-nginx")
            ),
            None
        );
        assert_eq!(
            crate::constraints::testing::constrained_pod(&settings, annotated("runtime/default")),
            None
        );
        let v = crate::constraints::testing::constrained_pod(&settings, annotated("unconfined"))
            .unwrap();
        assert!(v.detail.contains(r#"got "Unconfined""#), "{v:?}");
        let v =
            crate::constraints::testing::constrained_pod(&settings, annotated("localhost/other"))
                .unwrap();
        assert!(v.detail.contains(r#"got "other""#), "{v:?}");
    }

    #[test]
    fn container_field_overrides_the_pod_field() {
        let settings = json!({"appArmor": {"allowedTypes": ["RuntimeDefault"]}});
        assert_eq!(
            denied(
                &settings,
                json!({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}]})
            ),
            r#"AppArmor profile (container "a" must set securityContext.appArmorProfile.type to "RuntimeDefault", got "Unconfined")"#
        );
        // Unset is the runtime default, which the kubelet applies on an AppArmor host.
        assert_eq!(
            constrained(&settings, json!({"containers": [{"name": "a"}]})),
            None
        );
        let localhost_only = json!({"appArmor": {"allowedTypes": ["Localhost"]}});
        assert_eq!(
            denied(&localhost_only, json!({"containers": [{"name": "a"}]})),
            r#"AppArmor profile (container "a" must set securityContext.appArmorProfile.type to "Localhost" (unset, it runs with "RuntimeDefault"))"#
        );
    }
}
