//! The settings shape shared by the seccomp and AppArmor constraints, and its evaluation.

use super::{container_subject, violation};
use crate::checks::message::join_quoted;
use crate::checks::{CheckInput, Violation};
use crate::glob::Glob;
use crate::security_context::Profile;
use serde::de::{self, Deserializer};
use serde::Deserialize;

/// `Default` only as the settings reader's starting point: a default profile names its type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProfileType {
    #[default]
    RuntimeDefault,
    Localhost,
    Unconfined,
}

impl ProfileType {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileType::RuntimeDefault => "RuntimeDefault",
            ProfileType::Localhost => "Localhost",
            ProfileType::Unconfined => "Unconfined",
        }
    }
}

impl<'de> Deserialize<'de> for ProfileType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "RuntimeDefault" => Ok(ProfileType::RuntimeDefault),
            "Localhost" => Ok(ProfileType::Localhost),
            "Unconfined" => Ok(ProfileType::Unconfined),
            other => Err(de::Error::custom(format!(
                "unknown profile type \"{other}\": expected \"RuntimeDefault\", \"Localhost\" or \"Unconfined\""
            ))),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ProfileConstraint {
    pub allowed_types: Vec<ProfileType>,
    /// Patterns a Localhost profile's name must match as a whole. Absent: any name.
    pub allowed_localhost_profiles: Option<Vec<Glob>>,
    /// A container whose effective profile is unset passes (PodSecurityPolicy's rule when it
    /// lists no profiles, or lists `*`).
    pub allow_unset: bool,
    /// What mutation sets where no profile is set (PodSecurityPolicy's `defaultProfileName`).
    pub default_profile: Option<DefaultProfile>,
}

crate::json_text::deserialize_by_shape!(ProfileConstraint {
    "allowedTypes" => allowed_types,
    "allowedLocalhostProfiles" => allowed_localhost_profiles,
    "allowUnset" => allow_unset,
    "defaultProfile" => default_profile,
});

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefaultProfile {
    pub type_: ProfileType,
    pub localhost_profile: Option<String>,
}

crate::json_text::deserialize_by_shape!(DefaultProfile { "type" => type_, "localhostProfile" => localhost_profile } required ["type"]);

impl ProfileConstraint {
    #[cfg_attr(scp_optimize_size, optimize(size))]
    pub(crate) fn check(&self, key: &str) -> Result<(), String> {
        if self.allowed_types.is_empty() && !self.allow_unset {
            return Err(format!(
                "invalid settings: {key}.allowedTypes is empty: no profile would be allowed"
            ));
        }
        if self.allowed_localhost_profiles.is_some()
            && !self.allowed_types.contains(&ProfileType::Localhost)
        {
            return Err(format!(
                "invalid settings: {key}.allowedLocalhostProfiles is given but {key}.allowedTypes does not allow Localhost"
            ));
        }
        if let Some(d) = &self.default_profile {
            let localhost = d.type_ == ProfileType::Localhost;
            if localhost != d.localhost_profile.is_some() {
                return Err(format!(
                    "invalid settings: {key}.defaultProfile.localhostProfile is required with type Localhost and only with it"
                ));
            }
            let name = d.localhost_profile.as_deref().unwrap_or("");
            let pattern_ok = !localhost
                || self
                    .allowed_localhost_profiles
                    .as_ref()
                    .is_none_or(|p| p.iter().any(|g| g.matches(name)));
            if !self.allowed_types.contains(&d.type_) || !pattern_ok {
                return Err(format!(
                    "invalid settings: {key}.defaultProfile is not an allowed profile: it would be refused"
                ));
            }
        }
        Ok(())
    }
}

/// Every container's effective profile (as `profile_of` picks it) against the constraint.
/// `field` is the securityContext field named in messages; `unset_means` the type a container
/// without a profile runs with, when the runtime is known to apply one.
pub(crate) fn evaluate<'a>(
    input: &CheckInput<'_, 'a>,
    setting: &ProfileConstraint,
    reason: &'static str,
    field: &str,
    unset_means: Option<ProfileType>,
    profile_of: impl Fn(&crate::pod::Container<'a>) -> Option<Profile<'a>>,
) -> Option<Violation> {
    let allowed: Vec<&str> = setting.allowed_types.iter().map(|t| t.as_str()).collect();
    let mut details = Vec::new();
    for c in input.containers() {
        let subject = container_subject(c.name);
        let profile = profile_of(c);
        if profile.is_none() && setting.allow_unset {
            continue;
        }
        match profile {
            None if unset_means.is_some_and(|t| setting.allowed_types.contains(&t)) => {}
            None => details.push(format!(
                "{subject} must set securityContext.{field}.type to {} ({})",
                join_quoted(&allowed),
                match unset_means {
                    Some(t) => format!("unset, it runs with \"{}\"", t.as_str()),
                    None => "it is set on neither the container nor the pod".to_string(),
                }
            )),
            Some(p) if allowed.is_empty() => details.push(format!(
                "{subject} must not set securityContext.{field} (no profile is allowed), got \"{}\"",
                p.type_
            )),
            Some(p) if !allowed.contains(&p.type_) => details.push(format!(
                "{subject} must set securityContext.{field}.type to {}, got \"{}\"",
                join_quoted(&allowed),
                p.type_
            )),
            Some(p) if p.type_ == "Localhost" => {
                if let Some(patterns) = &setting.allowed_localhost_profiles {
                    let name = p.localhost_profile.unwrap_or("");
                    if !patterns.iter().any(|g| g.matches(name)) {
                        let listed: Vec<&str> = patterns.iter().map(Glob::as_str).collect();
                        details.push(format!(
                            "{subject} must set securityContext.{field}.localhostProfile to match {}, got \"{name}\"",
                            join_quoted(&listed)
                        ));
                    }
                }
            }
            Some(_) => {}
        }
    }
    violation(reason, details)
}

crate::json_text::from_text_by_serde!(ProfileType);
