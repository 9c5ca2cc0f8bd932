//! Opt-in mutation (`mutate: true`): where a field is unset and a safe default makes the workload
//! satisfy the configured level and constraints, set it.
//!
//! Decisions are taken on the read-only pod model; the edits are then applied to a copy of the
//! request's JSON object itself, never round-tripped through typed structs, so every field of
//! the object, known to this policy or not, survives unchanged except those set. Explicit values
//! are never changed, only unset ones filled in (and required drops added to a drop list), which
//! makes mutation idempotent: a second pass finds nothing unset.

use crate::constraints::normalize_capability as normalize;
use crate::constraints::{DefaultProfile, GroupRule, ProfileType, UserRule};
use crate::pod::{Container, ContainerKind, Pod, APPARMOR_CONTAINER_ANNOTATION_PREFIX};
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
    /// Append to `spec.<containers>[index].securityContext.capabilities.add`.
    Add(ContainerKind, usize, Vec<String>),
    /// `spec.<key> = value`
    PodSpec(&'static str, Value),
    /// `metadata.annotations.<key> = value`
    Annotation(String, String),
}

/// The object with the defaults set, or `None` when no default applies. For an object that is
/// `admitted` as it is, only the defaults wanted whatever the verdict (PodSecurityPolicy's
/// default profiles, capabilities, escalation and runtime class) are set, never fixes.
///
/// `whole_object` gives the object to edit, every field of it; it is asked for only when some
/// default applies, since getting it may mean reading the object again.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn mutate(
    policy: &Policy,
    kind: WorkloadKind,
    whole_object: impl FnOnce() -> Result<Value, String>,
    pod: &Pod<'_>,
    admitted: bool,
) -> Result<Option<Value>, String> {
    let mut edits = plan_edits(policy, pod);
    if admitted {
        edits.retain(is_plain_default);
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let mut mutated = whole_object()?;
    let Some(template) = pod_template_mut(kind, &mut mutated) else {
        return Ok(None);
    };
    for edit in edits {
        if apply(template, edit).is_none() {
            return Ok(None);
        }
    }
    Ok(Some(mutated))
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn adds_sys_admin(c: &Container<'_>) -> bool {
    c.context()
        .and_then(|sc| sc.capabilities.as_ref())
        .is_some_and(|caps| {
            caps.add
                .iter()
                .any(|a| matches!(normalize(a).as_str(), "SYS_ADMIN" | "ALL"))
        })
}

/// Whether an edit sets one of PodSecurityPolicy's plain defaults rather than fixing a violation.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn is_plain_default(edit: &Edit) -> bool {
    matches!(
        edit,
        Edit::PodSpec(..)
            | Edit::Annotation(..)
            | Edit::Add(..)
            | Edit::ContainerSecurityContext(_, _, "allowPrivilegeEscalation", _)
            | Edit::PodSecurityContext("seccompProfile", _)
    )
}

/// Whether the API server accepts allowPrivilegeEscalation=false on this container: not when
/// it is privileged or adds CAP_SYS_ADMIN.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn escalation_false_accepted(c: &Container<'_>) -> bool {
    c.context().and_then(|sc| sc.privileged) != Some(true) && !adds_sys_admin(c)
}

/// Whether an edit already sets `key` in this container's security context.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn edits_container(edits: &[Edit], c: &Container<'_>, key: &str) -> bool {
    edits.iter().any(|e| {
        matches!(e, Edit::ContainerSecurityContext(kind, index, k, _)
            if *kind == c.kind && *index == c.index && *k == key)
    })
}

/// Whether an edit already sets `key` in the pod's security context.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn edits_pod(edits: &[Edit], key: &str) -> bool {
    edits
        .iter()
        .any(|e| matches!(e, Edit::PodSecurityContext(k, _) if *k == key))
}

/// A default profile as the `seccompProfile` field.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn profile_field(p: &DefaultProfile) -> Value {
    match &p.localhost_profile {
        Some(name) => json!({"type": p.type_.as_str(), "localhostProfile": name}),
        None => json!({"type": p.type_.as_str()}),
    }
}

/// A default profile as the legacy AppArmor annotation's value, which PodSecurityPolicy set.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn app_armor_annotation(p: &DefaultProfile) -> String {
    match (p.type_, &p.localhost_profile) {
        (ProfileType::Localhost, Some(name)) => format!("localhost/{name}"),
        (ProfileType::Unconfined, _) => "unconfined".to_string(),
        _ => "runtime/default".to_string(),
    }
}

#[cfg_attr(scp_optimize_size, optimize(size))]
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
        // PodSecurityPolicy's defaults first: defaultAllowPrivilegeEscalation, else false when
        // allowPrivilegeEscalation is.
        let escalation_default = constraints
            .default_allow_privilege_escalation
            .or((constraints.allow_privilege_escalation == Some(false)
                && policy.enforces("allowPrivilegeEscalationConstraint"))
            .then_some(false));
        if let Some(value) = escalation_default {
            for c in pod
                .containers
                .iter()
                .filter(|c| !policy.exempts("allowPrivilegeEscalationConstraint", c))
            {
                let sc = c.context();
                if sc.and_then(|sc| sc.allow_privilege_escalation).is_none()
                    && (value || escalation_false_accepted(c))
                {
                    edits.push(Edit::ContainerSecurityContext(
                        c.kind,
                        c.index,
                        "allowPrivilegeEscalation",
                        Value::Bool(value),
                    ));
                }
            }
        }
        // The API server refuses allowPrivilegeEscalation=false on privileged containers and
        // on containers with CAP_SYS_ADMIN: leave those alone (and failing).
        for c in subject("allowPrivilegeEscalation") {
            let sc = c.context();
            if sc.and_then(|sc| sc.allow_privilege_escalation).is_none()
                && escalation_false_accepted(c)
                && !edits_container(&edits, c, "allowPrivilegeEscalation")
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
        let seccomp_default = constraints
            .seccomp
            .as_ref()
            .and_then(|s| s.default_profile.as_ref());
        if let Some(default) = seccomp_default {
            let uncovered = subject("seccompConstraint").iter().any(|c| {
                c.context_common()
                    .and_then(|sc| sc.seccomp_profile)
                    .is_none()
            });
            if pod_common.seccomp_profile.is_none() && uncovered {
                edits.push(Edit::PodSecurityContext(
                    "seccompProfile",
                    profile_field(default),
                ));
            }
        }
        if let Some(default) = constraints
            .app_armor
            .as_ref()
            .and_then(|s| s.default_profile.as_ref())
        {
            for c in subject("appArmorConstraint") {
                if c.effective.common.app_armor_profile.is_none() {
                    edits.push(Edit::Annotation(
                        format!("{APPARMOR_CONTAINER_ANNOTATION_PREFIX}{}", c.name),
                        app_armor_annotation(default),
                    ));
                }
            }
        }
        if pod_common.seccomp_profile.is_none() && !edits_pod(&edits, "seccompProfile") {
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
    let non_root_rule = constraints
        .run_as_user
        .as_ref()
        .is_some_and(|s| s.rule == UserRule::MustRunAsNonRoot);
    if non_root_rule && !edits_pod(&edits, "runAsNonRoot") {
        // PodSecurityPolicy marks each container that says nothing about its user.
        for c in subject("runAsUserConstraint") {
            let sc = &c.effective.common;
            if sc.run_as_non_root.is_none() && sc.run_as_user.is_none() {
                edits.push(Edit::ContainerSecurityContext(
                    c.kind,
                    c.index,
                    "runAsNonRoot",
                    Value::Bool(true),
                ));
            }
        }
    }
    let runtime_class_default = constraints
        .runtime_class
        .as_ref()
        .and_then(|r| r.default_runtime_class_name.as_ref());
    if let Some(name) = runtime_class_default {
        if pod.runtime_class_name.is_none() && policy.enforces("runtimeClassConstraint") {
            edits.push(Edit::PodSpec("runtimeClassName", json!(name)));
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
            // PodSecurityPolicy's defaultAddCapabilities, except those the container drops.
            let caps_of = c.context().and_then(|sc| sc.capabilities.as_ref());
            let listed = |names: Option<&Vec<&str>>| -> Vec<String> {
                names
                    .map(|l| l.iter().map(|n| normalize(n)).collect())
                    .unwrap_or_default()
            };
            let added = listed(caps_of.map(|k| &k.add));
            let dropped = listed(caps_of.map(|k| &k.drop));
            let missing: Vec<String> = caps
                .default_add
                .iter()
                .filter(|d| !added.contains(d) && !dropped.contains(d))
                .cloned()
                .collect();
            if !missing.is_empty() {
                edits.push(Edit::Add(c.kind, c.index, missing));
            }
        }
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

/// The pod template (the object holding the pod's `metadata` and `spec`) inside the object.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn pod_template_mut(kind: WorkloadKind, object: &mut Value) -> Option<&mut Map<String, Value>> {
    let mut node = object;
    for key in kind.template_path() {
        node = node.get_mut(*key)?;
    }
    node.as_object_mut()
}

/// `map[key]` as an object, created when absent or null.
#[cfg_attr(scp_optimize_size, optimize(size))]
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

#[cfg_attr(scp_optimize_size, optimize(size))]
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

/// Appends names to `securityContext.capabilities.<list>` of a container.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn append_capabilities(
    spec: &mut Map<String, Value>,
    kind: ContainerKind,
    index: usize,
    list: &str,
    names: Vec<String>,
) -> Option<()> {
    let caps = object_entry(container_context(spec, kind, index)?, "capabilities")?;
    let entry = caps.entry(list).or_insert(Value::Null);
    if entry.is_null() {
        *entry = Value::Array(Vec::new());
    }
    entry
        .as_array_mut()?
        .extend(names.into_iter().map(Value::String));
    Some(())
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn apply(template: &mut Map<String, Value>, edit: Edit) -> Option<()> {
    match edit {
        Edit::Annotation(key, value) => {
            let metadata = object_entry(template, "metadata")?;
            object_entry(metadata, "annotations")?.insert(key, Value::String(value));
            Some(())
        }
        other => apply_to_spec(template.get_mut("spec")?.as_object_mut()?, other),
    }
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn apply_to_spec(spec: &mut Map<String, Value>, edit: Edit) -> Option<()> {
    match edit {
        // Not an edit of the spec.
        Edit::Annotation(..) => return None,
        Edit::PodSpec(key, value) => {
            spec.insert(key.to_string(), value);
        }
        Edit::Add(kind, index, names) => append_capabilities(spec, kind, index, "add", names)?,
        Edit::PodSecurityContext(key, value) => {
            object_entry(spec, "securityContext")?.insert(key.to_string(), value);
        }
        Edit::ContainerSecurityContext(kind, index, key, value) => {
            container_context(spec, kind, index)?.insert(key.to_string(), value);
        }
        Edit::Drop(kind, index, names) => append_capabilities(spec, kind, index, "drop", names)?,
    }
    Some(())
}
