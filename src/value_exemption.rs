//! Value-level exemptions (`exemptions[].values`): not a check taken out of a container or a
//! workload, but single values of one field that the checks an exemption names accept, only
//! in the containers the exemption selects (`images`, `containers`, or every container), never
//! in another container, another field or for another value.
//!
//! The checks stay as they are: each sees the pod with the exempted values masked, a value
//! removed where its absence is what the check wants (an added capability, a host port, a
//! sysctl, a volume) or replaced by the value the standard accepts (a seccomp or AppArmor
//! profile by `RuntimeDefault`, an SELinux type by none, a proc mount by the default one).
//! Values are compared whole and as written, like Kubernetes compares them.
//!
//! What the pod itself sets (sysctls, volumes, the pod's own security context) is masked only
//! by an exemption for the whole workload, as for check exemptions.

use crate::pod::{Container, Pod};
use crate::security_context::{Profile, SecurityContextCommon};
use std::collections::BTreeMap;

/// An exemption of values, as this module needs it (settings' `Exemption` is one): which
/// values of which fields, and which containers it selects.
pub trait ValueExemption {
    /// Field → the exempt values.
    fn values(&self) -> &BTreeMap<String, Vec<String>>;
    /// Whether it selects the whole workload (no `images`, no `containers`).
    fn whole_workload(&self) -> bool;
    /// Whether it selects this container.
    fn selects_container(&self, container: &Container<'_>) -> bool;
}

/// The fields a value can be exempted in: the name in `values`, and what it masks.
pub const FIELDS: &[(&str, &str)] = &[
    ("capabilities.add", "a container's added capabilities"),
    ("hostPorts", "a container's host ports (`ports[].hostPort`), as decimal numbers"),
    ("procMount", "a container's `securityContext.procMount`"),
    (
        "seccompProfile.type",
        "the seccomp profile type of a container, or of the pod for the whole workload",
    ),
    (
        "appArmorProfile.type",
        "the AppArmor profile type of a container, or of the pod for the whole workload",
    ),
    (
        "seLinuxOptions.type",
        "the SELinux type of a container, or of the pod for the whole workload",
    ),
    ("sysctls", "the pod's sysctl names (whole workload only)"),
    ("hostPath.path", "the pod's hostPath volume paths (whole workload only)"),
    (
        "volumeTypes",
        "the pod's volume types, the field holding each volume's source, e.g. `nfs` (whole workload only)",
    ),
];

/// Whether `field` is one of `FIELDS`.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn is_known_field(field: &str) -> bool {
    FIELDS.iter().any(|(name, _)| *name == field)
}

/// Fields that only the pod sets: an exemption for some containers cannot reach them.
const POD_FIELDS: &[&str] = &["sysctls", "hostPath.path", "volumeTypes"];

/// Why `exemption`'s `values` cannot be used, if they cannot.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn validate(exemption: &dyn ValueExemption) -> Result<(), String> {
    for (field, values) in exemption.values() {
        if !is_known_field(field) {
            let known: Vec<&str> = FIELDS.iter().map(|(name, _)| *name).collect();
            return Err(format!(
                "values: unknown field \"{field}\"; known fields: {}",
                known.join(", ")
            ));
        }
        if values.is_empty() {
            return Err(format!(
                "values.{field} is empty: list the values to exempt"
            ));
        }
        if values.iter().any(String::is_empty) {
            return Err(format!("values.{field} has an empty value"));
        }
        if POD_FIELDS.contains(&&**field) && !exemption.whole_workload() {
            return Err(format!(
                "values.{field}: the pod sets {field}, not a container, so an exemption of its values cannot select images or containers"
            ));
        }
    }
    Ok(())
}

/// The pod as the checks of `exemptions` see it, with every exempted value masked, and the
/// positions in it of `containers` (which must be the pod's own).
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn masked<'a>(
    pod: &Pod<'a>,
    containers: &[&Container<'a>],
    exemptions: &[&dyn ValueExemption],
) -> (Pod<'a>, Vec<usize>) {
    let positions = containers
        .iter()
        .map(|c| {
            pod.containers
                .iter()
                .position(|p| std::ptr::eq(p, *c) || (p.kind == c.kind && p.index == c.index))
                .unwrap_or(usize::MAX)
        })
        .collect();
    let mut pod = pod.clone();
    for &exemption in exemptions {
        for container in &mut pod.containers {
            if exemption.whole_workload() || exemption.selects_container(container) {
                mask_container(container, exemption);
            }
        }
        if exemption.whole_workload() {
            mask_pod(&mut pod, exemption);
        }
    }
    (pod, positions)
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn listed<'e>(exemption: &'e dyn ValueExemption, field: &str) -> Option<&'e [String]> {
    exemption.values().get(field).map(Vec::as_slice)
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn contains(values: &[String], value: &str) -> bool {
    values.iter().any(|v| v == value)
}

/// The standard's own default for an exempted profile type.
const ACCEPTED_PROFILE: Profile<'static> = Profile {
    type_: "RuntimeDefault",
    localhost_profile: None,
};

#[cfg_attr(scp_optimize_size, optimize(size))]
fn mask_common(common: &mut SecurityContextCommon<'_>, exemption: &dyn ValueExemption) {
    if let Some(values) = listed(exemption, "seccompProfile.type") {
        if common
            .seccomp_profile
            .is_some_and(|p| contains(values, p.type_))
        {
            common.seccomp_profile = Some(ACCEPTED_PROFILE);
        }
    }
    if let Some(values) = listed(exemption, "appArmorProfile.type") {
        if common
            .app_armor_profile
            .is_some_and(|p| contains(values, p.type_))
        {
            common.app_armor_profile = Some(ACCEPTED_PROFILE);
        }
    }
    if let Some(values) = listed(exemption, "seLinuxOptions.type") {
        if let Some(options) = common.se_linux_options.as_mut() {
            if contains(values, options.type_) {
                options.type_ = "";
            }
        }
    }
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn mask_container(container: &mut Container<'_>, exemption: &dyn ValueExemption) {
    if let Some(values) = listed(exemption, "hostPorts") {
        container
            .host_ports
            .retain(|port| !contains(values, &port.to_string()));
    }
    mask_common(&mut container.effective.common, exemption);
    let proc_mounts = listed(exemption, "procMount");
    if let Some(values) = proc_mounts {
        if container
            .effective
            .proc_mount
            .is_some_and(|m| contains(values, m))
        {
            container.effective.proc_mount = None;
        }
    }
    let Some(sc) = container.security_context.as_mut() else {
        return;
    };
    mask_common(&mut sc.common, exemption);
    if let Some(values) = proc_mounts {
        if sc.proc_mount.is_some_and(|m| contains(values, m)) {
            sc.proc_mount = None;
        }
    }
    if let (Some(values), Some(caps)) = (
        listed(exemption, "capabilities.add"),
        sc.capabilities.as_mut(),
    ) {
        caps.add.retain(|cap| !contains(values, cap));
    }
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn mask_pod(pod: &mut Pod<'_>, exemption: &dyn ValueExemption) {
    if let Some(sc) = pod.security_context.as_mut() {
        mask_common(&mut sc.common, exemption);
        if let Some(values) = listed(exemption, "sysctls") {
            sc.sysctls.retain(|s| !contains(values, s.name));
        }
    }
    if let Some(values) = listed(exemption, "hostPath.path") {
        pod.volumes
            .retain(|v| !(v.host_path && v.host_path_path.is_some_and(|p| contains(values, p))));
    }
    if let Some(values) = listed(exemption, "volumeTypes") {
        pod.volumes
            .retain(|v| !v.source_field.is_some_and(|f| contains(values, f)));
    }
}
