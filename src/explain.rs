//! What each container of a workload actually runs with, and why: every effective security
//! context field with where its value comes from, the effective Linux capability set with what
//! the configured level and constraints object to, and the fields the manifest sets where
//! Kubernetes has no such field.
//!
//! Front ends (the playground) show this; it is computed from the same `Pod` model, merge and
//! rules that decide admission, so the explanation cannot disagree with the verdict.

use crate::capabilities::{self, LINUX_CAPABILITIES};
use crate::checks::{capabilities_baseline, capabilities_restricted, privileged};
use crate::constraints::{normalize_capability, CAPABILITIES_CONSTRAINT};
use crate::pod::{Container, ContainerKind, Pod, APPARMOR_CONTAINER_ANNOTATION_PREFIX};
use crate::policy::Policy;
use crate::reader::ReadError;
use crate::security_context::{Profile, SeLinuxOptions};
use crate::workload::{read_pod, template_prefix, WorkloadKind};
use serde::Serialize;
use serde_json::Value;

/// Where an effective value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// The container's own `securityContext`.
    Container,
    /// The legacy per-container AppArmor annotation on the pod.
    Annotation,
    /// The pod's `securityContext`, inherited by the container.
    Pod,
    /// Nothing set: what Kubernetes does by default.
    KubernetesDefault,
    /// Nothing set: what the container runtime or the node does by default.
    RuntimeDefault,
    /// Nothing set, and the manifest cannot tell (the image decides).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldExplanation {
    /// The `securityContext` field, e.g. `runAsUser`.
    pub field: &'static str,
    pub value: String,
    pub source: Source,
    /// What the value means when it is a default or surprising.
    pub note: Option<&'static str>,
}

/// How a capability got into a container's effective set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CapabilityOrigin {
    RuntimeDefault,
    Added,
    Privileged,
}

/// A rule of the configured policy that objects to something, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Objection {
    pub check: &'static str,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityExplanation {
    pub name: String,
    /// One line on what it allows.
    pub meaning: &'static str,
    pub origin: CapabilityOrigin,
    pub objections: Vec<Objection>,
}

/// A field the manifest sets where Kubernetes has no such field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoredField {
    /// Its path in the object, e.g. `spec.template.spec.securityContext.capabilities`.
    pub path: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerExplanation {
    pub name: String,
    /// `container`, `init container` or `ephemeral container`.
    pub kind: &'static str,
    pub image: String,
    pub fields: Vec<FieldExplanation>,
    /// The effective capability set, sorted by name; empty for Windows pods.
    pub capabilities: Vec<CapabilityExplanation>,
    /// Capabilities of the runtime's default set that the container does not keep.
    pub dropped_defaults: Vec<&'static str>,
    /// Why the set is what it is, in one line.
    pub capabilities_note: &'static str,
    pub ignored: Vec<IgnoredField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodExplanation {
    pub windows: bool,
    /// Fields of the pod's `securityContext` that Kubernetes has only on containers, or not at all.
    pub ignored: Vec<IgnoredField>,
    pub containers: Vec<ContainerExplanation>,
}

/// The fields of a pod's `securityContext` (PodSecurityContext, Kubernetes 1.3x).
const POD_FIELDS: &[&str] = &[
    "appArmorProfile",
    "fsGroup",
    "fsGroupChangePolicy",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seLinuxChangePolicy",
    "seLinuxOptions",
    "seccompProfile",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "sysctls",
    "windowsOptions",
];

/// The fields of a container's `securityContext` (SecurityContext, Kubernetes 1.3x).
const CONTAINER_FIELDS: &[&str] = &[
    "allowPrivilegeEscalation",
    "appArmorProfile",
    "capabilities",
    "privileged",
    "procMount",
    "readOnlyRootFilesystem",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seLinuxOptions",
    "seccompProfile",
    "windowsOptions",
];

const IGNORED_CONSEQUENCE: &str = "the API server refuses it under strict field validation or \
     drops it, and it protects nothing";

/// The explanation of the pod an object carries; `None` for a kind or object without one.
pub fn explain(
    policy: &Policy,
    kind: WorkloadKind,
    object: &Value,
) -> Result<Option<PodExplanation>, ReadError> {
    let Some(pod) = read_pod(kind, object)? else {
        return Ok(None);
    };
    let mut spec_path = template_prefix(kind);
    if !spec_path.is_empty() {
        spec_path.push('.');
    }
    spec_path.push_str("spec");
    let raw_spec = kind
        .template_path()
        .iter()
        .try_fold(object, |v, key| v.get(key))
        .and_then(|t| t.get("spec"));
    let ignored = raw_spec
        .and_then(|spec| spec.get("securityContext"))
        .map(|sc| {
            misplaced(
                sc,
                &format!("{spec_path}.securityContext"),
                POD_FIELDS,
                CONTAINER_FIELDS,
                "a pod's",
                "containers",
            )
        })
        .unwrap_or_default();
    let containers = pod
        .containers
        .iter()
        .map(|c| {
            let raw = raw_spec
                .and_then(|spec| spec.get(c.kind.field()))
                .and_then(|list| list.get(c.index))
                .and_then(|item| item.get("securityContext"));
            let path = format!("{spec_path}.{}.securityContext", c.field_path());
            let ignored = raw
                .map(|sc| {
                    misplaced(
                        sc,
                        &path,
                        CONTAINER_FIELDS,
                        POD_FIELDS,
                        "a container's",
                        "the pod",
                    )
                })
                .unwrap_or_default();
            explain_container(policy, &pod, c, ignored)
        })
        .collect();
    Ok(Some(PodExplanation {
        windows: pod.is_windows(),
        ignored,
        containers,
    }))
}

/// The keys of a raw `securityContext` that are not fields at this level.
fn misplaced(
    security_context: &Value,
    path: &str,
    fields_here: &[&str],
    fields_there: &[&str],
    here: &str,
    there: &str,
) -> Vec<IgnoredField> {
    let Some(map) = security_context.as_object() else {
        return Vec::new();
    };
    map.keys()
        .filter(|key| !fields_here.contains(&key.as_str()))
        .map(|key| {
            let note = if fields_there.contains(&key.as_str()) {
                format!(
                    "Kubernetes has no {key} in {here} securityContext, only on {there}: \
                     {IGNORED_CONSEQUENCE}. Set it on {there}."
                )
            } else {
                format!("Kubernetes has no {key} in {here} securityContext: {IGNORED_CONSEQUENCE}.")
            };
            IgnoredField {
                path: format!("{path}.{key}"),
                note,
            }
        })
        .collect()
}

fn explain_container(
    policy: &Policy,
    pod: &Pod<'_>,
    c: &Container<'_>,
    ignored: Vec<IgnoredField>,
) -> ContainerExplanation {
    let (capabilities, dropped_defaults, capabilities_note) = if pod.is_windows() {
        (
            Vec::new(),
            Vec::new(),
            "Windows containers have no Linux capabilities.",
        )
    } else {
        capability_set(policy, pod, c)
    };
    ContainerExplanation {
        name: c.name.to_string(),
        kind: match c.kind {
            ContainerKind::Init => "init container",
            ContainerKind::Regular => "container",
            ContainerKind::Ephemeral => "ephemeral container",
        },
        image: c.image.to_string(),
        fields: fields(pod, c),
        capabilities,
        dropped_defaults,
        capabilities_note,
        ignored,
    }
}

/// The source of a field that exists on both the pod and the container.
fn inherited<T>(container: Option<T>, pod: Option<T>) -> Option<Source> {
    if container.is_some() {
        Some(Source::Container)
    } else if pod.is_some() {
        Some(Source::Pod)
    } else {
        None
    }
}

fn profile_text(p: &Profile<'_>) -> String {
    match p.localhost_profile {
        Some(name) => format!("{} ({name})", p.type_),
        None => p.type_.to_string(),
    }
}

fn se_linux_text(o: &SeLinuxOptions<'_>) -> String {
    let parts: Vec<String> = [
        ("user", o.user),
        ("role", o.role),
        ("type", o.type_),
        ("level", o.level),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={v}"))
    .collect();
    if parts.is_empty() {
        "{}".to_string()
    } else {
        parts.join(", ")
    }
}

fn field(
    field: &'static str,
    value: String,
    source: Source,
    note: Option<&'static str>,
) -> FieldExplanation {
    FieldExplanation {
        field,
        value,
        source,
        note,
    }
}

/// Every effective security context field of a container, with its source.
fn fields(pod: &Pod<'_>, c: &Container<'_>) -> Vec<FieldExplanation> {
    let e = &c.effective;
    let own = c.context_common();
    let pod_sc = pod.security_context.as_ref();
    let pod_common = pod_sc.map(|p| &p.common);
    let mut out = Vec::new();

    let set_or = |name: &'static str,
                  value: Option<String>,
                  source: Option<Source>,
                  default: (&str, Source, &'static str)| {
        match (value, source) {
            (Some(v), Some(s)) => field(name, v, s, None),
            _ => field(name, default.0.to_string(), default.1, Some(default.2)),
        }
    };

    out.push(set_or(
        "runAsUser",
        e.common.run_as_user.map(|u| u.to_string()),
        inherited(
            own.and_then(|o| o.run_as_user),
            pod_common.and_then(|p| p.run_as_user),
        ),
        (
            "the image's USER",
            Source::Unknown,
            "not set in the manifest: the image's USER decides, root (0) when the image sets none",
        ),
    ));
    out.push(set_or(
        "runAsGroup",
        e.common.run_as_group.map(|g| g.to_string()),
        inherited(
            own.and_then(|o| o.run_as_group),
            pod_common.and_then(|p| p.run_as_group),
        ),
        (
            "the image's group",
            Source::Unknown,
            "not set in the manifest: the image's USER decides, group 0 when it names none",
        ),
    ));
    out.push(set_or(
        "runAsNonRoot",
        e.common.run_as_non_root.map(|b| b.to_string()),
        inherited(
            own.and_then(|o| o.run_as_non_root),
            pod_common.and_then(|p| p.run_as_non_root),
        ),
        (
            "false",
            Source::KubernetesDefault,
            "not required: the kubelet starts the container whatever its user, root included",
        ),
    ));
    if !pod.is_windows() {
        out.push(set_or(
            "seccompProfile",
            e.common.seccomp_profile.as_ref().map(profile_text),
            inherited(
                own.and_then(|o| o.seccomp_profile),
                pod_common.and_then(|p| p.seccomp_profile),
            ),
            (
                "Unconfined",
                Source::KubernetesDefault,
                "no system call filtering, unless the kubelet runs with --seccomp-default (then RuntimeDefault)",
            ),
        ));
        let app_armor_source = if own.and_then(|o| o.app_armor_profile).is_some() {
            Some(Source::Container)
        } else if pod
            .annotation(&format!("{APPARMOR_CONTAINER_ANNOTATION_PREFIX}{}", c.name))
            .is_some_and(|v| !v.is_empty())
        {
            Some(Source::Annotation)
        } else {
            pod_common
                .and_then(|p| p.app_armor_profile)
                .map(|_| Source::Pod)
        };
        out.push(set_or(
            "appArmorProfile",
            e.common.app_armor_profile.as_ref().map(profile_text),
            app_armor_source,
            (
                "RuntimeDefault",
                Source::RuntimeDefault,
                "the runtime's default profile on nodes with AppArmor enabled, none elsewhere",
            ),
        ));
        out.push(set_or(
            "seLinuxOptions",
            e.common.se_linux_options.as_ref().map(se_linux_text),
            inherited(
                own.and_then(|o| o.se_linux_options),
                pod_common.and_then(|p| p.se_linux_options),
            ),
            (
                "assigned by the runtime",
                Source::RuntimeDefault,
                "on SELinux nodes the runtime labels the container (container_t, a unique MCS level)",
            ),
        ));
    }
    let sc = c.context();
    let privileged = e.privileged == Some(true);
    out.push(set_or(
        "privileged",
        e.privileged.map(|b| b.to_string()),
        sc.and_then(|s| s.privileged).map(|_| Source::Container),
        ("false", Source::KubernetesDefault, "not privileged"),
    ));
    out.push(match (e.allow_privilege_escalation, privileged) {
        (_, true) => field(
            "allowPrivilegeEscalation",
            "true".to_string(),
            Source::Container,
            Some("always true for a privileged container"),
        ),
        (Some(v), false) => field(
            "allowPrivilegeEscalation",
            v.to_string(),
            Source::Container,
            None,
        ),
        (None, false) => field(
            "allowPrivilegeEscalation",
            "true".to_string(),
            Source::KubernetesDefault,
            Some(
                "unset means true: no_new_privs is not set, so setuid binaries can gain privileges",
            ),
        ),
    });
    out.push(set_or(
        "readOnlyRootFilesystem",
        e.read_only_root_filesystem.map(|b| b.to_string()),
        sc.and_then(|s| s.read_only_root_filesystem)
            .map(|_| Source::Container),
        (
            "false",
            Source::KubernetesDefault,
            "the container can write to its image's filesystem",
        ),
    ));
    if !pod.is_windows() {
        out.push(set_or(
            "procMount",
            e.proc_mount.map(str::to_string),
            sc.and_then(|s| s.proc_mount).map(|_| Source::Container),
            (
                "Default",
                Source::KubernetesDefault,
                "/proc masked and partly read-only, as the runtime does by default",
            ),
        ));
    }
    if let Some(w) = e.common.windows_options {
        let source = inherited(
            own.and_then(|o| o.windows_options),
            pod_common.and_then(|p| p.windows_options),
        )
        .unwrap_or(Source::Pod);
        if let Some(host_process) = w.host_process {
            out.push(field(
                "windowsOptions.hostProcess",
                host_process.to_string(),
                source,
                None,
            ));
        }
        if let Some(user) = w.run_as_user_name {
            out.push(field(
                "windowsOptions.runAsUserName",
                user.to_string(),
                source,
                None,
            ));
        }
    }
    // Pod-only fields, which apply to every container.
    out.push(match pod_sc.and_then(|p| p.fs_group) {
        Some(g) => field("fsGroup", g.to_string(), Source::Pod, None),
        None => field(
            "fsGroup",
            "none".to_string(),
            Source::KubernetesDefault,
            Some("volumes keep their own ownership"),
        ),
    });
    out.push(match pod_sc.map(|p| &p.supplemental_groups) {
        Some(groups) if !groups.is_empty() => field(
            "supplementalGroups",
            groups
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            Source::Pod,
            None,
        ),
        _ => field(
            "supplementalGroups",
            "none".to_string(),
            Source::KubernetesDefault,
            Some("only the groups the image's user belongs to"),
        ),
    });
    out.push(match pod_sc.map(|p| &p.sysctls) {
        Some(sysctls) if !sysctls.is_empty() => field(
            "sysctls",
            sysctls
                .iter()
                .map(|s| format!("{}={}", s.name, s.value))
                .collect::<Vec<_>>()
                .join(", "),
            Source::Pod,
            None,
        ),
        _ => field(
            "sysctls",
            "none".to_string(),
            Source::KubernetesDefault,
            Some("the node's values"),
        ),
    });
    out
}

/// The effective capability set of a Linux container, as containerd computes it: the default
/// set (every capability when privileged); `add: [ALL]` grants every one and `drop: [ALL]`
/// removes every one first, then the named adds are granted and the named drops removed. Names
/// are upper-cased with an optional `CAP_` prefix, as the runtime does.
fn capability_set(
    policy: &Policy,
    pod: &Pod<'_>,
    c: &Container<'_>,
) -> (Vec<CapabilityExplanation>, Vec<&'static str>, &'static str) {
    let defaults = capabilities::runtime_default();
    let every = || LINUX_CAPABILITIES.iter().map(|(n, _)| n.to_string());
    let caps = c.context().and_then(|sc| sc.capabilities.as_ref());
    let raw_add: Vec<&str> = caps.map(|k| k.add.clone()).unwrap_or_default();
    let raw_drop: Vec<&str> = caps.map(|k| k.drop.clone()).unwrap_or_default();
    let add: Vec<String> = raw_add.iter().map(|a| normalize_capability(a)).collect();
    let drop: Vec<String> = raw_drop.iter().map(|d| normalize_capability(d)).collect();
    let privileged = c.context().and_then(|sc| sc.privileged) == Some(true);

    let mut set: Vec<(String, CapabilityOrigin)> = Vec::new();
    let note = if privileged {
        set.extend(every().map(|n| (n, CapabilityOrigin::Privileged)));
        "privileged: every capability, whatever capabilities.add and drop say."
    } else {
        set.extend(
            defaults
                .iter()
                .map(|n| (n.to_string(), CapabilityOrigin::RuntimeDefault)),
        );
        if add.iter().any(|a| a == "ALL") {
            for n in every() {
                if !set.iter().any(|(s, _)| *s == n) {
                    set.push((n, CapabilityOrigin::Added));
                }
            }
        }
        if drop.iter().any(|d| d == "ALL") {
            set.clear();
        }
        for a in add.iter().filter(|a| *a != "ALL") {
            if !set.iter().any(|(s, _)| s == a) {
                set.push((a.clone(), CapabilityOrigin::Added));
            }
        }
        set.retain(|(s, _)| !drop.iter().any(|d| d == s));
        "the container runtime's default set (containerd's and Docker's; CRI-O grants fewer), minus what is dropped, plus what is added."
    };
    set.sort_by(|a, b| a.0.cmp(&b.0));

    let findings = policy.findings_for_container(pod, c);
    let fired = |id: &str| findings.iter().any(|f| f.check == id);
    let constraint = policy.constraints().capabilities.as_ref();
    let forbidden_by_constraint: Vec<&str> = constraint
        .map(|k| k.forbidden_adds(&add))
        .unwrap_or_default();
    let missing_drops: Vec<&str> = constraint
        .map(|k| k.missing_drops(&drop))
        .unwrap_or_default();

    let explained = set
        .into_iter()
        .map(|(name, origin)| {
            let mut objections = Vec::new();
            // The raw `add` entries that grant it: its own name in any spelling, or ALL.
            let grants: Vec<&str> = raw_add
                .iter()
                .zip(&add)
                .filter(|(_, n)| **n == name || *n == "ALL")
                .map(|(r, _)| *r)
                .collect();
            if privileged && fired(privileged::ID) {
                objections.push(Objection {
                    check: privileged::ID,
                    reason: "granted by privileged: true",
                });
            }
            if fired(capabilities_baseline::ID)
                && grants
                    .iter()
                    .any(|r| capabilities_baseline::forbids_adding(r))
            {
                objections.push(Objection {
                    check: capabilities_baseline::ID,
                    reason: "added beyond the runtime's default set",
                });
            }
            if fired(capabilities_restricted::ID) {
                if grants
                    .iter()
                    .any(|r| capabilities_restricted::forbids_adding(r))
                {
                    objections.push(Objection {
                        check: capabilities_restricted::ID,
                        reason: "restricted lets a container add only NET_BIND_SERVICE",
                    });
                } else if !capabilities_restricted::drops_all(&raw_drop)
                    && origin != CapabilityOrigin::Added
                {
                    objections.push(Objection {
                        check: capabilities_restricted::ID,
                        reason: "kept because the container does not drop ALL, which restricted requires",
                    });
                }
            }
            if fired(CAPABILITIES_CONSTRAINT) {
                if forbidden_by_constraint
                    .iter()
                    .any(|f| *f == name || (*f == "ALL" && !grants.is_empty()))
                {
                    objections.push(Objection {
                        check: CAPABILITIES_CONSTRAINT,
                        reason: "not in the capabilities.allowedAdd setting",
                    });
                }
                if missing_drops.contains(&name.as_str()) {
                    objections.push(Objection {
                        check: CAPABILITIES_CONSTRAINT,
                        reason: "the capabilities.requiredDrop setting requires dropping it",
                    });
                }
            }
            CapabilityExplanation {
                meaning: capabilities::meaning(&name)
                    .unwrap_or("not a Linux capability: the runtime refuses to start the container"),
                name,
                origin,
                objections,
            }
        })
        .collect::<Vec<_>>();
    let dropped = defaults
        .into_iter()
        .filter(|d| !explained.iter().any(|e| e.name == *d))
        .collect();
    (explained, dropped, note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;
    use serde_json::json;

    fn explained(settings: Value, kind: WorkloadKind, object: Value) -> PodExplanation {
        let policy = Policy::new(Settings::from_value(&settings).unwrap());
        explain(&policy, kind, &object).unwrap().unwrap()
    }

    fn pod(spec: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": spec})
    }

    fn names(c: &ContainerExplanation) -> Vec<&str> {
        c.capabilities.iter().map(|k| k.name.as_str()).collect()
    }

    fn field_of<'e>(c: &'e ContainerExplanation, name: &str) -> &'e FieldExplanation {
        c.fields.iter().find(|f| f.field == name).unwrap()
    }

    #[test]
    fn container_values_override_pod_values_and_defaults_say_so() {
        let e = explained(
            json!({}),
            WorkloadKind::Pod,
            pod(json!({
                "securityContext": {"runAsUser": 1000, "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{"name": "app", "image": "app:1", "securityContext": {"runAsUser": 0}}]
            })),
        );
        let c = &e.containers[0];
        let run_as_user = field_of(c, "runAsUser");
        assert_eq!(
            (run_as_user.value.as_str(), run_as_user.source),
            ("0", Source::Container)
        );
        assert_eq!(field_of(c, "runAsNonRoot").source, Source::Pod);
        assert_eq!(field_of(c, "seccompProfile").value, "RuntimeDefault");
        assert_eq!(field_of(c, "runAsGroup").source, Source::Unknown);
        assert_eq!(field_of(c, "allowPrivilegeEscalation").value, "true");
        assert_eq!(
            field_of(c, "allowPrivilegeEscalation").source,
            Source::KubernetesDefault
        );
        assert_eq!(
            field_of(c, "appArmorProfile").source,
            Source::RuntimeDefault
        );
        assert_eq!(field_of(c, "fsGroup").value, "none");
    }

    #[test]
    fn the_app_armor_annotation_is_a_source_of_its_own() {
        let e = explained(
            json!({}),
            WorkloadKind::Pod,
            json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "localhost/custom"}},
                   "spec": {"containers": [{"name": "app"}]}}),
        );
        let f = field_of(&e.containers[0], "appArmorProfile");
        assert_eq!(
            (f.value.as_str(), f.source),
            ("Localhost (custom)", Source::Annotation)
        );
    }

    #[test]
    fn the_default_set_minus_drops_plus_adds_and_what_restricted_objects_to() {
        let e = explained(
            json!({"level": "restricted"}),
            WorkloadKind::Pod,
            pod(json!({"containers": [
                {"name": "plain"},
                {"name": "hardened", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}},
                {"name": "admin", "securityContext": {"capabilities": {"drop": ["NET_RAW", "cap_mknod"], "add": ["SYS_ADMIN"]}}}
            ]})),
        );
        let plain = &e.containers[0];
        assert_eq!(names(plain), capabilities::runtime_default());
        assert!(
            plain
                .capabilities
                .iter()
                .all(|k| k.objections.len() == 1
                    && k.objections[0].check == "capabilities_restricted")
        );
        let hardened = &e.containers[1];
        assert_eq!(names(hardened), ["NET_BIND_SERVICE"]);
        assert_eq!(hardened.capabilities[0].origin, CapabilityOrigin::Added);
        assert!(hardened.capabilities[0].objections.is_empty());
        assert_eq!(hardened.dropped_defaults.len(), 13);
        let admin = &e.containers[2];
        assert!(names(admin).contains(&"SYS_ADMIN"));
        assert!(!names(admin).contains(&"NET_RAW") && !names(admin).contains(&"MKNOD"));
        let sys_admin = admin
            .capabilities
            .iter()
            .find(|k| k.name == "SYS_ADMIN")
            .unwrap();
        assert_eq!(sys_admin.origin, CapabilityOrigin::Added);
        assert_eq!(
            sys_admin.objections,
            [Objection {
                check: "capabilities_restricted",
                reason: "restricted lets a container add only NET_BIND_SERVICE"
            }]
        );
        assert!(sys_admin.meaning.contains("mount"));
    }

    #[test]
    fn baseline_objects_to_added_capabilities_only_and_exemptions_count() {
        let spec = json!({"containers": [{"name": "app", "image": "tools/x",
            "securityContext": {"capabilities": {"add": ["NET_ADMIN", "CHOWN"]}}}]});
        let e = explained(
            json!({"level": "baseline"}),
            WorkloadKind::Pod,
            pod(spec.clone()),
        );
        let objected: Vec<&str> = e.containers[0]
            .capabilities
            .iter()
            .filter(|k| !k.objections.is_empty())
            .map(|k| k.name.as_str())
            .collect();
        assert_eq!(objected, ["NET_ADMIN"]);
        let e = explained(
            json!({"level": "baseline", "exemptions": [{"checks": ["capabilities_baseline"], "images": ["tools/*"]}]}),
            WorkloadKind::Pod,
            pod(spec),
        );
        assert!(e.containers[0]
            .capabilities
            .iter()
            .all(|k| k.objections.is_empty()));
    }

    #[test]
    fn privileged_means_every_capability() {
        let e = explained(
            json!({"level": "baseline"}),
            WorkloadKind::Pod,
            pod(
                json!({"containers": [{"name": "app", "securityContext": {"privileged": true, "capabilities": {"drop": ["ALL"]}}}]}),
            ),
        );
        let c = &e.containers[0];
        assert_eq!(c.capabilities.len(), LINUX_CAPABILITIES.len());
        assert!(c
            .capabilities
            .iter()
            .all(|k| k.origin == CapabilityOrigin::Privileged
                && k.objections[0].check == "privileged"));
    }

    #[test]
    fn the_capabilities_constraint_names_what_it_refuses() {
        let e = explained(
            json!({"level": "privileged", "capabilities": {"allowedAdd": ["NET_BIND_SERVICE"], "requiredDrop": ["NET_RAW"]}}),
            WorkloadKind::Pod,
            pod(
                json!({"containers": [{"name": "app", "securityContext": {"capabilities": {"add": ["sys_time"]}}}]}),
            ),
        );
        let c = &e.containers[0];
        let with: Vec<(&str, &str)> = c
            .capabilities
            .iter()
            .flat_map(|k| {
                k.objections
                    .iter()
                    .map(move |o| (k.name.as_str(), o.reason))
            })
            .collect();
        assert_eq!(
            with,
            [
                (
                    "NET_RAW",
                    "the capabilities.requiredDrop setting requires dropping it"
                ),
                ("SYS_TIME", "not in the capabilities.allowedAdd setting")
            ]
        );
    }

    #[test]
    fn fields_kubernetes_does_not_have_there_are_pointed_out() {
        let e = explained(
            json!({}),
            WorkloadKind::Deployment,
            json!({"spec": {"template": {"spec": {
                "securityContext": {"capabilities": {"drop": ["ALL"]}, "privileged": false, "runAsNonRoot": true, "bogus": 1},
                "containers": [{"name": "app", "securityContext": {"fsGroup": 2000, "sysctls": [], "runAsUser": 1000}}]
            }}}}),
        );
        let paths: Vec<&str> = e.ignored.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "spec.template.spec.securityContext.bogus",
                "spec.template.spec.securityContext.capabilities",
                "spec.template.spec.securityContext.privileged"
            ]
        );
        assert!(
            e.ignored[1].note.contains("only on containers"),
            "{:?}",
            e.ignored
        );
        assert!(e.ignored[1].note.contains("protects nothing"));
        let c = &e.containers[0];
        let paths: Vec<&str> = c.ignored.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "spec.template.spec.containers[0].securityContext.fsGroup",
                "spec.template.spec.containers[0].securityContext.sysctls"
            ]
        );
        // The pod-level drop protects nothing: the container keeps the default set.
        assert_eq!(names(c), capabilities::runtime_default());
    }

    #[test]
    fn windows_pods_have_no_linux_capabilities() {
        let e = explained(
            json!({}),
            WorkloadKind::Pod,
            pod(
                json!({"os": {"name": "windows"}, "containers": [{"name": "app",
                "securityContext": {"windowsOptions": {"runAsUserName": "ContainerUser"}}}]}),
            ),
        );
        let c = &e.containers[0];
        assert!(e.windows && c.capabilities.is_empty());
        assert_eq!(
            field_of(c, "windowsOptions.runAsUserName").value,
            "ContainerUser"
        );
        assert!(!c.fields.iter().any(|f| f.field == "seccompProfile"));
    }
}
