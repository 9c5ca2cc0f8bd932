//! The Pod Security Standards checks, one file each, in the manner of Kubernetes' Pod Security
//! Admission: a check is a pure function from a pod to an optional violation, versioned by the
//! Kubernetes minor version from which each revision applies.

pub mod message;
pub mod registry;

mod allow_privilege_escalation;
mod app_armor_profile;
pub mod capabilities_baseline;
pub mod capabilities_restricted;
mod host_namespaces;
mod host_path_volumes;
mod host_ports;
mod host_probes_and_host_lifecycle;
pub mod privileged;
mod proc_mount;
mod proc_mount_restricted;
mod restricted_volumes;
mod run_as_non_root;
mod run_as_user;
mod se_linux_options;
mod seccomp_profile_baseline;
mod seccomp_profile_restricted;
mod sysctls;
mod windows_host_process;

use crate::pod::{Container, Pod};
use crate::security_context::{ContainerSecurityContext, SecurityContextCommon};

/// Which standard a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckLevel {
    Baseline,
    Restricted,
}

/// What a check looks at: the pod, and the containers that count for this check (exempted
/// containers are left out by the caller).
pub struct CheckInput<'i, 'a> {
    pub pod: &'i Pod<'a>,
    pub containers: &'i [&'i Container<'a>],
}

impl<'i, 'a> CheckInput<'i, 'a> {
    pub fn containers(&self) -> impl Iterator<Item = &'i Container<'a>> + '_ {
        self.containers.iter().copied()
    }

    pub fn pod_context(&self) -> Option<&'i SecurityContextCommon<'a>> {
        self.pod.security_context.as_ref().map(|sc| &sc.common)
    }
}

impl<'a> Container<'a> {
    pub fn context(&self) -> Option<&ContainerSecurityContext<'a>> {
        self.security_context.as_ref()
    }

    pub fn context_common(&self) -> Option<&SecurityContextCommon<'a>> {
        self.security_context.as_ref().map(|sc| &sc.common)
    }
}

/// A failed check, worded like Pod Security Admission: a short reason and a detail that names
/// the offending pod, containers, volumes or values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub reason: &'static str,
    pub detail: String,
}

impl Violation {
    pub fn new(reason: &'static str, detail: String) -> Option<Violation> {
        Some(Violation { reason, detail })
    }
}

pub type CheckFn = fn(&CheckInput<'_, '_>) -> Option<Violation>;

/// One revision of a check, applying from `since_minor` until the next revision.
pub struct VersionedCheck {
    pub since_minor: u32,
    pub evaluate: CheckFn,
    /// Baseline checks this (restricted) revision replaces.
    pub overrides: &'static [&'static str],
}

pub struct Check {
    pub id: &'static str,
    pub level: CheckLevel,
    /// Revisions in increasing `since_minor` order.
    pub versions: &'static [VersionedCheck],
}

impl Check {
    /// The revision in force at `minor`, if the check exists yet.
    pub fn at(&self, minor: u32) -> Option<&'static VersionedCheck> {
        self.versions.iter().rev().find(|v| v.since_minor <= minor)
    }
}

pub(crate) const fn since(since_minor: u32, evaluate: CheckFn) -> VersionedCheck {
    VersionedCheck {
        since_minor,
        evaluate,
        overrides: &[],
    }
}

pub(crate) const fn since_overriding(
    since_minor: u32,
    evaluate: CheckFn,
    overrides: &'static [&'static str],
) -> VersionedCheck {
    VersionedCheck {
        since_minor,
        evaluate,
        overrides,
    }
}

/// The names, in visiting order, of the containers for which `bad` holds.
pub(crate) fn names_where<'a>(
    input: &CheckInput<'_, 'a>,
    mut bad: impl FnMut(&Container<'a>) -> bool,
) -> Vec<&'a str> {
    input
        .containers()
        .filter(|c| bad(c))
        .map(|c| c.name)
        .collect()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Runs one check revision on a pod written as JSON.
    use super::*;

    pub fn run(check: CheckFn, pod: serde_json::Value) -> Option<Violation> {
        let pod = crate::pod::read_test_pod(&pod).expect("test pod is readable");
        let containers: Vec<&Container> = pod.containers.iter().collect();
        check(&CheckInput {
            pod: &pod,
            containers: &containers,
        })
    }

    /// The detail of the violation, panicking when the check passed.
    pub fn denied(check: CheckFn, pod: serde_json::Value) -> String {
        let v = run(check, pod).expect("expected a violation");
        format!("{} ({})", v.reason, v.detail)
    }
}
