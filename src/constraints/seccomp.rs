//! `seccomp`: every container's effective seccomp profile is set, of an allowed type, and a
//! Localhost profile's name matches an allowed pattern as a whole (not by suffix).

use super::{Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

pub const CONSTRAINT: Constraint = Constraint {
    id: "seccompConstraint",
    configured: |c| c.seccomp.is_some(),
    evaluate,
    prepare: |c| c.seccomp.as_ref().map_or(Ok(()), |s| s.check("seccomp")),
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let setting = constraints.seccomp.as_ref()?;
    super::profile::evaluate(
        input,
        setting,
        "seccompProfile",
        "seccompProfile",
        None,
        |c| c.effective.common.seccomp_profile,
    )
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use crate::settings::Settings;
    use serde_json::json;

    #[test]
    fn the_effective_profile_must_be_set_and_allowed() {
        let settings = json!({"seccomp": {"allowedTypes": ["RuntimeDefault"]}});
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "a"}]})
            ),
            None
        );
        assert_eq!(
            denied(
                &settings,
                json!({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]})
            ),
            r#"seccompProfile (container "a" must set securityContext.seccompProfile.type to "RuntimeDefault", got "Unconfined")"#
        );
        // A container's allowed profile overrides a pod's forbidden one.
        assert_eq!(
            constrained(
                &settings,
                json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}]})
            ),
            None
        );
        assert!(
            denied(&settings, json!({"containers": [{"name": "a"}]})).contains("set on neither")
        );
    }

    #[test]
    fn localhost_profiles_match_whole_names_not_suffixes() {
        let settings = json!({"seccomp": {"allowedTypes": ["Localhost"], "allowedLocalhostProfiles": ["profiles/audit.json", "approved/*"]}});
        let pod = |name: &str| json!({"containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": name}}}]});
        assert_eq!(constrained(&settings, pod("profiles/audit.json")), None);
        assert_eq!(constrained(&settings, pod("approved/x.json")), None);
        assert_eq!(
            denied(&settings, pod("evil/profiles/audit.json")),
            r#"seccompProfile (container "a" must set securityContext.seccompProfile.localhostProfile to match "profiles/audit.json", "approved/*", got "evil/profiles/audit.json")"#
        );
    }

    #[test]
    fn bad_settings_are_rejected() {
        let err = Settings::from_json(br#"{"seccomp": {"allowedTypes": ["runtime/default"]}}"#)
            .unwrap_err();
        assert!(
            err.contains("unknown profile type \"runtime/default\""),
            "{err}"
        );
        let err = Settings::from_json(br#"{"seccomp": {"allowedTypes": []}}"#).unwrap_err();
        assert!(err.contains("allowedTypes is empty"), "{err}");
        let err = Settings::from_json(br#"{"seccomp": {"allowedTypes": ["RuntimeDefault"], "allowedLocalhostProfiles": ["x"]}}"#).unwrap_err();
        assert!(err.contains("does not allow Localhost"), "{err}");
        let err = Settings::from_json(
            br#"{"seccomp": {"allowedTypes": ["Localhost"], "allowedLocalhostProfiles": [""]}}"#,
        )
        .unwrap_err();
        assert!(
            err.contains("invalid image pattern") || err.contains("pattern"),
            "{err}"
        );
    }
}
