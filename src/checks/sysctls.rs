//! Sysctls outside the safe, namespaced set. Baseline; the safe set grows with the version.

use super::{since, Check, CheckInput, CheckLevel, Violation};

pub const CHECK: Check = Check {
    id: "sysctls",
    level: CheckLevel::Baseline,
    versions: &[
        since(0, sysctls_1_0),
        since(27, sysctls_1_27),
        since(29, sysctls_1_29),
        since(32, sysctls_1_32),
        since(37, sysctls_1_37),
    ],
};

const SAFE_1_0: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
const ADDED_1_27: &[&str] = &["net.ipv4.ip_local_reserved_ports"];
const ADDED_1_29: &[&str] = &[
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const ADDED_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];
const ADDED_1_37: &[&str] = &[
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

/// The safe sysctls of the newest revision: what the kubelet allows without
/// `--allowed-unsafe-sysctls`.
pub(crate) fn safe_sysctls() -> impl Iterator<Item = &'static str> {
    [SAFE_1_0, ADDED_1_27, ADDED_1_29, ADDED_1_32, ADDED_1_37]
        .into_iter()
        .flatten()
        .copied()
}

/// Each revision allows its own additions and everything before them.
fn evaluate(input: &CheckInput<'_, '_>, safe: &[&[&str]]) -> Option<Violation> {
    let sysctls = input.pod.security_context.as_ref()?.sysctls.as_slice();
    let forbidden: Vec<&str> = sysctls
        .iter()
        .map(|s| s.name)
        .filter(|name| !safe.iter().any(|set| set.contains(name)))
        .collect();
    if forbidden.is_empty() {
        return None;
    }
    Violation::new("forbidden sysctls", forbidden.join(", "))
}

fn sysctls_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    evaluate(input, &[SAFE_1_0])
}

fn sysctls_1_27(input: &CheckInput<'_, '_>) -> Option<Violation> {
    evaluate(input, &[SAFE_1_0, ADDED_1_27])
}

fn sysctls_1_29(input: &CheckInput<'_, '_>) -> Option<Violation> {
    evaluate(input, &[SAFE_1_0, ADDED_1_27, ADDED_1_29])
}

fn sysctls_1_32(input: &CheckInput<'_, '_>) -> Option<Violation> {
    evaluate(input, &[SAFE_1_0, ADDED_1_27, ADDED_1_29, ADDED_1_32])
}

fn sysctls_1_37(input: &CheckInput<'_, '_>) -> Option<Violation> {
    evaluate(
        input,
        &[SAFE_1_0, ADDED_1_27, ADDED_1_29, ADDED_1_32, ADDED_1_37],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    fn pod_with(names: &[&str]) -> serde_json::Value {
        let sysctls: Vec<_> = names
            .iter()
            .map(|n| json!({"name": n, "value": "1"}))
            .collect();
        json!({"spec": {"securityContext": {"sysctls": sysctls}, "containers": [{"name": "a"}]}})
    }

    #[test]
    fn unsafe_sysctls_are_denied() {
        assert_eq!(
            denied(
                sysctls_1_37,
                pod_with(&["kernel.msgmax", "net.ipv4.tcp_syncookies", "vm.swappiness"])
            ),
            "forbidden sysctls (kernel.msgmax, vm.swappiness)"
        );
    }

    #[test]
    fn the_safe_set_grows_by_version() {
        let cases: &[(&str, crate::checks::CheckFn)] = &[
            ("net.ipv4.ip_local_reserved_ports", sysctls_1_27),
            ("net.ipv4.tcp_keepalive_time", sysctls_1_29),
            ("net.ipv4.tcp_wmem", sysctls_1_32),
            ("net.ipv4.tcp_notsent_lowat", sysctls_1_37),
        ];
        let revisions: Vec<_> = CHECK.versions.iter().map(|v| v.evaluate).collect();
        for (i, (name, from)) in cases.iter().enumerate() {
            // Forbidden by every revision before the one that adds it, allowed from it on.
            for earlier in &revisions[..=i] {
                assert!(run(*earlier, pod_with(&[name])).is_some(), "{name}");
            }
            assert_eq!(run(*from, pod_with(&[name])), None, "{name}");
            assert_eq!(run(sysctls_1_37, pod_with(&[name])), None, "{name}");
        }
        assert_eq!(
            run(sysctls_1_0, pod_with(&["kernel.shm_rmid_forced"])),
            None
        );
    }
}
