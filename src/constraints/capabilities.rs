//! `capabilities`: every added capability must be allowed, every container must drop each
//! required one. Names are compared after normalisation (case-insensitive, an optional `CAP_`
//! prefix dropped), so `sys_admin`, `CAP_SYS_ADMIN` and `SYS_ADMIN` are one capability. `ALL`
//! added counts as every capability; `ALL` dropped satisfies every required drop.

use super::{container_subject, violation, Constraint, Constraints};
use crate::checks::message::join_quoted;
use crate::checks::{CheckInput, Violation};

#[derive(Debug, Clone, Default)]
pub struct CapabilitiesConstraint {
    /// Capabilities a container may add; `"*"` allows any. Absent: adds are not constrained.
    pub allowed_add: Option<Vec<String>>,
    /// Capabilities every container must drop.
    pub required_drop: Vec<String>,
    /// Capabilities mutation adds to every container that does not drop them
    /// (PodSecurityPolicy's `defaultAddCapabilities`); adding them is allowed.
    pub default_add: Vec<String>,
}

crate::json_text::deserialize_by_shape!(CapabilitiesConstraint {
    "allowedAdd" => allowed_add,
    "requiredDrop" => required_drop,
    "defaultAdd" => default_add,
});

pub const ID: &str = "capabilitiesConstraint";

pub const CONSTRAINT: Constraint = Constraint {
    id: ID,
    configured: |c| c.capabilities.is_some(),
    evaluate,
    prepare,
};

/// `cap_sys_admin` → `SYS_ADMIN`
pub fn normalize(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(rest) => rest.to_string(),
        None => upper,
    }
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn prepare(constraints: &mut Constraints) -> Result<(), String> {
    let Some(caps) = constraints.capabilities.as_mut() else {
        return Ok(());
    };
    let clean = |list: &mut Vec<String>, key: &str| -> Result<(), String> {
        for name in list.iter_mut() {
            let n = if name.trim() == "*" {
                "*".to_string()
            } else {
                normalize(name)
            };
            if n.is_empty() {
                return Err(format!(
                    "invalid settings: capabilities.{key} has an empty name"
                ));
            }
            *name = n;
        }
        // Unstable is stable for equal strings, and it shares its code with every other sort.
        list.sort_unstable();
        list.dedup();
        Ok(())
    };
    if let Some(add) = caps.allowed_add.as_mut() {
        clean(add, "allowedAdd")?;
    }
    clean(&mut caps.required_drop, "requiredDrop")?;
    clean(&mut caps.default_add, "defaultAdd")?;
    if caps.default_add.iter().any(|c| c == "*" || c == "ALL") {
        return Err("invalid settings: capabilities.defaultAdd must name capabilities, not \"*\" or \"ALL\"".to_string());
    }
    for name in &caps.default_add {
        if caps.required_drop.contains(name) {
            return Err(format!(
                "invalid settings: capability \"{name}\" is both in capabilities.defaultAdd and capabilities.requiredDrop"
            ));
        }
    }
    if caps.required_drop.iter().any(|c| c == "*") {
        return Err("invalid settings: capabilities.requiredDrop cannot contain \"*\"; use \"ALL\" to require dropping every capability".to_string());
    }
    if let Some(add) = &caps.allowed_add {
        for name in &caps.required_drop {
            // Dropping ALL and adding some back is the usual pattern, not a contradiction.
            if add.contains(name) {
                return Err(format!(
                    "invalid settings: capability \"{name}\" is both in capabilities.allowedAdd and capabilities.requiredDrop"
                ));
            }
        }
    }
    Ok(())
}

impl CapabilitiesConstraint {
    /// The added capabilities (normalised) this constraint refuses, sorted, without repeats.
    pub fn forbidden_adds<'n>(&self, added: &'n [String]) -> Vec<&'n str> {
        let any_allowed = self
            .allowed_add
            .as_ref()
            .is_none_or(|a| a.iter().any(|c| c == "*"));
        if any_allowed {
            return Vec::new();
        }
        let allowed = self.allowed_add.as_deref().unwrap_or_default();
        let mut forbidden: Vec<&str> = added
            .iter()
            .filter(|a| !allowed.contains(a) && !self.default_add.contains(a))
            .map(String::as_str)
            .collect();
        forbidden.sort_unstable();
        forbidden.dedup();
        forbidden
    }

    /// The required drops (normalised) missing from `dropped`; none when it drops ALL.
    pub fn missing_drops(&self, dropped: &[String]) -> Vec<&str> {
        if dropped.iter().any(|d| d == "ALL") {
            return Vec::new();
        }
        self.required_drop
            .iter()
            .filter(|r| !dropped.contains(r))
            .map(String::as_str)
            .collect()
    }
}

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let setting = constraints.capabilities.as_ref()?;
    let mut details = Vec::new();
    for c in input.containers() {
        let caps = c.context().and_then(|sc| sc.capabilities.as_ref());
        let added: Vec<String> = caps
            .map(|k| k.add.iter().map(|a| normalize(a)).collect())
            .unwrap_or_default();
        let dropped: Vec<String> = caps
            .map(|k| k.drop.iter().map(|d| normalize(d)).collect())
            .unwrap_or_default();
        let forbidden = setting.forbidden_adds(&added);
        if !forbidden.is_empty() {
            let allowed = setting.allowed_add.as_deref().unwrap_or_default();
            details.push(format!(
                "{} must not add {} to securityContext.capabilities.add (allowed: {})",
                container_subject(c.name),
                join_quoted(&forbidden),
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    join_quoted(allowed)
                }
            ));
        }
        let missing = setting.missing_drops(&dropped);
        if !missing.is_empty() {
            details.push(format!(
                "{} must drop {} in securityContext.capabilities.drop",
                container_subject(c.name),
                join_quoted(&missing)
            ));
        }
    }
    violation("capabilities", details)
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use crate::constraints::testing::{constrained, denied};
    use crate::settings::Settings;
    use serde_json::json;

    fn caps(add: &[&str], drop: &[&str]) -> serde_json::Value {
        json!({"containers": [{"name": "app", "securityContext": {"capabilities": {"add": add, "drop": drop}}}]})
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalize("sys_admin"), "SYS_ADMIN");
        assert_eq!(normalize("CAP_SYS_ADMIN"), "SYS_ADMIN");
        assert_eq!(normalize("cap_net_raw"), "NET_RAW");
        let settings = json!({"capabilities": {"allowedAdd": ["cap_net_bind_service"]}});
        assert_eq!(
            constrained(&settings, caps(&["NET_BIND_SERVICE"], &[])),
            None
        );
        assert_eq!(
            constrained(&settings, caps(&["CAP_NET_BIND_SERVICE"], &[])),
            None
        );
        for spelling in ["sys_admin", "CAP_SYS_ADMIN", "SYS_ADMIN", "Cap_Sys_Admin"] {
            assert_eq!(
                denied(&settings, caps(&[spelling], &[])),
                r#"capabilities (container "app" must not add "SYS_ADMIN" to securityContext.capabilities.add (allowed: "NET_BIND_SERVICE"))"#,
                "{spelling}"
            );
        }
    }

    #[test]
    fn adding_all_counts_as_every_capability() {
        let settings = json!({"capabilities": {"allowedAdd": ["NET_BIND_SERVICE", "CHOWN"]}});
        assert!(denied(&settings, caps(&["ALL"], &[])).contains(r#"must not add "ALL""#));
        assert_eq!(
            constrained(
                &json!({"capabilities": {"allowedAdd": ["*"]}}),
                caps(&["ALL", "SYS_ADMIN"], &[])
            ),
            None
        );
        assert!(constrained(
            &json!({"capabilities": {"allowedAdd": []}}),
            caps(&["CHOWN"], &[])
        )
        .is_some());
    }

    #[test]
    fn required_drops_are_checked_and_all_satisfies_them() {
        let settings = json!({"capabilities": {"requiredDrop": ["net_raw", "CAP_SYS_ADMIN"]}});
        assert_eq!(
            denied(&settings, caps(&[], &["NET_RAW"])),
            r#"capabilities (container "app" must drop "SYS_ADMIN" in securityContext.capabilities.drop)"#
        );
        assert_eq!(
            constrained(&settings, caps(&[], &["cap_net_raw", "sys_admin"])),
            None
        );
        assert_eq!(constrained(&settings, caps(&[], &["all"])), None);
        assert!(constrained(&settings, json!({"containers": [{"name": "app"}]})).is_some());
    }

    #[test]
    fn default_adds_are_allowed_adds() {
        let settings = json!({"capabilities": {"allowedAdd": [], "defaultAdd": ["chown"]}});
        assert_eq!(constrained(&settings, caps(&["CHOWN"], &[])), None);
        assert!(denied(&settings, caps(&["CHOWN", "NET_RAW"], &[]))
            .contains(r#"must not add "NET_RAW""#));
        let err = Settings::from_json(
            br#"{"capabilities": {"defaultAdd": ["NET_RAW"], "requiredDrop": ["net_raw"]}}"#,
        )
        .unwrap_err();
        assert!(
            err.contains("both in capabilities.defaultAdd and capabilities.requiredDrop"),
            "{err}"
        );
    }

    #[test]
    fn contradictory_settings_are_rejected() {
        let err = Settings::from_json(br#"{"capabilities": {"allowedAdd": ["SYS_ADMIN"], "requiredDrop": ["cap_sys_admin"]}}"#).unwrap_err();
        assert!(err.contains(r#"capability "SYS_ADMIN" is both in capabilities.allowedAdd and capabilities.requiredDrop"#), "{err}");
        let err = Settings::from_json(br#"{"capabilities": {"allowedAdd": [""]}}"#).unwrap_err();
        assert!(err.contains("empty name"), "{err}");
        assert!(Settings::from_json(
            br#"{"capabilities": {"allowedAdd": ["NET_BIND_SERVICE"], "requiredDrop": ["ALL"]}}"#
        )
        .is_ok());
        assert!(Settings::from_json(
            br#"{"capabilities": {"allowedAdd": ["CHOWN"], "requiredDrops": []}}"#
        )
        .unwrap_err()
        .contains("unknown field `requiredDrops`"));
    }
}
