//! Custom SELinux users, roles and types. Baseline: since v1.0, and since v1.31 with
//! `container_engine_t` among the allowed types.

use super::message::{containers_phrase, join_quoted, pluralize, sorted_set};
use super::{since, Check, CheckInput, CheckLevel, Violation};
use crate::security_context::SeLinuxOptions;

pub const CHECK: Check = Check {
    id: "seLinuxOptions",
    level: CheckLevel::Baseline,
    versions: &[
        since(0, se_linux_options_1_0),
        since(31, se_linux_options_1_31),
    ],
};

const ALLOWED_TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
const ALLOWED_TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn se_linux_options_1_0(input: &CheckInput<'_, '_>) -> Option<Violation> {
    evaluate(input, ALLOWED_TYPES_1_0)
}

fn se_linux_options_1_31(input: &CheckInput<'_, '_>) -> Option<Violation> {
    evaluate(input, ALLOWED_TYPES_1_31)
}

#[derive(Default)]
struct Findings<'a> {
    types: Vec<&'a str>,
    user: bool,
    role: bool,
}

impl<'a> Findings<'a> {
    /// Records what is wrong with `opts`; true when something is.
    fn record(&mut self, opts: &SeLinuxOptions<'a>, allowed_types: &[&str]) -> bool {
        let mut bad = false;
        if !allowed_types.contains(&opts.type_) {
            self.types.push(opts.type_);
            bad = true;
        }
        if !opts.user.is_empty() {
            self.user = true;
            bad = true;
        }
        if !opts.role.is_empty() {
            self.role = true;
            bad = true;
        }
        bad
    }
}

fn evaluate(input: &CheckInput<'_, '_>, allowed_types: &[&str]) -> Option<Violation> {
    let mut findings = Findings::default();
    let mut setters = Vec::new();
    if let Some(opts) = input.pod_context().and_then(|sc| sc.se_linux_options) {
        if findings.record(&opts, allowed_types) {
            setters.push("pod".to_string());
        }
    }
    let mut bad_containers = Vec::new();
    for c in input.containers() {
        if let Some(opts) = c.context_common().and_then(|sc| sc.se_linux_options) {
            if findings.record(&opts, allowed_types) {
                bad_containers.push(c.name);
            }
        }
    }
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }
    if setters.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let types = sorted_set(findings.types);
    if !types.is_empty() {
        parts.push(format!(
            "{} {}",
            pluralize("type", "types", types.len()),
            join_quoted(&types)
        ));
    }
    if findings.user {
        parts.push("user may not be set".to_string());
    }
    if findings.role {
        parts.push("role may not be set".to_string());
    }
    Violation::new(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            parts.join("; ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{denied, run};
    use serde_json::json;

    #[test]
    fn custom_types_users_and_roles_are_denied() {
        let pod = json!({"spec": {
            "securityContext": {"seLinuxOptions": {"type": "spc_t"}},
            "containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"user": "u", "role": "r"}}}]
        }});
        assert_eq!(
            denied(se_linux_options_1_0, pod),
            r#"seLinuxOptions (pod and container "a" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)"#
        );
    }

    #[test]
    fn container_engine_t_is_allowed_from_1_31() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}}
        ]}});
        assert!(run(se_linux_options_1_0, pod.clone()).is_some());
        assert_eq!(run(se_linux_options_1_31, pod), None);
        assert_eq!(CHECK.at(30).unwrap().since_minor, 0);
        assert_eq!(CHECK.at(31).unwrap().since_minor, 31);
    }

    #[test]
    fn allowed_types_and_levels_pass() {
        let pod = json!({"spec": {
            "securityContext": {"seLinuxOptions": {"type": "container_t", "level": "s0:c1,c2"}},
            "containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_init_t"}}}]
        }});
        assert_eq!(run(se_linux_options_1_0, pod), None);
    }
}
