//! Security contexts as Kubernetes defines them, and the effective context of a container.
//!
//! Kubernetes gives a container's `securityContext` precedence over the pod's, field by field, for
//! the fields that exist at both levels. Some fields exist only on the container
//! (capabilities, privileged, allowPrivilegeEscalation, readOnlyRootFilesystem, procMount) and some
//! only on the pod (fsGroup, supplementalGroups, sysctls).

use crate::image_config::ImageUser;
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeLinuxOptions<'a> {
    pub user: &'a str,
    pub role: &'a str,
    pub type_: &'a str,
    pub level: &'a str,
}

/// A seccomp or AppArmor profile: a type and, for `Localhost`, the profile's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile<'a> {
    pub type_: &'a str,
    pub localhost_profile: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowsOptions<'a> {
    pub host_process: Option<bool>,
    pub run_as_user_name: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sysctl<'a> {
    pub name: &'a str,
    pub value: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities<'a> {
    pub add: Vec<&'a str>,
    pub drop: Vec<&'a str>,
}

/// The fields that exist on both the pod's and the container's security context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SecurityContextCommon<'a> {
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub run_as_non_root: Option<bool>,
    pub se_linux_options: Option<SeLinuxOptions<'a>>,
    pub seccomp_profile: Option<Profile<'a>>,
    pub app_armor_profile: Option<Profile<'a>>,
    pub windows_options: Option<WindowsOptions<'a>>,
}

impl<'a> SecurityContextCommon<'a> {
    /// `self` over `base`, field by field.
    fn over(&self, base: &SecurityContextCommon<'a>) -> SecurityContextCommon<'a> {
        SecurityContextCommon {
            run_as_user: self.run_as_user.or(base.run_as_user),
            run_as_group: self.run_as_group.or(base.run_as_group),
            run_as_non_root: self.run_as_non_root.or(base.run_as_non_root),
            se_linux_options: self.se_linux_options.or(base.se_linux_options),
            seccomp_profile: self.seccomp_profile.or(base.seccomp_profile),
            app_armor_profile: self.app_armor_profile.or(base.app_armor_profile),
            windows_options: self.windows_options.or(base.windows_options),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodSecurityContext<'a> {
    pub common: SecurityContextCommon<'a>,
    pub fs_group: Option<i64>,
    pub supplemental_groups: Vec<i64>,
    pub sysctls: Vec<Sysctl<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerSecurityContext<'a> {
    pub common: SecurityContextCommon<'a>,
    pub privileged: Option<bool>,
    pub allow_privilege_escalation: Option<bool>,
    pub capabilities: Option<Capabilities<'a>>,
    pub read_only_root_filesystem: Option<bool>,
    pub proc_mount: Option<&'a str>,
}

/// What a container actually runs with: its own value for every field that exists at both
/// levels, else the pod's; its container-only fields as set. Pod-only fields stay on the pod.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EffectiveSecurityContext<'a> {
    pub common: SecurityContextCommon<'a>,
    pub privileged: Option<bool>,
    pub allow_privilege_escalation: Option<bool>,
    pub read_only_root_filesystem: Option<bool>,
    pub proc_mount: Option<&'a str>,
    /// The user the container's image runs as, when the manifest sets no runAsUser and the
    /// `imageUser` setting had it looked up; `None` when it was not (or could not be) read.
    pub image_user: Option<Rc<ImageUser>>,
}

impl EffectiveSecurityContext<'_> {
    /// The uid the container runs as: the manifest's runAsUser, else its image's numeric user
    /// when that was looked up. Pod Security Standards checks never use this: they judge the
    /// manifest alone, exactly as upstream.
    pub fn run_as_user_or_image(&self) -> Option<i64> {
        self.common
            .run_as_user
            .or_else(|| self.image_user.as_ref()?.uid)
    }

    /// The gid the container runs as: the manifest's runAsGroup, else its image's numeric group.
    pub fn run_as_group_or_image(&self) -> Option<i64> {
        self.common
            .run_as_group
            .or_else(|| self.image_user.as_ref()?.gid)
    }

    /// The image that decides `field` when the manifest leaves it unset, for messages.
    pub fn image_deciding(&self, manifest_value: Option<i64>) -> Option<&ImageUser> {
        if manifest_value.is_some() {
            return None;
        }
        self.image_user.as_deref()
    }
}

impl<'a> Profile<'a> {
    /// The profile a legacy `container.apparmor.security.beta.kubernetes.io/<name>` annotation
    /// asks for; `None` for an empty value.
    pub fn from_app_armor_annotation(value: &'a str) -> Option<Profile<'a>> {
        if value.is_empty() {
            return None;
        }
        Some(match value {
            "runtime/default" => Profile {
                type_: "RuntimeDefault",
                localhost_profile: None,
            },
            "unconfined" => Profile {
                type_: "Unconfined",
                localhost_profile: None,
            },
            other => match other.strip_prefix("localhost/") {
                Some(name) => Profile {
                    type_: "Localhost",
                    localhost_profile: Some(name),
                },
                // Not a value Kubernetes accepts: kept verbatim so that constraints reject it.
                None => Profile {
                    type_: other,
                    localhost_profile: None,
                },
            },
        })
    }
}

impl<'a> EffectiveSecurityContext<'a> {
    /// The one place where the pod's and a container's security contexts are merged.
    ///
    /// `app_armor_annotation` is the container's legacy AppArmor annotation, which the kubelet
    /// honours after the container's own field and before the pod's.
    pub fn merge(
        pod: Option<&PodSecurityContext<'a>>,
        container: Option<&ContainerSecurityContext<'a>>,
        app_armor_annotation: Option<Profile<'a>>,
    ) -> Self {
        let mut pod_common = pod.map(|p| p.common).unwrap_or_default();
        if app_armor_annotation.is_some() {
            pod_common.app_armor_profile = app_armor_annotation;
        }
        match container {
            Some(c) => EffectiveSecurityContext {
                common: c.common.over(&pod_common),
                privileged: c.privileged,
                allow_privilege_escalation: c.allow_privilege_escalation,
                read_only_root_filesystem: c.read_only_root_filesystem,
                proc_mount: c.proc_mount,
                image_user: None,
            },
            None => EffectiveSecurityContext {
                common: pod_common,
                ..Default::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(type_: &str) -> Option<Profile<'_>> {
        Some(Profile {
            type_,
            localhost_profile: None,
        })
    }

    #[test]
    fn container_fields_override_pod_fields_one_by_one() {
        let pod = PodSecurityContext {
            common: SecurityContextCommon {
                run_as_user: Some(1000),
                run_as_group: Some(2000),
                run_as_non_root: Some(true),
                seccomp_profile: profile("RuntimeDefault"),
                app_armor_profile: profile("RuntimeDefault"),
                se_linux_options: Some(SeLinuxOptions {
                    type_: "container_t",
                    ..Default::default()
                }),
                windows_options: Some(WindowsOptions {
                    host_process: Some(false),
                    run_as_user_name: None,
                }),
            },
            fs_group: Some(3000),
            ..Default::default()
        };
        let container = ContainerSecurityContext {
            common: SecurityContextCommon {
                run_as_user: Some(0),
                seccomp_profile: profile("Unconfined"),
                ..Default::default()
            },
            privileged: Some(true),
            ..Default::default()
        };
        let effective = EffectiveSecurityContext::merge(Some(&pod), Some(&container), None);
        assert_eq!(effective.common.run_as_user, Some(0));
        assert_eq!(effective.common.run_as_group, Some(2000));
        assert_eq!(effective.common.run_as_non_root, Some(true));
        assert_eq!(effective.common.seccomp_profile, profile("Unconfined"));
        assert_eq!(
            effective.common.app_armor_profile,
            profile("RuntimeDefault")
        );
        assert_eq!(
            effective.common.se_linux_options.unwrap().type_,
            "container_t"
        );
        assert_eq!(
            effective.common.windows_options.unwrap().host_process,
            Some(false)
        );
        assert_eq!(effective.privileged, Some(true));
    }

    #[test]
    fn without_container_context_the_pod_context_applies() {
        let pod = PodSecurityContext {
            common: SecurityContextCommon {
                run_as_non_root: Some(true),
                ..Default::default()
            },
            ..Default::default()
        };
        let effective = EffectiveSecurityContext::merge(Some(&pod), None, None);
        assert_eq!(effective.common.run_as_non_root, Some(true));
        assert_eq!(effective.privileged, None);
        let nothing = EffectiveSecurityContext::merge(None, None, None);
        assert_eq!(nothing, EffectiveSecurityContext::default());
    }

    #[test]
    fn the_app_armor_annotation_ranks_between_container_and_pod_fields() {
        let pod = PodSecurityContext {
            common: SecurityContextCommon {
                app_armor_profile: profile("RuntimeDefault"),
                ..Default::default()
            },
            ..Default::default()
        };
        let annotation = Profile::from_app_armor_annotation("localhost/custom");
        let effective = EffectiveSecurityContext::merge(Some(&pod), None, annotation);
        assert_eq!(
            effective.common.app_armor_profile.unwrap().type_,
            "Localhost"
        );
        assert_eq!(
            effective
                .common
                .app_armor_profile
                .unwrap()
                .localhost_profile,
            Some("custom")
        );
        let container = ContainerSecurityContext {
            common: SecurityContextCommon {
                app_armor_profile: profile("Unconfined"),
                ..Default::default()
            },
            ..Default::default()
        };
        let effective = EffectiveSecurityContext::merge(Some(&pod), Some(&container), annotation);
        assert_eq!(effective.common.app_armor_profile, profile("Unconfined"));
        assert_eq!(Profile::from_app_armor_annotation(""), None);
        assert_eq!(
            Profile::from_app_armor_annotation("unconfined")
                .unwrap()
                .type_,
            "Unconfined"
        );
    }
}
