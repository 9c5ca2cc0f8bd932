//! Opt-in mutation (`mutate: true`): where a field is unset and a safe default makes the workload
//! satisfy the configured level and constraints, set it.
//!
//! Decisions are taken on the read-only pod model; the edits are then applied to a copy of the
//! request's JSON object itself, never round-tripped through typed structs, so every field of
//! the object, known to this policy or not, survives unchanged except those set. Explicit values
//! are never changed, only unset ones filled in (and required drops added to a drop list), which
//! makes mutation idempotent: a second pass finds nothing unset.

use crate::constraints::normalize_capability as normalize;
use crate::constraints::{GroupRule, UserRule};
use crate::pod::{Container, ContainerKind, Pod};
use crate::policy::Policy;
use crate::security_context::SecurityContextCommon;
use crate::workload::WorkloadKind;
use serde_json::{json, Map, Value};

/// One change to the pod template.
#[derive(Debug, Clone, PartialEq)]
enum Edit {
    /// `spec.securityContext.<key> = value`
    PodSecurityContext(&'static str, Value),
    /// `spec.<containers>[index].securityContext.<key> = value`
    ContainerSecurityContext(ContainerKind, usize, &'static str, Value),
    /// Append to `spec.<containers>[index].securityContext.capabilities.drop`.
    Drop(ContainerKind, usize, Vec<String>),
}

/// The object with the defaults set, or `None` when no default applies.
pub fn mutate(policy: &Policy, kind: WorkloadKind, object: &Value, pod: &Pod<'_>) -> Option<Value> {
    let edits = plan_edits(policy, pod);
    if edits.is_empty() {
        return None;
    }
    let mut mutated = object.clone();
    let spec = pod_spec_mut(kind, &mut mutated)?;
    for edit in edits {
        apply(spec, edit)?;
    }
    Some(mutated)
}

fn adds_sys_admin(c: &Container<'_>) -> bool {
    c.context()
        .and_then(|sc| sc.capabilities.as_ref())
        .is_some_and(|caps| {
            caps.add
                .iter()
                .any(|a| matches!(normalize(a).as_str(), "SYS_ADMIN" | "ALL"))
        })
}

fn plan_edits(policy: &Policy, pod: &Pod<'_>) -> Vec<Edit> {
    let mut edits = Vec::new();
    let linux = !pod.is_windows();
    let pod_sc = pod.security_context.as_ref();
    let pod_common = pod_sc.map(|sc| sc.common).unwrap_or_default();
    let constraints = policy.constraints();
    // Containers a rule applies to: not exempted from it.
    let subject = |rule: &str| -> Vec<&Container<'_>> {
        if !policy.enforces(rule) {
            return Vec::new();
        }
        pod.containers
            .iter()
            .filter(|c| !policy.exempts(rule, c))
            .collect()
    };
    // Whether a pod-level value is needed for `rule`: some container it applies to sets none of
    // its own.
    let uncovered = |rule: &str, own: fn(&SecurityContextCommon<'_>) -> bool| {
        subject(rule)
            .iter()
            .any(|c| !c.context_common().is_some_and(own))
    };

    if linux {
        // The API server refuses allowPrivilegeEscalation=false on privileged containers and
        // on containers with CAP_SYS_ADMIN: leave those alone (and failing).
        for c in subject("allowPrivilegeEscalation") {
            let sc = c.context();
            if sc.and_then(|sc| sc.allow_privilege_escalation).is_none()
                && sc.and_then(|sc| sc.privileged) != Some(true)
                && !adds_sys_admin(c)
            {
                edits.push(Edit::ContainerSecurityContext(
                    c.kind,
                    c.index,
                    "allowPrivilegeEscalation",
                    Value::Bool(false),
                ));
            }
        }
        for c in subject("capabilities_restricted") {
            let drops = c
                .context()
                .and_then(|sc| sc.capabilities.as_ref())
                .map(|k| &k.drop);
            if !drops.is_some_and(|d| d.contains(&"ALL")) {
                edits.push(Edit::Drop(c.kind, c.index, vec!["ALL".to_string()]));
            }
        }
        if pod_common.seccomp_profile.is_none() {
            let uncovered = subject("seccompProfile_restricted").iter().any(|c| {
                c.context_common()
                    .and_then(|sc| sc.seccomp_profile)
                    .is_none()
            });
            if uncovered {
                edits.push(Edit::PodSecurityContext(
                    "seccompProfile",
                    json!({"type": "RuntimeDefault"}),
                ));
            }
        }
    }
    if pod_common.run_as_non_root.is_none() {
        let containers = subject("runAsNonRoot");
        let uncovered = containers.iter().any(|c| {
            c.context_common()
                .and_then(|sc| sc.run_as_non_root)
                .is_none()
        });
        let refused = pod
            .containers
            .iter()
            .any(|c| c.context_common().and_then(|sc| sc.run_as_non_root) == Some(false));
        if uncovered && !refused {
            edits.push(Edit::PodSecurityContext("runAsNonRoot", Value::Bool(true)));
        }
    }
    if !linux {
        return edits;
    }

    // Constraints.
    let first_min = |ranges: &[crate::constraints::IdRange]| ranges.first().map(|r| r.min);
    let user_min = constraints
        .run_as_user
        .as_ref()
        .filter(|s| s.rule == UserRule::MustRunAs)
        .and_then(|s| first_min(&s.ranges));
    if let Some(min) = user_min {
        if pod_common.run_as_user.is_none()
            && uncovered("runAsUserConstraint", |sc| sc.run_as_user.is_some())
        {
            edits.push(Edit::PodSecurityContext("runAsUser", json!(min)));
        }
    }
    let group_min = constraints
        .run_as_group
        .as_ref()
        .filter(|s| s.rule == GroupRule::MustRunAs)
        .and_then(|s| first_min(&s.ranges));
    if let Some(min) = group_min {
        if pod_common.run_as_group.is_none()
            && uncovered("runAsGroupConstraint", |sc| sc.run_as_group.is_some())
        {
            edits.push(Edit::PodSecurityContext("runAsGroup", json!(min)));
        }
    }
    if let Some(s) = &constraints.fs_group {
        let unset = pod_sc.and_then(|sc| sc.fs_group).is_none();
        if s.rule == GroupRule::MustRunAs && unset && policy.enforces("fsGroupConstraint") {
            if let Some(min) = first_min(&s.ranges) {
                edits.push(Edit::PodSecurityContext("fsGroup", json!(min)));
            }
        }
    }
    if let Some(s) = &constraints.supplemental_groups {
        let empty = pod_sc.is_none_or(|sc| sc.supplemental_groups.is_empty());
        if s.rule == GroupRule::MustRunAs
            && empty
            && policy.enforces("supplementalGroupsConstraint")
        {
            if let Some(min) = first_min(&s.ranges) {
                edits.push(Edit::PodSecurityContext("supplementalGroups", json!([min])));
            }
        }
    }
    if constraints.read_only_root_filesystem == Some(true) {
        for c in subject("readOnlyRootFilesystemConstraint") {
            if c.context()
                .and_then(|sc| sc.read_only_root_filesystem)
                .is_none()
            {
                edits.push(Edit::ContainerSecurityContext(
                    c.kind,
                    c.index,
                    "readOnlyRootFilesystem",
                    Value::Bool(true),
                ));
            }
        }
    }
    if let Some(caps) = &constraints.capabilities {
        for c in subject("capabilitiesConstraint") {
            // Drops this pass already adds count as present.
            let mut dropped: Vec<String> = c
                .context()
                .and_then(|sc| sc.capabilities.as_ref())
                .map(|k| k.drop.iter().map(|d| normalize(d)).collect())
                .unwrap_or_default();
            for e in &edits {
                if let Edit::Drop(kind, index, names) = e {
                    if *kind == c.kind && *index == c.index {
                        dropped.extend(names.iter().cloned());
                    }
                }
            }
            if dropped.iter().any(|d| d == "ALL") {
                continue;
            }
            let missing: Vec<String> = caps
                .required_drop
                .iter()
                .filter(|r| !dropped.contains(r))
                .cloned()
                .collect();
            if !missing.is_empty() {
                edits.push(Edit::Drop(c.kind, c.index, missing));
            }
        }
    }
    edits
}

/// The pod template's `spec` inside the object.
fn pod_spec_mut(kind: WorkloadKind, object: &mut Value) -> Option<&mut Map<String, Value>> {
    let mut node = object;
    for key in kind.template_path() {
        node = node.get_mut(*key)?;
    }
    node.get_mut("spec")?.as_object_mut()
}

/// `map[key]` as an object, created when absent or null.
fn object_entry<'m>(
    map: &'m mut Map<String, Value>,
    key: &str,
) -> Option<&'m mut Map<String, Value>> {
    let entry = map.entry(key.to_string()).or_insert(Value::Null);
    if entry.is_null() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut()
}

fn container_context(
    spec: &mut Map<String, Value>,
    kind: ContainerKind,
    index: usize,
) -> Option<&mut Map<String, Value>> {
    let container = spec
        .get_mut(kind.field())?
        .get_mut(index)?
        .as_object_mut()?;
    object_entry(container, "securityContext")
}

fn apply(spec: &mut Map<String, Value>, edit: Edit) -> Option<()> {
    match edit {
        Edit::PodSecurityContext(key, value) => {
            object_entry(spec, "securityContext")?.insert(key.to_string(), value);
        }
        Edit::ContainerSecurityContext(kind, index, key, value) => {
            container_context(spec, kind, index)?.insert(key.to_string(), value);
        }
        Edit::Drop(kind, index, names) => {
            let caps = object_entry(container_context(spec, kind, index)?, "capabilities")?;
            let drop = caps.entry("drop").or_insert(Value::Null);
            if drop.is_null() {
                *drop = Value::Array(Vec::new());
            }
            let list = drop.as_array_mut()?;
            list.extend(names.into_iter().map(Value::String));
        }
    }
    Some(())
}
