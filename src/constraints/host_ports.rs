//! `hostPorts`: PodSecurityPolicy's list of `{min, max}` ranges; every non-zero `hostPort` of
//! every container must fall in one (an empty list allows none). Absent: no constraint beyond
//! the level.

use super::{container_subject, violation, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortRange {
    pub min: i64,
    pub max: i64,
}

crate::json_text::deserialize_by_shape!(PortRange { "min" => min, "max" => max } required ["min", "max"]);

pub const CONSTRAINT: Constraint = Constraint {
    id: "hostPortsConstraint",
    configured: |c| c.host_ports.is_some(),
    evaluate,
    prepare,
};

#[cfg_attr(scp_optimize_size, optimize(size))]
fn prepare(constraints: &mut Constraints) -> Result<(), String> {
    for (i, r) in constraints.host_ports.iter().flatten().enumerate() {
        if !(0..=65535).contains(&r.min) || !(0..=65535).contains(&r.max) {
            return Err(format!(
                "invalid settings: hostPorts[{i}]: ports are between 0 and 65535, got {}-{}",
                r.min, r.max
            ));
        }
        if r.min > r.max {
            return Err(format!(
                "invalid settings: hostPorts[{i}]: min {} is greater than max {}",
                r.min, r.max
            ));
        }
    }
    Ok(())
}

/// `80, 8000-8080`, PodSecurityPolicy's way of listing ranges.
fn describe(ranges: &[PortRange]) -> String {
    if ranges.is_empty() {
        return "none".to_string();
    }
    ranges
        .iter()
        .map(|r| {
            if r.min == r.max {
                r.min.to_string()
            } else {
                format!("{}-{}", r.min, r.max)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let ranges = constraints.host_ports.as_deref()?;
    let mut details = Vec::new();
    for c in input.containers() {
        let bad: Vec<String> = c
            .host_ports
            .iter()
            .filter(|p| !ranges.iter().any(|r| r.min <= **p && **p <= r.max))
            .map(i64::to_string)
            .collect();
        if !bad.is_empty() {
            details.push(format!(
                "{} uses hostPort {} (allowed: {})",
                container_subject(c.name),
                bad.join(", "),
                describe(ranges)
            ));
        }
    }
    violation("hostPort", details)
}

#[cfg(test)]
mod tests {
    use crate::constraints::testing::{constrained, denied};
    use crate::settings::Settings;
    use serde_json::json;

    fn ports(ports: &[i64]) -> serde_json::Value {
        let ports: Vec<_> = ports
            .iter()
            .map(|p| json!({"containerPort": 1, "hostPort": p}))
            .collect();
        json!({"initContainers": [{"name": "i", "ports": ports}], "containers": [{"name": "a"}], "ephemeralContainers": [{"name": "e", "ports": ports}]})
    }

    #[test]
    fn host_ports_must_fall_in_a_range() {
        let settings = json!({"level": "privileged", "hostPorts": [{"min": 80, "max": 80}, {"min": 8000, "max": 8080}]});
        assert_eq!(constrained(&settings, ports(&[80, 8000, 8080, 0])), None);
        assert_eq!(
            denied(&settings, ports(&[81, 8080, 9000])),
            r#"hostPort (container "i" uses hostPort 81, 9000 (allowed: 80, 8000-8080); container "e" uses hostPort 81, 9000 (allowed: 80, 8000-8080))"#
        );
        let none = json!({"hostPorts": []});
        assert!(denied(&none, ports(&[1])).contains("(allowed: none)"));
        assert_eq!(constrained(&none, ports(&[])), None);
    }

    #[test]
    fn bad_ranges_are_invalid() {
        for (s, e) in [
            (
                r#"{"hostPorts": [{"min": 90, "max": 80}]}"#,
                "min 90 is greater than max 80",
            ),
            (
                r#"{"hostPorts": [{"min": 1, "max": 70000}]}"#,
                "between 0 and 65535",
            ),
            (r#"{"hostPorts": [{"min": 1}]}"#, "missing field `max`"),
        ] {
            let err = Settings::from_json(s.as_bytes()).unwrap_err();
            assert!(err.contains(e), "{s}: {err}");
        }
    }
}
