//! The tightest constraints every input workload meets: a PodSecurityPolicy-style lockdown
//! derived from what the workloads actually run, as kube-psp-advisor made it, without its
//! faults (it fell back to `RunAsAny` as soon as one container set no UID, and knew neither
//! seccomp nor AppArmor).
//!
//! Every allow-list holds exactly what some workload uses, so that removing any one element
//! rejects a workload, and every requirement is one that every workload already meets. The pods
//! are read with the policy's own reader, and each container judged on its effective security
//! context as the evaluator builds it, so the advice and the verdicts cannot disagree.

use security_context_policy::constraints::{
    clean_host_path, normalize_capability, volume_type, VOLUME_TYPES,
};
use security_context_policy::glob::literal;
use security_context_policy::pod::{Container, Pod};
use security_context_policy::security_context::Profile;
use security_context_policy::workload::{read_pod, WorkloadKind};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

/// The tightest constraints that every one of `objects` meets (each a pod-bearing Kubernetes
/// object: Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
/// ReplicationController, PodTemplate), as settings keys of the policy (`runAsUser`,
/// `capabilities`, ...): a PodSecurityPolicy-style lockdown derived from what the workloads run,
/// every listed element needed by some workload.
pub fn tightest(objects: &[&Value]) -> Result<Map<String, Value>, String> {
    let mut pods = Vec::new();
    for object in objects {
        let kind = WorkloadKind::of_object(object)
            .ok_or_else(|| format!("{} carries no pod this policy reads", describe(object)))?;
        match read_pod(kind, object) {
            Ok(Some(pod)) => pods.push(pod),
            // A PodTemplate without a template: nothing runs, nothing to allow.
            Ok(None) => {}
            Err(e) => return Err(format!("{}: {e}", describe(object))),
        }
    }
    let mut seen = Seen::default();
    for pod in &pods {
        seen.pod(pod).map_err(|e| format!("cannot constrain {e}"))?;
    }
    Ok(seen.constraints())
}

/// `Deployment "web"`, for errors.
fn describe(object: &Value) -> String {
    let kind = object["kind"].as_str().unwrap_or("object");
    match object["metadata"]["name"].as_str() {
        Some(name) => format!("{kind} \"{name}\""),
        None => kind.to_string(),
    }
}

/// The profile types the `seccomp` and `appArmor` constraints can allow; any other value can
/// only be refused, so a workload using one leaves that constraint out.
const PROFILE_TYPES: &[&str] = &["Localhost", "RuntimeDefault", "Unconfined"];

/// The procMount values `allowedProcMountTypes` can list.
const PROC_MOUNT_TYPES: &[&str] = &["Default", "Unmasked"];

/// Everything the workloads use that a constraint can allow or require.
#[derive(Default)]
struct Seen {
    /// Normalised added capabilities.
    added: BTreeSet<String>,
    /// Some container adds a capability with an empty name, which no allow-list can name.
    added_unnamable: bool,
    /// The capabilities every container drops (normalised), among those that do not drop ALL;
    /// `None` until a container that does not drop ALL is seen.
    dropped_by_all: Option<BTreeSet<String>>,
    volume_types: BTreeSet<String>,
    /// A volume whose source field `volumes` has no name for: only `"*"` allows it.
    unknown_volume_type: bool,
    /// By the cleaned path's segments (how `allowedHostPaths` compares paths): the spellings
    /// seen, and whether every mount of every such volume is read-only.
    host_paths: BTreeMap<Vec<String>, (BTreeSet<String>, bool)>,
    flex_drivers: BTreeSet<String>,
    flex_unnamed: bool,
    csi_drivers: BTreeSet<String>,
    csi_unnamed: bool,
    uses_flex: bool,
    uses_csi: bool,
    host_ports: BTreeSet<i64>,
    host_network: bool,
    host_pid: bool,
    host_ipc: bool,
    privileged: bool,
    /// Some container does not set `allowPrivilegeEscalation: false`.
    escalates: bool,
    /// Some container's root filesystem is writable.
    writable_root: bool,
    uids: BTreeSet<i64>,
    uid_unset: bool,
    /// Some container may run as root: effective runAsUser 0, or neither a non-zero runAsUser
    /// nor runAsNonRoot true.
    maybe_root: bool,
    gids: BTreeSet<i64>,
    gid_unset: bool,
    fs_groups: BTreeSet<i64>,
    fs_group_unset: bool,
    supplemental_groups: BTreeSet<i64>,
    supplemental_groups_unset: bool,
    seccomp: ProfilesSeen,
    app_armor: ProfilesSeen,
    se_linux_users: BTreeSet<String>,
    se_linux_roles: BTreeSet<String>,
    se_linux_types: BTreeSet<String>,
    se_linux_levels: BTreeSet<String>,
    sysctls: BTreeSet<String>,
    sysctl_unnamed: bool,
    proc_mounts: BTreeSet<String>,
    runtime_classes: BTreeSet<String>,
}

/// The seccomp or AppArmor profiles in effect.
#[derive(Default)]
struct ProfilesSeen {
    types: BTreeSet<String>,
    unset: bool,
    localhost_names: BTreeSet<String>,
    /// A Localhost profile without a name: no pattern matches the empty name.
    localhost_unnamed: bool,
}

impl ProfilesSeen {
    fn see(&mut self, profile: Option<Profile<'_>>) {
        let Some(p) = profile else {
            self.unset = true;
            return;
        };
        self.types.insert(p.type_.to_string());
        if p.type_ == "Localhost" {
            match p.localhost_profile.filter(|n| !n.is_empty()) {
                Some(name) => {
                    self.localhost_names.insert(name.to_string());
                }
                None => self.localhost_unnamed = true,
            }
        }
    }

    /// `{allowedTypes, allowUnset?, allowedLocalhostProfiles?}`; `None` when a profile type no
    /// setting can allow is in use, or when there is no container at all (an empty
    /// `allowedTypes` without `allowUnset` is refused by the settings reader). `unset_means` is
    /// the type an unset profile is judged as, when the constraint treats it as one (AppArmor's
    /// runtime default): then listing that type already admits unset profiles, and
    /// `allowUnset: true` would not be needed.
    fn constraint(&self, unset_means: Option<&str>) -> Option<Value> {
        if self
            .types
            .iter()
            .any(|t| !PROFILE_TYPES.contains(&t.as_str()))
        {
            return None;
        }
        if self.types.is_empty() && !self.unset {
            return None;
        }
        let mut out = Map::new();
        out.insert("allowedTypes".into(), json!(self.types));
        let unset_admitted = unset_means.is_some_and(|t| self.types.contains(t));
        if self.unset && !unset_admitted {
            out.insert("allowUnset".into(), json!(true));
        }
        if self.types.contains("Localhost") && !self.localhost_unnamed {
            let patterns: BTreeSet<String> =
                self.localhost_names.iter().map(|n| literal(n)).collect();
            out.insert("allowedLocalhostProfiles".into(), json!(patterns));
        }
        Some(Value::Object(out))
    }
}

impl Seen {
    fn pod(&mut self, pod: &Pod<'_>) -> Result<(), String> {
        self.host_network |= pod.host_network;
        self.host_pid |= pod.host_pid;
        self.host_ipc |= pod.host_ipc;
        if let Some(name) = pod.runtime_class_name {
            self.runtime_classes.insert(name.to_string());
        }
        let pod_context = pod.security_context.as_ref();
        match pod_context.and_then(|sc| sc.fs_group) {
            Some(g) => {
                self.fs_groups.insert(g);
            }
            None => self.fs_group_unset = true,
        }
        let groups = pod_context.map_or(&[][..], |sc| &sc.supplemental_groups);
        self.supplemental_groups_unset |= groups.is_empty();
        self.supplemental_groups.extend(groups);
        for s in pod_context.map_or(&[][..], |sc| &sc.sysctls) {
            if s.name.is_empty() {
                self.sysctl_unnamed = true;
            } else {
                self.sysctls.insert(s.name.to_string());
            }
        }
        for v in &pod.volumes {
            let type_ = volume_type(v);
            if VOLUME_TYPES.contains(&type_) {
                self.volume_types.insert(type_.to_string());
            } else {
                self.unknown_volume_type = true;
            }
            // The same tests as the driver constraints: by the volume's source field.
            match v.source_field {
                Some("flexVolume") => {
                    self.uses_flex = true;
                    match v.flex_volume_driver.filter(|d| !d.is_empty()) {
                        Some(d) => {
                            self.flex_drivers.insert(d.to_string());
                        }
                        None => self.flex_unnamed = true,
                    }
                }
                Some("csi") => {
                    self.uses_csi = true;
                    match v.csi_driver.filter(|d| !d.is_empty()) {
                        Some(d) => {
                            self.csi_drivers.insert(d.to_string());
                        }
                        None => self.csi_unnamed = true,
                    }
                }
                _ => {}
            }
            if v.host_path {
                let path = v.host_path_path.unwrap_or("");
                let cleaned = clean_host_path(path);
                let segments = segments(&cleaned);
                if segments.iter().any(|s| s == "..") {
                    return Err(format!(
                        "host path \"{path}\" of volume \"{}\": it climbs above its start, and no allowedHostPaths prefix may contain \"..\"",
                        v.name
                    ));
                }
                // Read-only only where every mount of the volume, in every container, is.
                let read_only = pod
                    .containers
                    .iter()
                    .flat_map(|c| &c.volume_mounts)
                    .filter(|m| m.name == v.name)
                    .all(|m| m.read_only);
                let entry = self
                    .host_paths
                    .entry(segments)
                    .or_insert_with(|| (BTreeSet::new(), true));
                entry.0.insert(cleaned);
                entry.1 &= read_only;
            }
        }
        for c in &pod.containers {
            self.container(c);
        }
        Ok(())
    }

    fn container(&mut self, c: &Container<'_>) {
        let effective = &c.effective;
        let caps = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.capabilities.as_ref());
        for add in caps.map_or(&[][..], |k| &k.add) {
            let name = normalize_capability(add);
            if name.is_empty() {
                self.added_unnamable = true;
            } else {
                self.added.insert(name);
            }
        }
        let dropped: BTreeSet<String> = caps
            .map_or(&[][..], |k| &k.drop)
            .iter()
            .map(|d| normalize_capability(d))
            .collect();
        // Dropping ALL satisfies every required drop, so such a container narrows nothing.
        if !dropped.contains("ALL") {
            self.dropped_by_all = Some(match self.dropped_by_all.take() {
                Some(all) => all.intersection(&dropped).cloned().collect(),
                None => dropped,
            });
        }
        self.host_ports.extend(&c.host_ports);
        self.privileged |= effective.privileged == Some(true);
        self.escalates |= effective.allow_privilege_escalation != Some(false);
        self.writable_root |= effective.read_only_root_filesystem != Some(true);
        let common = &effective.common;
        match common.run_as_user {
            Some(uid) => {
                self.uids.insert(uid);
            }
            None => self.uid_unset = true,
        }
        let non_root =
            common.run_as_non_root == Some(true) || common.run_as_user.is_some_and(|u| u > 0);
        self.maybe_root |= common.run_as_user == Some(0) || !non_root;
        match common.run_as_group {
            Some(gid) => {
                self.gids.insert(gid);
            }
            None => self.gid_unset = true,
        }
        self.seccomp.see(common.seccomp_profile);
        self.app_armor.see(common.app_armor_profile);
        if let Some(o) = common.se_linux_options {
            for (part, set) in [
                (o.user, &mut self.se_linux_users),
                (o.role, &mut self.se_linux_roles),
                (o.type_, &mut self.se_linux_types),
                (o.level, &mut self.se_linux_levels),
            ] {
                if !part.is_empty() {
                    set.insert(part.to_string());
                }
            }
        }
        self.proc_mounts
            .insert(effective.proc_mount.unwrap_or("Default").to_string());
    }

    fn constraints(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let mut put = |key: &str, value: Value| {
            out.insert(key.to_string(), value);
        };

        if let Some(caps) = self.capabilities() {
            put("capabilities", caps);
        }
        // A type this policy cannot name is allowed by "*" alone.
        put(
            "volumes",
            if self.unknown_volume_type {
                json!(["*"])
            } else {
                json!(self.volume_types)
            },
        );
        // Left out when no hostPath is in use: `[]` would restrict nothing, and `volumes` then
        // forbids hostPath volumes anyway.
        if !self.host_paths.is_empty() {
            put("allowedHostPaths", self.allowed_host_paths());
        }
        // An empty list of drivers allows any, so drivers are listed only when every one in
        // use has a name; unused volume types are refused by `volumes` already.
        if self.uses_flex && !self.flex_unnamed {
            let drivers: Vec<Value> = self
                .flex_drivers
                .iter()
                .map(|d| json!({"driver": d}))
                .collect();
            put("allowedFlexVolumes", Value::Array(drivers));
        }
        if self.uses_csi && !self.csi_unnamed {
            let drivers: Vec<Value> = self
                .csi_drivers
                .iter()
                .map(|d| json!({"name": d}))
                .collect();
            put("allowedCSIDrivers", Value::Array(drivers));
        }
        // `[]` allows no host port, which is what a cluster without any should get. A port
        // outside 1-65535 (which the API server refuses) cannot be listed: no constraint then.
        if let Some(ports) = ranges(&self.host_ports, 1..=65535) {
            put("hostPorts", ports);
        }
        // These booleans are written `true` too when some workload needs it, although `true`
        // constrains nothing: the advice then states, key by key, what stays open (as a
        // PodSecurityPolicy did), and turning any `true` into `false` rejects a workload.
        put("hostNetwork", json!(self.host_network));
        put("hostPID", json!(self.host_pid));
        put("hostIPC", json!(self.host_ipc));
        put("privileged", json!(self.privileged));
        put("allowPrivilegeEscalation", json!(self.escalates));
        // `readOnlyRootFilesystem: false` would say nothing: the key is only written to require.
        if !self.writable_root {
            put("readOnlyRootFilesystem", json!(true));
        }

        if let Some(rule) = self.run_as_user() {
            put("runAsUser", rule);
        }
        if let Some(rule) = group_rule(&self.gids, self.gid_unset) {
            put("runAsGroup", rule);
        }
        if let Some(rule) = group_rule(&self.fs_groups, self.fs_group_unset) {
            put("fsGroup", rule);
        }
        if let Some(rule) = group_rule(&self.supplemental_groups, self.supplemental_groups_unset) {
            put("supplementalGroups", rule);
        }

        if let Some(seccomp) = self.seccomp.constraint(None) {
            put("seccomp", seccomp);
        }
        // An unset AppArmor profile is the runtime default for the constraint.
        if let Some(app_armor) = self.app_armor.constraint(Some("RuntimeDefault")) {
            put("appArmor", app_armor);
        }
        // Empty lists allow none of that part, which is right where nothing sets it.
        put(
            "seLinux",
            json!({
                "allowedUsers": self.se_linux_users,
                "allowedRoles": self.se_linux_roles,
                "allowedTypes": self.se_linux_types,
                "allowedLevels": self.se_linux_levels,
            }),
        );
        // Patterns that match each name in use and nothing else; `[]` allows no sysctl. A
        // sysctl without a name cannot be matched by any pattern: then no list is advised.
        if !self.sysctl_unnamed {
            let allowed: BTreeSet<String> = self.sysctls.iter().map(|n| literal(n)).collect();
            put("sysctls", json!({ "allowed": allowed }));
        }
        // Exactly the types in use, `Default` written out although `[]` means the same, so that
        // the list reads as what is in use. An unknown value can only be refused, so the key is
        // left out then.
        if self
            .proc_mounts
            .iter()
            .all(|t| PROC_MOUNT_TYPES.contains(&t.as_str()))
        {
            let types: Vec<&str> = if self.proc_mounts.is_empty() {
                vec!["Default"]
            } else {
                self.proc_mounts.iter().map(String::as_str).collect()
            };
            put("allowedProcMountTypes", json!(types));
        }
        // Always written: naming no runtime class is always allowed, but absent the key any
        // class may be named, while `[]` allows none, so a pod cannot pick a weaker runtime.
        // A class named "*" is allowed by the wildcard alone, which must then stand alone.
        let names = if self.runtime_classes.contains("*") {
            BTreeSet::from(["*".to_string()])
        } else {
            self.runtime_classes.clone()
        };
        put("runtimeClass", json!({ "allowedRuntimeClassNames": names }));
        out
    }

    /// `{allowedAdd, requiredDrop?}`, or `None` when there is nothing to say.
    fn capabilities(&self) -> Option<Value> {
        let mut out = Map::new();
        // A capability without a name cannot be allowed, and adds are then left unconstrained.
        let allowed: Option<BTreeSet<String>> = (!self.added_unnamable).then(|| {
            if self.added.contains("*") {
                // Not a capability, but the add-list's wildcard: only "*" itself allows it.
                BTreeSet::from(["*".to_string()])
            } else {
                self.added.clone()
            }
        });
        // Every container dropping ALL (no container narrowed the set) requires ALL.
        let mut required: BTreeSet<String> = match &self.dropped_by_all {
            None => BTreeSet::from(["ALL".to_string()]),
            Some(common) => common.clone(),
        };
        // The settings refuse "*" among required drops, and a name both allowed to be added
        // and required to be dropped (a container adding and dropping the same capability).
        required.remove("*");
        required.remove("");
        if let Some(allowed) = &allowed {
            required.retain(|r| !allowed.contains(r));
        }
        if let Some(allowed) = allowed {
            out.insert("allowedAdd".into(), json!(allowed));
        }
        if !required.is_empty() {
            out.insert("requiredDrop".into(), json!(required));
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }

    /// One `{pathPrefix, readOnly}` per path in use, leaving out an entry that another one
    /// above it already covers as well (an ancestor allowing writes, or both read-only), since
    /// removing it would reject nothing.
    fn allowed_host_paths(&self) -> Value {
        let entries: Vec<Value> = self
            .host_paths
            .iter()
            .filter(|(segments, (_, read_only))| {
                !self.host_paths.iter().any(|(other, (_, other_read_only))| {
                    other.len() < segments.len()
                        && segments.starts_with(other)
                        && (!other_read_only || *read_only)
                })
            })
            .map(|(_, (spellings, read_only))| {
                // "/foo" and "foo" compare alike; the first spelling keeps the advice stable.
                let prefix = spellings.iter().next().map_or("", String::as_str);
                json!({"pathPrefix": prefix, "readOnly": read_only})
            })
            .collect();
        Value::Array(entries)
    }

    /// MustRunAs the UIDs in use when every container sets one; else MustRunAsNonRoot when no
    /// container may run as root; else nothing (RunAsAny adds nothing).
    fn run_as_user(&self) -> Option<Value> {
        if !self.uid_unset && !self.uids.is_empty() {
            if let Some(uids) = ranges(&self.uids, ID_RANGE) {
                return Some(json!({"rule": "MustRunAs", "ranges": uids}));
            }
        }
        // With no container at all, MustRunAsNonRoot is met and needs no range.
        if !self.maybe_root {
            return Some(json!({"rule": "MustRunAsNonRoot"}));
        }
        None
    }
}

/// MustRunAs the IDs in use when every one sets one, MayRunAs them when only some do, nothing
/// when none does (both rules need a range).
fn group_rule(ids: &BTreeSet<i64>, some_unset: bool) -> Option<Value> {
    if ids.is_empty() {
        return None;
    }
    let rule = if some_unset { "MayRunAs" } else { "MustRunAs" };
    Some(json!({"rule": rule, "ranges": ranges(ids, ID_RANGE)?}))
}

/// The IDs a range may hold: the settings refuse a negative `min`.
const ID_RANGE: RangeInclusive<i64> = 0..=i64::MAX;

/// `{min, max}` ranges covering exactly `ids`, consecutive ones merged; `None` when one is
/// outside what the settings accept in a range (the API server refuses such values too).
fn ranges(ids: &BTreeSet<i64>, valid: RangeInclusive<i64>) -> Option<Value> {
    if !ids.iter().all(|id| valid.contains(id)) {
        return None;
    }
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &id in ids {
        match out.last_mut() {
            Some((_, max)) if max.checked_add(1) == Some(id) => *max = id,
            _ => out.push((id, id)),
        }
    }
    Some(Value::Array(
        out.into_iter()
            .map(|(min, max)| json!({"min": min, "max": max}))
            .collect(),
    ))
}

/// The segments `allowedHostPaths` compares, of a cleaned path.
fn segments(cleaned: &str) -> Vec<String> {
    cleaned
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_consecutive_ids() {
        let ids = BTreeSet::from([1, 2, 3, 5, 7, 8]);
        assert_eq!(
            ranges(&ids, ID_RANGE),
            Some(json!([{"min": 1, "max": 3}, {"min": 5, "max": 5}, {"min": 7, "max": 8}]))
        );
        assert_eq!(ranges(&BTreeSet::new(), ID_RANGE), Some(json!([])));
        assert_eq!(ranges(&BTreeSet::from([-1, 5]), ID_RANGE), None);
        assert_eq!(ranges(&BTreeSet::from([80, 70000]), 1..=65535), None);
    }

    #[test]
    fn literal_patterns_escape_wildcards() {
        assert_eq!(literal("net.core.somaxconn"), "net.core.somaxconn");
        assert_eq!(literal("a*b?c\\"), "a\\*b\\?c\\\\");
    }

    #[test]
    fn segments_ignore_leading_and_repeated_slashes() {
        assert_eq!(segments("/var/log"), segments("var/log"));
    }
}
