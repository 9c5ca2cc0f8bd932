//! `runtimeClass`: PodSecurityPolicy's `{allowedRuntimeClassNames, defaultRuntimeClassName}`.
//! A pod that names a runtime class must name a listed one (`"*"` allows any); a pod that names
//! none is allowed, as in PSP. The default is what mutation sets on a pod that names none.

use super::{violation, Constraint, Constraints};
use crate::checks::message::join_quoted;
use crate::checks::{CheckInput, Violation};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeClassConstraint {
    pub allowed_runtime_class_names: Vec<String>,
    pub default_runtime_class_name: Option<String>,
}

crate::json_text::deserialize_by_shape!(RuntimeClassConstraint {
    "allowedRuntimeClassNames" => allowed_runtime_class_names,
    "defaultRuntimeClassName" => default_runtime_class_name,
} required ["allowedRuntimeClassNames"]);

impl RuntimeClassConstraint {
    fn allows(&self, name: &str) -> bool {
        self.allowed_runtime_class_names
            .iter()
            .any(|a| a == "*" || a == name)
    }
}

pub const CONSTRAINT: Constraint = Constraint {
    id: "runtimeClassConstraint",
    configured: |c| c.runtime_class.is_some(),
    evaluate,
    prepare,
};

#[cfg_attr(scp_optimize_size, optimize(size))]
fn prepare(constraints: &mut Constraints) -> Result<(), String> {
    let Some(rc) = constraints.runtime_class.as_ref() else {
        return Ok(());
    };
    let names = &rc.allowed_runtime_class_names;
    if let Some(i) = names.iter().position(|n| n.is_empty()) {
        return Err(format!(
            "invalid settings: runtimeClass.allowedRuntimeClassNames[{i}] is empty"
        ));
    }
    if names.len() > 1 && names.iter().any(|n| n == "*") {
        return Err("invalid settings: runtimeClass.allowedRuntimeClassNames: \"*\" must be the only entry when present".to_string());
    }
    if let Some(default) = &rc.default_runtime_class_name {
        if default.is_empty() || !rc.allows(default) {
            return Err(format!(
                "invalid settings: runtimeClass.defaultRuntimeClassName \"{default}\" is not in runtimeClass.allowedRuntimeClassNames"
            ));
        }
    }
    Ok(())
}

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let rc = constraints.runtime_class.as_ref()?;
    let name = input.pod.runtime_class_name?;
    if rc.allows(name) {
        return None;
    }
    let allowed = &rc.allowed_runtime_class_names;
    violation(
        "runtimeClassName",
        vec![format!(
            "pod must not set runtimeClassName \"{name}\" (allowed: {})",
            if allowed.is_empty() {
                "none".to_string()
            } else {
                join_quoted(allowed)
            }
        )],
    )
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use crate::settings::Settings;
    use serde_json::json;

    #[test]
    fn named_runtime_classes_must_be_listed() {
        let settings = json!({"runtimeClass": {"allowedRuntimeClassNames": ["gvisor"], "defaultRuntimeClassName": "gvisor"}});
        let pod = |rc: Option<&str>| json!({"runtimeClassName": rc, "containers": [{"name": "a"}]});
        assert_eq!(constrained(&settings, pod(Some("gvisor"))), None);
        assert_eq!(constrained(&settings, pod(None)), None);
        assert_eq!(
            denied(&settings, pod(Some("runc"))),
            r#"runtimeClassName (pod must not set runtimeClassName "runc" (allowed: "gvisor"))"#
        );
        let any = json!({"runtimeClass": {"allowedRuntimeClassNames": ["*"]}});
        assert_eq!(constrained(&any, pod(Some("runc"))), None);
        let none = json!({"runtimeClass": {"allowedRuntimeClassNames": []}});
        assert!(denied(&none, pod(Some("runc"))).contains("(allowed: none)"));
    }

    #[test]
    fn impossible_settings_are_invalid() {
        for (s, e) in [
            (
                r#"{"runtimeClass": {"allowedRuntimeClassNames": ["a"], "defaultRuntimeClassName": "b"}}"#,
                "defaultRuntimeClassName \"b\" is not in",
            ),
            (
                r#"{"runtimeClass": {"allowedRuntimeClassNames": ["*", "a"]}}"#,
                "must be the only entry",
            ),
            (
                r#"{"runtimeClass": {}}"#,
                "missing field `allowedRuntimeClassNames`",
            ),
        ] {
            let err = Settings::from_json(s.as_bytes()).unwrap_err();
            assert!(err.contains(e), "{s}: {err}");
        }
    }
}
