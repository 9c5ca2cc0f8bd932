//! Which revision of which check applies at a level and version.
//!
//! As in Pod Security Admission: a level's checks are the baseline checks, plus for restricted the
//! restricted checks, minus the baseline checks that an applicable restricted revision overrides.
//! Checks run baseline first, then restricted, each group sorted by id, which fixes the order of
//! reasons in a message.

use super::{
    allow_privilege_escalation, app_armor_profile, capabilities_baseline, capabilities_restricted,
    host_namespaces, host_path_volumes, host_ports, host_probes_and_host_lifecycle, privileged,
    proc_mount, proc_mount_restricted, restricted_volumes, run_as_non_root, run_as_user,
    se_linux_options, seccomp_profile_baseline, seccomp_profile_restricted, sysctls,
    windows_host_process, Check, CheckFn, CheckLevel,
};
use crate::level::Level;

/// Every check this policy knows. Adding a check is a file and a line here.
pub const CHECKS: &[&Check] = &[
    &allow_privilege_escalation::CHECK,
    &app_armor_profile::CHECK,
    &capabilities_baseline::CHECK,
    &capabilities_restricted::CHECK,
    &host_namespaces::CHECK,
    &host_path_volumes::CHECK,
    &host_ports::CHECK,
    &host_probes_and_host_lifecycle::CHECK,
    &privileged::CHECK,
    &proc_mount::CHECK,
    &proc_mount_restricted::CHECK,
    &restricted_volumes::CHECK,
    &run_as_non_root::CHECK,
    &run_as_user::CHECK,
    &se_linux_options::CHECK,
    &seccomp_profile_baseline::CHECK,
    &seccomp_profile_restricted::CHECK,
    &sysctls::CHECK,
    &windows_host_process::CHECK,
];

pub fn is_known(id: &str) -> bool {
    CHECKS.iter().any(|c| c.id == id)
}

/// The ids of every check, sorted, for messages that list them.
pub fn known_ids() -> Vec<&'static str> {
    let mut ids: Vec<_> = CHECKS.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    ids
}

#[derive(Clone, Copy)]
pub struct ResolvedCheck {
    pub id: &'static str,
    pub evaluate: CheckFn,
}

/// The checks, in evaluation order, that apply at `level` for Kubernetes minor version `minor`.
pub fn resolve(level: Level, minor: u32) -> Vec<ResolvedCheck> {
    let wanted = match level {
        Level::Privileged => return Vec::new(),
        Level::Baseline => &[CheckLevel::Baseline][..],
        Level::Restricted => &[CheckLevel::Baseline, CheckLevel::Restricted][..],
    };
    let overridden: Vec<&str> = if level == Level::Restricted {
        CHECKS
            .iter()
            .filter(|c| c.level == CheckLevel::Restricted)
            .filter_map(|c| c.at(minor))
            .flat_map(|v| v.overrides.iter().copied())
            .collect()
    } else {
        Vec::new()
    };
    // Baseline's checks, then restricted's, each by id: `CHECKS` is listed by id.
    wanted
        .iter()
        .flat_map(|level| CHECKS.iter().filter(move |c| c.level == *level))
        .filter(|c| !overridden.contains(&c.id))
        .filter_map(|c| {
            c.at(minor).map(|v| ResolvedCheck {
                id: c.id,
                evaluate: v.evaluate,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_listed_by_id() {
        let ids: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted, "resolve relies on CHECKS being in id order");
    }

    fn ids(level: Level, minor: u32) -> Vec<&'static str> {
        resolve(level, minor).iter().map(|c| c.id).collect()
    }

    #[test]
    fn ids_are_unique_and_revisions_increase() {
        let mut ids = known_ids();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert_eq!(n, 19);
        for check in CHECKS {
            assert!(check
                .versions
                .windows(2)
                .all(|w| w[0].since_minor < w[1].since_minor));
            for v in check.versions {
                for o in v.overrides {
                    assert_eq!(check.level, CheckLevel::Restricted);
                    let target = CHECKS.iter().find(|c| c.id == *o).expect("override exists");
                    assert_eq!(target.level, CheckLevel::Baseline);
                }
            }
        }
    }

    #[test]
    fn privileged_has_no_checks() {
        assert!(resolve(Level::Privileged, 37).is_empty());
    }

    #[test]
    fn baseline_latest_runs_the_twelve_baseline_checks_in_id_order() {
        assert_eq!(
            ids(Level::Baseline, 37),
            [
                "appArmorProfile",
                "capabilities_baseline",
                "hostNamespaces",
                "hostPathVolumes",
                "hostPorts",
                "hostProbesAndHostLifecycle",
                "privileged",
                "procMount",
                "seLinuxOptions",
                "seccompProfile_baseline",
                "sysctls",
                "windowsHostProcess"
            ]
        );
        assert!(!ids(Level::Baseline, 33).contains(&"hostProbesAndHostLifecycle"));
    }

    #[test]
    fn restricted_checks_replace_their_baseline_twins_by_version() {
        let v1_0 = ids(Level::Restricted, 0);
        assert!(v1_0.contains(&"restrictedVolumes") && !v1_0.contains(&"hostPathVolumes"));
        assert!(v1_0.contains(&"capabilities_baseline"));
        assert!(v1_0.contains(&"seccompProfile_baseline"));
        assert!(!v1_0.contains(&"allowPrivilegeEscalation"));

        let v1_22 = ids(Level::Restricted, 22);
        assert!(
            v1_22.contains(&"capabilities_restricted") && !v1_22.contains(&"capabilities_baseline")
        );
        assert!(
            v1_22.contains(&"seccompProfile_restricted")
                && !v1_22.contains(&"seccompProfile_baseline")
        );
        assert!(!v1_22.contains(&"runAsUser"));
        assert!(ids(Level::Restricted, 23).contains(&"runAsUser"));

        let v1_34 = ids(Level::Restricted, 34);
        assert!(v1_34.contains(&"procMount") && !v1_34.contains(&"procMount_restricted"));
        let v1_35 = ids(Level::Restricted, 35);
        assert!(v1_35.contains(&"procMount_restricted") && !v1_35.contains(&"procMount"));

        // Baseline ids first, then restricted ones.
        let first_restricted = v1_35
            .iter()
            .position(|id| *id == "allowPrivilegeEscalation")
            .unwrap();
        assert_eq!(v1_35[first_restricted - 1], "windowsHostProcess");
    }
}
