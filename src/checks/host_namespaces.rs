//! Sharing the host's network, PID or IPC namespace. Baseline, since v1.0.

use super::{since, Check, CheckInput, CheckLevel, Violation};

pub const CHECK: Check = Check {
    id: "hostNamespaces",
    level: CheckLevel::Baseline,
    versions: &[since(0, host_namespaces_1_0)],
};

fn host_namespaces_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let pod = input.pod;
    let set: Vec<&str> = [
        (pod.host_network, "hostNetwork=true"),
        (pod.host_pid, "hostPID=true"),
        (pod.host_ipc, "hostIPC=true"),
    ]
    .into_iter()
    .filter_map(|(on, text)| on.then_some(text))
    .collect();
    if set.is_empty() {
        return None;
    }
    Violation::new("host namespaces", set.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn host_namespaces_are_denied() {
        let pod =
            json!({"spec": {"hostNetwork": true, "hostIPC": true, "containers": [{"name": "a"}]}});
        assert_eq!(
            denied(host_namespaces_1_0, pod),
            "host namespaces (hostNetwork=true, hostIPC=true)"
        );
    }

    #[test]
    fn false_or_unset_is_allowed() {
        let pod = json!({"spec": {"hostNetwork": false, "hostPID": false, "containers": [{"name": "a"}]}});
        assert_eq!(run(host_namespaces_1_0, pod), None);
    }
}
