//! `allowedProcMountTypes`: PodSecurityPolicy's list of procMount types (`Default`,
//! `Unmasked`); every container's procMount, unset meaning `Default`, must be listed. An empty
//! list allows `Default` only, as in PSP.

use super::{container_subject, violation, Constraint, Constraints};
use crate::checks::message::join_quoted;
use crate::checks::{CheckInput, Violation};

const PROC_MOUNT_TYPES: &[&str] = &["Default", "Unmasked"];

pub const CONSTRAINT: Constraint = Constraint {
    id: "allowedProcMountTypesConstraint",
    configured: |c| c.allowed_proc_mount_types.is_some(),
    evaluate,
    prepare,
};

#[cfg_attr(scp_optimize_size, optimize(size))]
fn prepare(constraints: &mut Constraints) -> Result<(), String> {
    let Some(types) = constraints.allowed_proc_mount_types.as_mut() else {
        return Ok(());
    };
    for (i, t) in types.iter().enumerate() {
        if !PROC_MOUNT_TYPES.contains(&t.as_str()) {
            return Err(format!(
                "invalid settings: allowedProcMountTypes[{i}]: unknown procMount type \"{t}\"; expected \"Default\" or \"Unmasked\""
            ));
        }
    }
    if types.is_empty() {
        types.push("Default".to_string());
    }
    Ok(())
}

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let allowed = constraints.allowed_proc_mount_types.as_deref()?;
    let mut details = Vec::new();
    for c in input.containers() {
        let proc_mount = c.effective.proc_mount.unwrap_or("Default");
        if !allowed.iter().any(|a| a == proc_mount) {
            details.push(format!(
                "{} must not set securityContext.procMount to \"{proc_mount}\" (allowed: {})",
                container_subject(c.name),
                join_quoted(allowed)
            ));
        }
    }
    violation("procMount", details)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use crate::settings::Settings;
    use serde_json::json;

    fn pod(proc_mount: &str) -> serde_json::Value {
        json!({
            "initContainers": [{"name": "i", "securityContext": {"procMount": proc_mount}}],
            "containers": [{"name": "a"}],
            "ephemeralContainers": [{"name": "e", "securityContext": {"procMount": proc_mount}}]
        })
    }

    #[test]
    fn proc_mount_types_must_be_listed() {
        let settings = json!({"level": "privileged", "allowedProcMountTypes": []});
        assert_eq!(constrained(&settings, pod("Default")), None);
        assert_eq!(
            denied(&settings, pod("Unmasked")),
            r#"procMount (container "i" must not set securityContext.procMount to "Unmasked" (allowed: "Default"); container "e" must not set securityContext.procMount to "Unmasked" (allowed: "Default"))"#
        );
        let unmasked = json!({"allowedProcMountTypes": ["Default", "Unmasked"]});
        assert_eq!(constrained(&unmasked, pod("Unmasked")), None);
        let err = Settings::from_json(br#"{"allowedProcMountTypes": ["unmasked"]}"#).unwrap_err();
        assert!(err.contains("unknown procMount type \"unmasked\""), "{err}");
    }
}
