//! Probes and lifecycle handlers aimed at another host turn the kubelet into a proxy. Baseline,
//! since v1.34.

use super::message::{containers_phrase, join_quoted, pluralize, sorted_set};
use super::{since, Check, CheckInput, CheckLevel, Violation};

pub const CHECK: Check = Check {
    id: "hostProbesAndHostLifecycle",
    level: CheckLevel::Baseline,
    versions: &[since(34, host_probes_and_host_lifecycle_1_34)],
};

fn host_probes_and_host_lifecycle_1_34(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut bad_containers = Vec::new();
    let mut hosts = Vec::new();
    for c in input.containers() {
        if !c.probe_hosts.is_empty() {
            bad_containers.push(c.name);
            hosts.extend(c.probe_hosts.iter().copied());
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    // Upstream lists both as sorted sets.
    let bad_containers = sorted_set(bad_containers);
    let hosts = sorted_set(hosts);
    Violation::new(
        "probe or lifecycle host",
        format!(
            "{} {} {} {}",
            containers_phrase(&bad_containers),
            pluralize("uses", "use", bad_containers.len()),
            pluralize(
                "probe or lifecycle host",
                "probe or lifecycle hosts",
                hosts.len()
            ),
            join_quoted(&hosts)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn probe_and_lifecycle_hosts_are_denied() {
        let pod = json!({"spec": {"containers": [
            {"name": "b", "startupProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}},
            {"name": "a", "lifecycle": {"postStart": {"tcpSocket": {"host": "example.com", "port": 80}}}}
        ]}});
        assert_eq!(
            denied(host_probes_and_host_lifecycle_1_34, pod),
            r#"probe or lifecycle host (containers "a", "b" use probe or lifecycle hosts "10.0.0.1", "example.com")"#
        );
    }

    #[test]
    fn probes_without_host_are_allowed() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "livenessProbe": {"httpGet": {"port": 80, "host": ""}}, "readinessProbe": {"exec": {"command": ["true"]}}}
        ]}});
        assert_eq!(run(host_probes_and_host_lifecycle_1_34, pod), None);
    }
}
