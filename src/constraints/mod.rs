//! Constraints beyond the standard levels, configured in the settings and evaluated on the
//! effective security context of every container. They only ever tighten: loosening is what
//! exemptions are for, and every constraint has an id that exemptions can name.
//!
//! A constraint is one file with its settings type and a pure function of the pod and its
//! settings; `CONSTRAINTS` below is the table that wires it in.

mod allow_privilege_escalation;
mod allowed_csi_drivers;
mod allowed_flex_volumes;
mod allowed_host_paths;
mod allowed_proc_mount_types;
mod app_armor;
mod capabilities;
mod driver_allow_list;
mod fs_group;
mod host_ipc;
mod host_namespace;
mod host_network;
mod host_pid;
mod host_ports;
mod id_range;
pub mod image_user;
mod privileged;
mod profile;
mod read_only_root_filesystem;
mod run_as_group;
mod run_as_user;
mod runtime_class;
mod se_linux;
mod seccomp;
mod supplemental_groups;
mod sysctls;
mod volumes;

pub use allowed_csi_drivers::AllowedCsiDriver;
pub use allowed_flex_volumes::AllowedFlexVolume;
pub use allowed_host_paths::{clean as clean_host_path, AllowedHostPath};
pub use capabilities::{
    normalize as normalize_capability, CapabilitiesConstraint, ID as CAPABILITIES_CONSTRAINT,
};
pub use host_ports::PortRange;
pub use id_range::{GroupRule, GroupRuleSetting, IdRange, UserRule, UserRuleSetting};
pub use image_user::{ImageUserSetting, OnImageError};
pub use profile::{DefaultProfile, ProfileConstraint, ProfileType};
pub use runtime_class::RuntimeClassConstraint;
pub use se_linux::SeLinuxConstraint;
pub use sysctls::SysctlsConstraint;
pub use volumes::volume_type;
pub use volumes::VOLUME_TYPES;

use crate::checks::{CheckInput, Violation};
use crate::json_text::{object_shape, ObjectShape};

/// The constraint settings; each absent one adds nothing.
#[derive(Debug, Clone, Default)]
pub struct Constraints {
    pub run_as_user: Option<UserRuleSetting>,
    pub run_as_group: Option<GroupRuleSetting>,
    pub supplemental_groups: Option<GroupRuleSetting>,
    pub fs_group: Option<GroupRuleSetting>,
    pub read_only_root_filesystem: Option<bool>,
    pub capabilities: Option<CapabilitiesConstraint>,
    pub seccomp: Option<ProfileConstraint>,
    pub app_armor: Option<ProfileConstraint>,
    pub se_linux: Option<SeLinuxConstraint>,
    pub sysctls: Option<SysctlsConstraint>,
    pub host_network: Option<bool>,
    pub host_pid: Option<bool>,
    pub host_ipc: Option<bool>,
    pub host_ports: Option<Vec<PortRange>>,
    pub allowed_host_paths: Option<Vec<AllowedHostPath>>,
    pub volumes: Option<Vec<String>>,
    pub allowed_flex_volumes: Option<Vec<AllowedFlexVolume>>,
    pub allowed_csi_drivers: Option<Vec<AllowedCsiDriver>>,
    pub allowed_proc_mount_types: Option<Vec<String>>,
    pub runtime_class: Option<RuntimeClassConstraint>,
    pub privileged: Option<bool>,
    pub allow_privilege_escalation: Option<bool>,
    /// Not a constraint: what mutation sets where a container sets no allowPrivilegeEscalation.
    pub default_allow_privilege_escalation: Option<bool>,
    pub image_user: Option<ImageUserSetting>,
}

/// The settings keys of `Constraints`, as written, and how each is read.
pub const SHAPE: ObjectShape<Constraints> = object_shape!(Constraints {
    "runAsUser" => run_as_user,
    "runAsGroup" => run_as_group,
    "supplementalGroups" => supplemental_groups,
    "fsGroup" => fs_group,
    "readOnlyRootFilesystem" => read_only_root_filesystem,
    "capabilities" => capabilities,
    "seccomp" => seccomp,
    "appArmor" => app_armor,
    "seLinux" => se_linux,
    "sysctls" => sysctls,
    "hostNetwork" => host_network,
    "hostPID" => host_pid,
    "hostIPC" => host_ipc,
    "hostPorts" => host_ports,
    "allowedHostPaths" => allowed_host_paths,
    "volumes" => volumes,
    "allowedFlexVolumes" => allowed_flex_volumes,
    "allowedCSIDrivers" => allowed_csi_drivers,
    "allowedProcMountTypes" => allowed_proc_mount_types,
    "runtimeClass" => runtime_class,
    "privileged" => privileged,
    "allowPrivilegeEscalation" => allow_privilege_escalation,
    "defaultAllowPrivilegeEscalation" => default_allow_privilege_escalation,
    "imageUser" => image_user,
});

/// The settings keys of `Constraints`, as written.
pub fn keys() -> impl Iterator<Item = &'static str> {
    SHAPE.keys()
}

pub type ConstraintFn = fn(&CheckInput<'_, '_>, &Constraints) -> Option<Violation>;

pub struct Constraint {
    pub id: &'static str,
    /// Whether the settings configure this constraint at all.
    pub configured: fn(&Constraints) -> bool,
    pub evaluate: ConstraintFn,
    /// Checks the constraint's settings and brings them into their canonical form.
    pub prepare: fn(&mut Constraints) -> Result<(), String>,
}

/// Every constraint, in the order their violations are reported (after the level's checks).
pub const CONSTRAINTS: &[Constraint] = &[
    run_as_user::CONSTRAINT,
    run_as_group::CONSTRAINT,
    supplemental_groups::CONSTRAINT,
    fs_group::CONSTRAINT,
    read_only_root_filesystem::CONSTRAINT,
    capabilities::CONSTRAINT,
    seccomp::CONSTRAINT,
    app_armor::CONSTRAINT,
    se_linux::CONSTRAINT,
    sysctls::CONSTRAINT,
    host_network::CONSTRAINT,
    host_pid::CONSTRAINT,
    host_ipc::CONSTRAINT,
    host_ports::CONSTRAINT,
    allowed_host_paths::CONSTRAINT,
    volumes::CONSTRAINT,
    allowed_flex_volumes::CONSTRAINT,
    allowed_csi_drivers::CONSTRAINT,
    allowed_proc_mount_types::CONSTRAINT,
    runtime_class::CONSTRAINT,
    privileged::CONSTRAINT,
    allow_privilege_escalation::CONSTRAINT,
    image_user::CONSTRAINT,
];

pub fn is_known(id: &str) -> bool {
    CONSTRAINTS.iter().any(|c| c.id == id)
}

impl Constraints {
    /// Validates every configured constraint and normalises its values (capability names, ...).
    #[cfg_attr(scp_optimize_size, optimize(size))]
    pub fn prepare(&mut self) -> Result<(), String> {
        for c in CONSTRAINTS {
            if (c.configured)(self) {
                (c.prepare)(self)?;
            }
        }
        Ok(())
    }
}

/// A constraint that needs no preparation.
pub(crate) fn nothing_to_prepare(_: &mut Constraints) -> Result<(), String> {
    Ok(())
}

/// `container "app"`, the subject of a per-container detail.
pub(crate) fn container_subject(name: &str) -> String {
    format!("container \"{name}\"")
}

/// Joins per-container details into one violation, or none.
pub(crate) fn violation(reason: &'static str, details: Vec<String>) -> Option<Violation> {
    if details.is_empty() {
        None
    } else {
        Violation::new(reason, details.join("; "))
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Runs the configured constraints on a pod written as JSON.
    use crate::checks::{CheckInput, Violation};
    use crate::pod::Container;
    use crate::settings::Settings;

    /// The first violation of the constraints in `settings` on a pod (`{metadata?, spec}`).
    pub fn constrained_pod(
        settings: &serde_json::Value,
        pod: serde_json::Value,
    ) -> Option<Violation> {
        let settings = Settings::from_value(settings).expect("valid test settings");
        let pod = crate::pod::read_test_pod(&pod).expect("readable test pod");
        let containers: Vec<&Container> = pod.containers.iter().collect();
        let input = CheckInput {
            pod: &pod,
            containers: &containers,
        };
        super::CONSTRAINTS
            .iter()
            .filter(|c| (c.configured)(&settings.constraints))
            .find_map(|c| (c.evaluate)(&input, &settings.constraints))
    }

    /// Like `constrained_pod` for a pod spec.
    pub fn constrained(settings: &serde_json::Value, spec: serde_json::Value) -> Option<Violation> {
        constrained_pod(settings, serde_json::json!({ "spec": spec }))
    }

    pub fn denied(settings: &serde_json::Value, spec: serde_json::Value) -> String {
        let v = constrained(settings, spec).expect("expected a violation");
        format!("{} ({})", v.reason, v.detail)
    }
}
