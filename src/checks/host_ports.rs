//! Binding container ports to the host. Baseline, since v1.0.

use super::message::{containers_phrase, pluralize};
use super::{since, Check, CheckInput, CheckLevel, Violation};

pub const CHECK: Check = Check {
    id: "hostPorts",
    level: CheckLevel::Baseline,
    versions: &[since(0, host_ports_1_0)],
};

fn host_ports_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut bad_containers = Vec::new();
    let mut ports = Vec::new();
    for c in input.containers() {
        if !c.host_ports.is_empty() {
            bad_containers.push(c.name);
            ports.extend(c.host_ports.iter().map(|p| p.to_string()));
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    // Listed as a sorted set of strings, as upstream does.
    ports.sort_unstable();
    ports.dedup();
    Violation::new(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&bad_containers),
            pluralize("uses", "use", bad_containers.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn host_ports_are_denied() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81, "hostPort": 443}]},
            {"name": "b", "ports": [{"containerPort": 80}]}
        ]}});
        assert_eq!(
            denied(host_ports_1_0, pod),
            r#"hostPort (container "a" uses hostPorts 443, 8080)"#
        );
    }

    #[test]
    fn container_ports_alone_are_allowed() {
        let pod = json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 0}]}]}});
        assert_eq!(run(host_ports_1_0, pod), None);
    }
}
