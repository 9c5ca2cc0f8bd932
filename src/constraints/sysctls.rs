//! `sysctls`: the pod's sysctls against forbidden and allowed patterns; forbidden wins, and with
//! `allowed` given every sysctl must match it.

use super::{nothing_to_prepare, violation, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};
use crate::glob::Glob;

#[derive(Debug, Clone, Default)]
pub struct SysctlsConstraint {
    pub allowed: Option<Vec<Glob>>,
    pub forbidden: Vec<Glob>,
}

crate::json_text::deserialize_by_shape!(SysctlsConstraint { "allowed" => allowed, "forbidden" => forbidden });

pub const CONSTRAINT: Constraint = Constraint {
    id: "sysctlsConstraint",
    configured: |c| c.sysctls.is_some(),
    evaluate,
    prepare: nothing_to_prepare,
};

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let setting = constraints.sysctls.as_ref()?;
    let sysctls = input.pod.security_context.as_ref()?.sysctls.as_slice();
    let mut bad = Vec::new();
    for s in sysctls {
        if setting.forbidden.iter().any(|g| g.matches(s.name)) {
            bad.push(format!("\"{}\" (forbidden)", s.name));
        } else if let Some(allowed) = &setting.allowed {
            if !allowed.iter().any(|g| g.matches(s.name)) {
                bad.push(format!("\"{}\" (not allowed)", s.name));
            }
        }
    }
    let details = if bad.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "pod must not set securityContext.sysctls {}",
            bad.join(", ")
        )]
    };
    violation("sysctls", details)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    fn pod(names: &[&str]) -> serde_json::Value {
        let sysctls: Vec<_> = names
            .iter()
            .map(|n| json!({"name": n, "value": "1"}))
            .collect();
        json!({"securityContext": {"sysctls": sysctls}, "containers": [{"name": "a"}]})
    }

    #[test]
    fn forbidden_wins_and_allowed_is_exhaustive() {
        let settings =
            json!({"sysctls": {"allowed": ["net.*"], "forbidden": ["net.ipv4.ip_forward"]}});
        assert_eq!(constrained(&settings, pod(&["net.core.somaxconn"])), None);
        assert_eq!(
            denied(
                &settings,
                pod(&["net.ipv4.ip_forward", "kernel.msgmax", "net.core.somaxconn"])
            ),
            r#"sysctls (pod must not set securityContext.sysctls "net.ipv4.ip_forward" (forbidden), "kernel.msgmax" (not allowed))"#
        );
        let only_forbidden = json!({"sysctls": {"forbidden": ["kernel.*"]}});
        assert_eq!(constrained(&only_forbidden, pod(&["vm.swappiness"])), None);
        assert!(constrained(&only_forbidden, pod(&["kernel.shm_rmid_forced"])).is_some());
    }
}
