//! Windows HostProcess containers run with full access to the node. Baseline, since v1.0.

use super::message::containers_phrase;
use super::{names_where, since, Check, CheckInput, CheckLevel, Violation};

pub const CHECK: Check = Check {
    id: "windowsHostProcess",
    level: CheckLevel::Baseline,
    versions: &[since(0, windows_host_process_1_0)],
};

fn windows_host_process_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    let mut setters = Vec::new();
    let host_process = |w: Option<crate::security_context::WindowsOptions<'_>>| {
        w.and_then(|w| w.host_process) == Some(true)
    };
    if host_process(input.pod_context().and_then(|sc| sc.windows_options)) {
        setters.push("pod".to_string());
    }
    let bad = names_where(input, |c| {
        host_process(c.context_common().and_then(|sc| sc.windows_options))
    });
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    Violation::new(
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn host_process_is_denied_at_pod_and_container_level() {
        let pod = json!({"spec": {
            "securityContext": {"windowsOptions": {"hostProcess": true}},
            "containers": [{"name": "a", "securityContext": {"windowsOptions": {"hostProcess": true}}}, {"name": "b"}]
        }});
        assert_eq!(
            denied(windows_host_process_1_0, pod),
            r#"hostProcess (pod and container "a" must not set securityContext.windowsOptions.hostProcess=true)"#
        );
    }

    #[test]
    fn false_is_allowed() {
        let pod = json!({"spec": {"containers": [{"name": "a", "securityContext": {"windowsOptions": {"hostProcess": false}}}]}});
        assert_eq!(run(windows_host_process_1_0, pod), None);
    }
}
