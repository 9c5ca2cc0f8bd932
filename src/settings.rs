//! The policy's settings, as the user writes them, and their validation.
//!
//! Every settings type rejects unknown keys, naming them: a misspelt key must never silently
//! weaken the policy. Later constraints slot in as further optional fields of `Settings`.

use crate::checks::registry;
use crate::constraints::{self, Constraints};
use crate::glob::Glob;
use crate::json_text::{fill, from_bytes, object_shape, Fields, ObjectShape};
use crate::level::{Level, Version};
use crate::pod::{Container, ContainerKind};
use crate::scope::AdmissionScope;
use crate::value_exemption::{self, ValueExemption};
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The Pod Security Standards level to enforce.
    pub level: Level,
    /// The Kubernetes version whose definition of the level applies.
    pub version: Version,
    pub exemptions: Vec<Exemption>,
    /// A second level whose violations are returned as warnings, without rejecting.
    pub warn: Option<WarnLevel>,
    /// Constraints beyond the level, each optional.
    pub constraints: Constraints,
    /// Set safe defaults where they bring a workload into compliance.
    pub mutate: bool,
    /// Judge every UPDATE, even one that changes nothing the checks and constraints read.
    pub judge_every_update: bool,
    /// Tried in order when these settings reject a workload; empty inside a profile.
    pub profiles: Vec<ProfileSettings>,
    /// The profiles' text, when they are still to be read (`Settings::for_evaluation`).
    pub unread_profiles: Option<Box<RawValue>>,
    /// A level whose violations are returned as the audit annotation `audit-violations`,
    /// without rejecting.
    pub audit: Option<WarnLevel>,
    /// The request namespace's Pod Security labels choose the enforce, warn and audit levels;
    /// the settings' own are the defaults for a namespace without them.
    pub namespace_labels: bool,
}

/// The settings keys that are not constraints.
#[derive(Debug, Default)]
struct BaseSettings {
    level: Option<Level>,
    version: Version,
    exemptions: Vec<Exemption>,
    warn: Option<WarnLevel>,
    mutate: bool,
    judge_every_update: bool,
    audit: Option<WarnLevel>,
    namespace_labels: bool,
}

/// The settings keys that are not constraints, as written, and how each is read; an absent key
/// keeps its default.
const BASE_SHAPE: ObjectShape<BaseSettings> = object_shape!(BaseSettings {
    "level" => level,
    "version" => version,
    "exemptions" => exemptions,
    "warn" => warn,
    "mutate" => mutate,
    "judgeEveryUpdate" => judge_every_update,
    "audit" => audit,
    "namespaceLabels" => namespace_labels,
});

/// The settings keys that are not constraints, as written.
pub fn base_keys() -> impl Iterator<Item = &'static str> {
    BASE_SHAPE.keys()
}

/// What `containerKinds` may name: the pod-spec fields that list containers.
const CONTAINER_KINDS: &[&str] = &[
    ContainerKind::Regular.field_name(),
    ContainerKind::Init.field_name(),
    ContainerKind::Ephemeral.field_name(),
];

/// A PodSecurityPolicy, translated into constraint keys (see `pod_security_policy`).
const PSP_KEY: &str = "podSecurityPolicy";
/// A Kyverno podSecurity policy, translated into base keys (see `kyverno_policy`).
const KYVERNO_KEY: &str = "kyvernoPolicy";
/// Kyverno PolicyExceptions to it.
const KYVERNO_EXCEPTIONS_KEY: &str = "kyvernoPolicyExceptions";

/// A level and version whose violations are reported (warn, audit) rather than enforced.
#[derive(Debug, Clone, Copy, Default)]
pub struct WarnLevel {
    pub level: Level,
    pub version: Version,
}

crate::json_text::deserialize_by_shape!(WarnLevel { "level" => level, "version" => version } required ["level"]);

/// Violations of `checks` that do not count: by containers whose image matches one of `images`
/// or whose name is one of `containers`; with neither given, by the whole workload. The who and
/// where selectors (`usernames` ... `serviceAccounts`) narrow the requests the exemption applies
/// to: each one given must match, and within a list any entry.
#[derive(Debug, Clone, Default)]
pub struct Exemption {
    pub checks: Vec<String>,
    pub images: Vec<Glob>,
    pub containers: Vec<String>,
    /// The requesting user's name.
    pub usernames: Vec<Glob>,
    /// Any of the requesting user's groups.
    pub groups: Vec<Glob>,
    /// The request's namespace.
    pub namespaces: Vec<Glob>,
    /// The pod's `runtimeClassName`; a pod without one matches none.
    pub runtime_classes: Vec<Glob>,
    /// The pod's service account, as `namespace/name`.
    pub service_accounts: Vec<Glob>,
    /// The kinds of container it selects, by the pod-spec field that lists them
    /// (`containers`, `initContainers`, `ephemeralContainers`); with neither `images` nor
    /// `containers`, every container of those kinds.
    pub container_kinds: Vec<String>,
    /// The exemption applies to the requests its who and where selectors do *not* select:
    /// "these checks only for requests in these namespaces, by these users, ..." (a Kyverno
    /// rule's `match`).
    pub outside: bool,
    /// A container is selected only when its name is in `containers` *and* its image matches
    /// `images` (default: either): an exemption pinned to one container of one image, which a
    /// renamed container or a new image does not inherit.
    pub name_and_image: bool,
    /// Field → values: only these values of that field are exempt, in the selected containers
    /// (see `value_exemption`); the checks still judge everything else.
    pub values: BTreeMap<String, Vec<String>>,
}

crate::json_text::deserialize_by_shape!(Exemption {
    "checks" => checks,
    "images" => images,
    "containers" => containers,
    "usernames" => usernames,
    "groups" => groups,
    "namespaces" => namespaces,
    "runtimeClasses" => runtime_classes,
    "serviceAccounts" => service_accounts,
    "containerKinds" => container_kinds,
    "outside" => outside,
    "nameAndImage" => name_and_image,
    "values" => values,
} required ["checks"]);

impl ValueExemption for Exemption {
    fn values(&self) -> &BTreeMap<String, Vec<String>> {
        &self.values
    }

    fn whole_workload(&self) -> bool {
        Exemption::whole_workload(self)
    }

    fn selects_container(&self, container: &Container<'_>) -> bool {
        self.covers(container)
    }
}

impl Exemption {
    /// Whether it exempts values (`values`) rather than whole checks.
    pub fn exempts_values(&self) -> bool {
        !self.values.is_empty()
    }

    /// Whether it selects the whole workload, the pod's own fields included: no `images`,
    /// `containers` or `containerKinds`.
    pub fn whole_workload(&self) -> bool {
        self.images.is_empty() && self.containers.is_empty() && self.container_kinds.is_empty()
    }

    /// Whether it names this container, or its image (with `nameAndImage`: both).
    pub fn covers_container(&self, name: &str, image: &str) -> bool {
        let named = self.containers.iter().any(|c| c == name);
        let imaged = || self.images.iter().any(|g| g.matches(image));
        if self.name_and_image {
            named && imaged()
        } else {
            named || imaged()
        }
    }

    /// Whether it selects this container: by name or image when it names either, and by kind
    /// when it names kinds.
    pub fn covers(&self, container: &Container<'_>) -> bool {
        let named = (self.images.is_empty() && self.containers.is_empty())
            || self.covers_container(container.name, container.image);
        named
            && (self.container_kinds.is_empty()
                || self
                    .container_kinds
                    .iter()
                    .any(|k| k == container.kind.field()))
    }

    /// Whether it selects requests by who makes them (`usernames` or `groups`).
    pub fn selects_requester(&self) -> bool {
        !(self.usernames.is_empty() && self.groups.is_empty())
    }

    /// Whether the exemption names any who or where selector, i.e. depends on the request.
    pub fn has_selectors(&self) -> bool {
        !(self.usernames.is_empty()
            && self.groups.is_empty()
            && self.namespaces.is_empty()
            && self.runtime_classes.is_empty()
            && self.service_accounts.is_empty())
    }

    /// Whether it applies to this request: every who and where selector given matches it, or,
    /// with `outside`, not all of them do.
    pub fn selects(&self, scope: &AdmissionScope<'_>) -> bool {
        self.matches_selectors(scope) != self.outside
    }

    /// Whether every who and where selector given matches this request.
    fn matches_selectors(&self, scope: &AdmissionScope<'_>) -> bool {
        let any = |patterns: &[Glob], value: &str| patterns.iter().any(|g| g.matches(value));
        // No user (an existing pod, an anonymous request) matches no username pattern, `*` included.
        (self.usernames.is_empty()
            || scope.any_requester
            || (!scope.username.is_empty() && any(&self.usernames, scope.username)))
            && (self.groups.is_empty()
                || scope.any_requester
                || scope.groups.iter().any(|g| any(&self.groups, g)))
            && (self.namespaces.is_empty() || any(&self.namespaces, scope.namespace))
            && (self.runtime_classes.is_empty()
                || scope
                    .runtime_class
                    .is_some_and(|r| any(&self.runtime_classes, r)))
            && (self.service_accounts.is_empty()
                || any(&self.service_accounts, &scope.service_account_ref()))
    }
}

/// A named, complete set of settings that admits what the base settings reject, for requests
/// whose user or pod service account may `use` it.
#[derive(Debug, Clone)]
pub struct ProfileSettings {
    pub name: String,
    pub settings: Settings,
}

impl Settings {
    /// Reads settings from the JSON the host sends, every part of them, profiles included:
    /// what `validate_settings` answers with. `null` or nothing means all defaults.
    #[cfg_attr(scp_optimize_size, optimize(size))]
    pub fn from_json(bytes: &[u8]) -> Result<Settings, String> {
        let mut settings = Settings::for_evaluation(bytes)?;
        if let Some(text) = settings.unread_profiles.take() {
            settings.profiles = read_profiles(&text)?;
        }
        Ok(settings)
    }

    /// Reads settings for evaluating requests: like `from_json`, except that the profiles are
    /// left as their text (`unread_profiles`), since only a request the base settings reject
    /// needs them. Kubewarden checks the whole settings with `validate_settings` (`from_json`)
    /// before it sends a request.
    #[cfg_attr(scp_optimize_size, optimize(size))]
    pub fn for_evaluation(bytes: &[u8]) -> Result<Settings, String> {
        // JSON's whitespace only: a form feed is not JSON, so `\x0c{}` is unreadable, not `{}`.
        let is_json_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
        if bytes.iter().all(is_json_space) {
            return Ok(Settings::default());
        }
        let fields: Option<Fields> =
            from_bytes(bytes).map_err(|e| format!("invalid settings: {e}"))?;
        let Some(Fields(fields)) = fields else {
            return Ok(Settings::default());
        };
        let mut settings = Settings::from_fields(&fields, PROFILES_KEY)?;
        // `from_fields` refused a key given twice, so there is one `profiles` at most.
        settings.unread_profiles = fields
            .iter()
            .find(|(key, _)| key == PROFILES_KEY)
            .map(|(_, text)| (*text).to_owned())
            .filter(|text| text.get() != "null");
        Ok(settings)
    }

    #[cfg_attr(scp_optimize_size, optimize(size))]
    pub fn from_value(value: &Value) -> Result<Settings, String> {
        let text = serde_json::to_vec(value).map_err(|e| format!("invalid settings: {e}"))?;
        Settings::from_json(&text)
    }

    /// Settings from an object's fields, leaving out `skipped` (read by the caller).
    #[cfg_attr(scp_optimize_size, optimize(size))]
    fn from_fields(
        fields: &[(Cow<'_, str>, &RawValue)],
        skipped: &str,
    ) -> Result<Settings, String> {
        // Serde cannot combine a flattened struct with unknown-key rejection, so the keys are
        // split here and every unknown one is named with the full list of valid keys.
        let mut base = Vec::new();
        let mut rest = Vec::new();
        let mut psp = None;
        let mut kyverno = None;
        let mut kyverno_exceptions = None;
        for (i, (key, text)) in fields.iter().enumerate() {
            // JSON does not forbid a key given twice; settings that say two things are refused.
            if fields[..i].iter().any(|(k, _)| k == key) {
                return Err(format!("invalid settings: duplicate field `{key}`"));
            }
            if key == skipped {
                continue;
            }
            if BASE_SHAPE.has(key) {
                base.push((Cow::Borrowed(key.as_ref()), *text));
            } else if constraints::SHAPE.has(key) {
                rest.push((Cow::Borrowed(key.as_ref()), *text));
            } else if key == PSP_KEY {
                psp = Some(*text).filter(|text| text.get() != "null");
            } else if key == KYVERNO_KEY {
                kyverno = Some(*text).filter(|text| text.get() != "null");
            } else if key == KYVERNO_EXCEPTIONS_KEY {
                kyverno_exceptions = Some(*text).filter(|text| text.get() != "null");
            } else {
                let mut valid: Vec<&str> = base_keys().collect();
                valid.push(PSP_KEY);
                valid.push(KYVERNO_KEY);
                valid.push(KYVERNO_EXCEPTIONS_KEY);
                valid.push(skipped);
                for key in constraints::keys() {
                    valid.push(key);
                }
                return Err(format!(
                    "invalid settings: unknown field `{key}`, expected one of {}",
                    valid
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        // A PodSecurityPolicy becomes constraint keys, read like the ones written directly.
        let translated = match psp {
            Some(text) => {
                let psp: Value = serde_json::from_str(text.get()).map_err(|e| {
                    let e = crate::json_text::message(&e);
                    format!("invalid settings: podSecurityPolicy: {e}")
                })?;
                crate::pod_security_policy::translate(&psp)?
                    .into_iter()
                    .map(|(key, value)| {
                        let text = serde_json::value::to_raw_value(&value)
                            .map_err(|e| format!("invalid settings: podSecurityPolicy: {e}"))?;
                        Ok((key, text))
                    })
                    .collect::<Result<Vec<_>, String>>()?
            }
            None => Vec::new(),
        };
        for (key, text) in &translated {
            if rest.iter().any(|(k, _)| k == key) {
                return Err(format!(
                    "invalid settings: `{key}` is set both directly and by podSecurityPolicy; set it in one place"
                ));
            }
            rest.push((Cow::Borrowed(key.as_str()), &**text));
        }
        // A Kyverno policy becomes base keys; exemptions written directly come first.
        let kyverno_translated = translate_kyverno(kyverno, kyverno_exceptions)?;
        let mut merged_exemptions = None;
        for (key, text) in &kyverno_translated {
            match base.iter().position(|(k, _)| k == key) {
                Some(at) if key == "exemptions" => {
                    let mut own: Vec<Value> = serde_json::from_str(base[at].1.get())
                        .map_err(|e| format!("invalid settings: exemptions: {e}"))?;
                    let theirs: Vec<Value> = serde_json::from_str(text.get())
                        .map_err(|e| format!("invalid settings: kyvernoPolicy: {e}"))?;
                    own.extend(theirs);
                    merged_exemptions = Some(
                        serde_json::value::to_raw_value(&own)
                            .map_err(|e| format!("invalid settings: {e}"))?,
                    );
                    base.remove(at);
                }
                Some(_) => {
                    return Err(format!(
                        "invalid settings: `{key}` is set both directly and by kyvernoPolicy; set it in one place"
                    ))
                }
                None => base.push((Cow::Borrowed(key.as_str()), &**text)),
            }
        }
        if let Some(text) = &merged_exemptions {
            base.push((Cow::Borrowed("exemptions"), &**text));
        }
        // The caller's split refused unknown and repeated keys; the shapes read the values.
        let mut base_settings = BaseSettings::default();
        fill(&mut base_settings, &base, &BASE_SHAPE).map_err(|e| {
            let e = format!("invalid settings: {e}");
            if kyverno.is_some() {
                e.replacen(
                    "invalid settings: ",
                    "invalid settings: kyvernoPolicy (as native settings): ",
                    1,
                )
            } else {
                e
            }
        })?;
        let base = base_settings;
        let mut constraints = Constraints::default();
        fill(&mut constraints, &rest, &constraints::SHAPE)
            .map_err(|e| psp_context(psp.is_some(), format!("invalid settings: {e}")))?;
        constraints
            .prepare()
            .map_err(|e| psp_context(psp.is_some(), e))?;
        // Without an explicit level, a PodSecurityPolicy alone decides.
        let level = base.level.unwrap_or(if psp.is_some() {
            Level::Privileged
        } else {
            Level::default()
        });
        let settings = Settings {
            level,
            version: base.version,
            exemptions: base.exemptions,
            warn: base.warn,
            constraints,
            mutate: base.mutate,
            judge_every_update: base.judge_every_update,
            profiles: Vec::new(),
            unread_profiles: None,
            audit: base.audit,
            namespace_labels: base.namespace_labels,
        };
        settings.validate()?;
        Ok(settings)
    }

    /// What the types alone cannot express.
    #[cfg_attr(scp_optimize_size, optimize(size))]
    fn validate(&self) -> Result<(), String> {
        for (i, exemption) in self.exemptions.iter().enumerate() {
            if exemption.checks.is_empty() {
                return Err(format!(
                    "invalid settings: exemptions[{i}].checks is empty: name the checks to exempt"
                ));
            }
            for id in &exemption.checks {
                if !registry::is_known(id) && !constraints::is_known(id) {
                    return Err(format!(
                        "invalid settings: exemptions[{i}].checks: unknown check \"{id}\"; known checks: {}",
                        known_check_ids().join(", ")
                    ));
                }
            }
            if let Some(kind) = exemption
                .container_kinds
                .iter()
                .find(|k| !CONTAINER_KINDS.contains(&k.as_str()))
            {
                return Err(format!(
                    "invalid settings: exemptions[{i}].containerKinds: unknown kind \"{kind}\"; expected {}",
                    CONTAINER_KINDS.join(", ")
                ));
            }
            if exemption.exempts_values() {
                if let Some(id) = exemption.checks.iter().find(|id| !registry::is_known(id)) {
                    return Err(format!(
                        "invalid settings: exemptions[{i}].values: \"{id}\" is a constraint; exempt values of the level's checks only, and allow values of a constraint in its own settings"
                    ));
                }
            }
            value_exemption::validate(exemption)
                .map_err(|e| format!("invalid settings: exemptions[{i}].{e}"))?;
            if exemption.outside && !exemption.has_selectors() {
                return Err(format!(
                    "invalid settings: exemptions[{i}].outside needs a who or where selector (usernames, groups, namespaces, runtimeClasses, serviceAccounts) to be outside of"
                ));
            }
            if exemption.name_and_image
                && (exemption.containers.is_empty() || exemption.images.is_empty())
            {
                return Err(format!(
                    "invalid settings: exemptions[{i}].nameAndImage needs both containers and images: it selects the containers that match both"
                ));
            }
            if exemption.containers.iter().any(|c| c.is_empty()) {
                return Err(format!(
                    "invalid settings: exemptions[{i}].containers has an empty name"
                ));
            }
            if let Some(p) = exemption
                .service_accounts
                .iter()
                .find(|p| !p.as_str().contains('/'))
            {
                return Err(format!(
                    "invalid settings: exemptions[{i}].serviceAccounts: \"{}\" is not written namespace/name",
                    p.as_str()
                ));
            }
        }
        Ok(())
    }
}

/// `kyvernoPolicy` (and its exceptions) as base keys and their text.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn translate_kyverno(
    policy: Option<&RawValue>,
    exceptions: Option<&RawValue>,
) -> Result<Vec<(String, Box<RawValue>)>, String> {
    let read = |text: &RawValue, key: &str| -> Result<Value, String> {
        serde_json::from_str(text.get()).map_err(|e| {
            let e = crate::json_text::message(&e);
            format!("invalid settings: {key}: {e}")
        })
    };
    // An empty list of exceptions is none.
    let exceptions = exceptions.filter(|text| text.get().trim() != "[]");
    let Some(policy) = policy else {
        if exceptions.is_some() {
            return Err(format!(
                "invalid settings: {KYVERNO_EXCEPTIONS_KEY} needs {KYVERNO_KEY}, the policy they are exceptions to"
            ));
        }
        return Ok(Vec::new());
    };
    let policy = read(policy, KYVERNO_KEY)?;
    let exceptions = exceptions
        .map(|e| read(e, KYVERNO_EXCEPTIONS_KEY))
        .transpose()?;
    crate::kyverno_policy::translate(&policy, exceptions.as_ref())
        .map_err(|e| format!("invalid settings: {e}"))?
        .into_iter()
        .map(|(key, value)| {
            let text = serde_json::value::to_raw_value(&value)
                .map_err(|e| format!("invalid settings: kyvernoPolicy: {e}"))?;
            Ok((key, text))
        })
        .collect()
}

/// Errors found after translation name native keys; say where they came from.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn psp_context(from_psp: bool, message: String) -> String {
    if from_psp {
        message.replacen(
            "invalid settings: ",
            "invalid settings: podSecurityPolicy (as native settings): ",
            1,
        )
    } else {
        message
    }
}

const PROFILES_KEY: &str = "profiles";

/// `profiles`: each entry is `name` plus any settings key but `profiles`, read as settings.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn read_profiles(text: &RawValue) -> Result<Vec<ProfileSettings>, String> {
    let entries: Option<Vec<&RawValue>> = serde_json::from_str(text.get())
        .map_err(|_| "invalid settings: profiles: expected a list of profiles".to_string())?;
    let entries = entries.unwrap_or_default();
    let mut profiles: Vec<ProfileSettings> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let Ok(Fields(fields)) = serde_json::from_str::<Fields>(entry.get()) else {
            return Err(format!(
                "invalid settings: profiles[{i}]: expected an object with a name and settings"
            ));
        };
        let name = match fields.iter().rev().find(|(key, _)| key == "name") {
            Some((_, text)) => serde_json::from_str::<String>(text.get())
                .map_err(|_| format!("invalid settings: profiles[{i}].name: expected a string"))?,
            None => {
                return Err(format!(
                    "invalid settings: profiles[{i}]: missing field `name`"
                ))
            }
        };
        if let Err(why) = check_profile_name(&name) {
            return Err(format!(
                "invalid settings: profiles[{i}].name \"{name}\": {why}"
            ));
        }
        if profiles.iter().any(|p| p.name == name) {
            return Err(format!(
                "invalid settings: profiles[{i}]: the name \"{name}\" is used twice"
            ));
        }
        if fields.iter().any(|(key, _)| key == PROFILES_KEY) {
            return Err(format!(
                "invalid settings: profiles[{i}] (\"{name}\"): a profile cannot hold profiles"
            ));
        }
        let settings = Settings::from_fields(&fields, "name").map_err(|e| {
            let detail = e.strip_prefix("invalid settings: ").unwrap_or(&e);
            format!("invalid settings: profiles[{i}] (\"{name}\"): {detail}")
        })?;
        profiles.push(ProfileSettings { name, settings });
    }
    Ok(profiles)
}

/// A profile's name is the resource name RBAC grants `use` of: like the PodSecurityPolicy
/// objects it replaces, a DNS subdomain (lower-case letters, digits, `-` and `.`).
#[cfg_attr(scp_optimize_size, optimize(size))]
fn check_profile_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 253 {
        return Err("must be 1 to 253 characters long");
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if !name.split('.').all(label_ok) {
        return Err("must be a DNS subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit");
    }
    Ok(())
}

/// Every id an exemption may name: the level checks, then the constraints.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn known_check_ids() -> Vec<&'static str> {
    let mut ids = registry::known_ids();
    ids.extend(constraints::CONSTRAINTS.iter().map(|c| c.id));
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Settings, String> {
        Settings::from_json(s.as_bytes())
    }

    #[test]
    fn defaults_are_restricted_latest() {
        for empty in ["", "null", "{}", " {} ", "\n\t"] {
            let s = parse(empty).unwrap();
            assert_eq!(s.level, Level::Restricted);
            assert_eq!(s.version, Version::Latest);
            assert!(s.exemptions.is_empty());
        }
    }

    #[test]
    fn full_settings_parse() {
        let s = parse(
            r#"{"level": "baseline", "version": "v1.30", "exemptions": [
            {"checks": ["privileged"], "images": ["registry.k8s.io/*"]},
            {"checks": ["hostNamespaces"], "containers": ["agent"]},
            {"checks": ["sysctls"]}
        ]}"#,
        )
        .unwrap();
        assert_eq!(s.level, Level::Baseline);
        assert_eq!(s.version, Version::Minor(30));
        assert!(s.exemptions[0].covers_container("x", "registry.k8s.io/pause"));
        assert!(!s.exemptions[0].covers_container("x", "docker.io/pause"));
        assert!(s.exemptions[1].covers_container("agent", "any"));
        assert!(s.exemptions[2].whole_workload());
        let both = parse(
            r#"{"exemptions": [{"checks": ["privileged"], "containers": ["agent"], "images": ["example/agent:*"], "nameAndImage": true}]}"#,
        )
        .unwrap()
        .exemptions
        .remove(0);
        assert!(both.covers_container("agent", "example/agent:1"));
        assert!(!both.covers_container("agent", "example/other:1"));
        assert!(!both.covers_container("sidecar", "example/agent:1"));
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let err = parse(r#"{"level": "baseline", "level": "privileged"}"#).unwrap_err();
        assert_eq!(err, "invalid settings: duplicate field `level`");
        let err = parse(r#"{"hostPID": false, "hostPID": true}"#).unwrap_err();
        assert_eq!(err, "invalid settings: duplicate field `hostPID`");
        for key in ["podSecurityPolicy", "profiles"] {
            let err = parse(&format!(r#"{{"{key}": null, "{key}": null}}"#)).unwrap_err();
            assert_eq!(err, format!("invalid settings: duplicate field `{key}`"));
        }
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let err = parse(r#"{"levle": "baseline"}"#).unwrap_err();
        assert!(
            err.contains("unknown field `levle`, expected one of `level`"),
            "{err}"
        );
        assert!(err.contains("`runAsUser`"), "{err}");
        let err = parse(r#"{"warn": {"level": "baseline", "versoin": "v1.2"}}"#).unwrap_err();
        assert!(err.contains("unknown field `versoin`"), "{err}");
        let err = parse(r#"{"runAsUser": {"rule": "RunAsAny", "range": []}}"#).unwrap_err();
        assert!(err.contains("unknown field `range`"), "{err}");
        let err =
            parse(r#"{"exemptions": [{"checks": ["privileged"], "image": ["x"]}]}"#).unwrap_err();
        assert!(err.contains("unknown field `image`"), "{err}");
    }

    #[test]
    fn bad_values_are_rejected_with_a_reason() {
        let err = parse(r#"{"level": "strict"}"#).unwrap_err();
        assert!(err.contains("unknown level \"strict\""), "{err}");
        let err = parse(r#"{"version": "1.30"}"#).unwrap_err();
        assert!(err.contains("invalid version \"1.30\""), "{err}");
        let err = parse(r#"{"exemptions": [{"checks": ["privilegd"]}]}"#).unwrap_err();
        assert!(err.contains("unknown check \"privilegd\""), "{err}");
        let err = parse(r#"{"exemptions": [{"checks": []}]}"#).unwrap_err();
        assert!(err.contains("checks is empty"), "{err}");
        let err =
            parse(r#"{"exemptions": [{"checks": ["privileged"], "images": [""]}]}"#).unwrap_err();
        assert!(err.contains("invalid pattern"), "{err}");
        let err = parse(r#"{"exemptions": [{"images": ["x"]}]}"#).unwrap_err();
        assert!(err.contains("missing field `checks`"), "{err}");
        let err = parse(
            r#"{"exemptions": [{"checks": ["privileged"], "images": ["x"], "nameAndImage": true}]}"#,
        )
        .unwrap_err();
        assert!(
            err.contains("nameAndImage needs both containers and images"),
            "{err}"
        );
        assert!(parse(r#"{"level": 3}"#).is_err());
        assert!(parse("[]").is_err());
        // Found by fuzzing: a form feed is not JSON whitespace.
        assert!(parse("\x0c{}").is_err());
        assert!(parse("{").is_err());
    }
}

#[cfg(test)]
mod who_and_where_tests {
    use super::*;

    fn exemption(json: &str) -> Exemption {
        let s = Settings::from_json(format!(r#"{{"exemptions": [{json}]}}"#).as_bytes()).unwrap();
        s.exemptions.into_iter().next().unwrap()
    }

    fn scope<'a>(groups: &'a [String], runtime_class: Option<&'a str>) -> AdmissionScope<'a> {
        AdmissionScope {
            username: "alice",
            groups,
            namespace: "team-a",
            runtime_class,
            service_account: "builder",
            any_requester: false,
        }
    }

    #[test]
    fn each_selector_matches_its_own_fact() {
        let groups = ["dev".to_string(), "system:authenticated".to_string()];
        let s = scope(&groups, Some("gvisor"));
        let cases: &[(&str, bool)] = &[
            (r#""usernames": ["alice"]"#, true),
            (r#""usernames": ["bob", "al*"]"#, true),
            (r#""usernames": ["alice2"]"#, false),
            (r#""groups": ["dev"]"#, true),
            (r#""groups": ["ops", "system:*"]"#, true),
            (r#""groups": ["ops"]"#, false),
            (r#""namespaces": ["team-*"]"#, true),
            (r#""namespaces": ["team"]"#, false),
            (r#""runtimeClasses": ["gvisor"]"#, true),
            (r#""runtimeClasses": ["kata*"]"#, false),
            (r#""serviceAccounts": ["team-a/builder"]"#, true),
            (r#""serviceAccounts": ["*/builder"]"#, true),
            (r#""serviceAccounts": ["team-b/builder"]"#, false),
            (r#""serviceAccounts": ["team-a/default"]"#, false),
        ];
        for (selectors, expected) in cases {
            let e = exemption(&format!(r#"{{"checks": ["privileged"], {selectors}}}"#));
            assert!(e.has_selectors(), "{selectors}");
            assert_eq!(e.selects(&s), *expected, "{selectors}");
        }
    }

    #[test]
    fn every_named_selector_must_match() {
        let groups = ["dev".to_string()];
        let s = scope(&groups, None);
        let both = exemption(
            r#"{"checks": ["privileged"], "usernames": ["alice"], "namespaces": ["team-a"]}"#,
        );
        assert!(both.selects(&s));
        let one_wrong = exemption(
            r#"{"checks": ["privileged"], "usernames": ["alice"], "namespaces": ["prod"]}"#,
        );
        assert!(!one_wrong.selects(&s));
        let group_wrong =
            exemption(r#"{"checks": ["privileged"], "usernames": ["alice"], "groups": ["ops"]}"#);
        assert!(!group_wrong.selects(&s));
    }

    #[test]
    fn a_pod_without_runtime_class_matches_no_runtime_class_pattern() {
        let s = scope(&[], None);
        let nobody = AdmissionScope { username: "", ..s };
        assert!(!exemption(r#"{"checks": ["privileged"], "usernames": ["*"]}"#).selects(&nobody));
        assert!(!exemption(r#"{"checks": ["privileged"], "runtimeClasses": ["*"]}"#).selects(&s));
        // Nor does a user without groups match a group pattern.
        assert!(!exemption(r#"{"checks": ["privileged"], "groups": ["*"]}"#).selects(&s));
    }

    #[test]
    fn without_selectors_an_exemption_applies_everywhere() {
        let e = exemption(r#"{"checks": ["privileged"], "images": ["x/*"]}"#);
        assert!(!e.has_selectors());
        assert!(e.selects(&scope(&[], None)));
        // Who and where selectors do not narrow the containers: this one covers the whole
        // workload for the requests it selects.
        let e = exemption(r#"{"checks": ["privileged"], "namespaces": ["team-a"]}"#);
        assert!(e.whole_workload());
    }

    #[test]
    fn bad_selectors_are_rejected() {
        let err = Settings::from_json(
            br#"{"exemptions": [{"checks": ["privileged"], "serviceAccounts": ["builder"]}]}"#,
        )
        .unwrap_err();
        assert!(
            err.contains(
                "exemptions[0].serviceAccounts: \"builder\" is not written namespace/name"
            ),
            "{err}"
        );
        let err = Settings::from_json(
            br#"{"exemptions": [{"checks": ["privileged"], "namespaces": [""]}]}"#,
        )
        .unwrap_err();
        assert!(err.contains("invalid pattern"), "{err}");
        let err = Settings::from_json(
            br#"{"exemptions": [{"checks": ["privileged"], "namespace": ["a"]}]}"#,
        )
        .unwrap_err();
        assert!(err.contains("unknown field `namespace`"), "{err}");
    }
}

#[cfg(test)]
mod profile_settings_tests {
    use super::*;

    fn err(s: &str) -> String {
        Settings::from_json(s.as_bytes()).unwrap_err()
    }

    #[test]
    fn profiles_are_complete_settings_in_order() {
        let s = Settings::from_json(
            br#"{"level": "restricted", "profiles": [
                {"name": "baseline-agents", "level": "baseline", "version": "v1.30",
                 "exemptions": [{"checks": ["hostPorts"], "namespaces": ["monitoring"]}]},
                {"name": "privileged", "level": "privileged", "runAsUser": {"rule": "MustRunAsNonRoot"},
                 "warn": {"level": "baseline"}, "mutate": true}
            ]}"#,
        )
        .unwrap();
        assert_eq!(s.level, Level::Restricted);
        let names: Vec<&str> = s.profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["baseline-agents", "privileged"]);
        let first = &s.profiles[0].settings;
        assert_eq!(first.level, Level::Baseline);
        assert_eq!(first.version, Version::Minor(30));
        assert!(first.exemptions[0].has_selectors());
        let second = &s.profiles[1].settings;
        assert_eq!(second.level, Level::Privileged);
        assert!(second.mutate);
        assert!(second.constraints.run_as_user.is_some());
        // A profile leaves out what it does not set: the defaults, not the base's values.
        assert_eq!(second.version, Version::Latest);
        assert!(second.profiles.is_empty());
    }

    #[test]
    fn every_base_key_but_profiles_is_valid_in_a_profile() {
        // The keys an unknown one is told to be among: the same, `name` for `profiles`.
        let valid_keys = |e: String| -> Vec<String> {
            let list = e.split("expected one of ").nth(1).unwrap().to_string();
            let mut keys: Vec<String> = list.split(", ").map(str::to_string).collect();
            keys.sort();
            keys
        };
        let base = valid_keys(err(r#"{"bogus": 1}"#));
        let profile = valid_keys(err(r#"{"profiles": [{"name": "p", "bogus": 1}]}"#));
        let swapped: Vec<String> = base
            .iter()
            .map(|k| {
                if k == "`profiles`" {
                    "`name`".to_string()
                } else {
                    k.clone()
                }
            })
            .collect();
        let mut swapped = swapped;
        swapped.sort();
        assert_eq!(profile, swapped);
        for key in crate::constraints::keys() {
            let doc = format!(r#"{{"profiles": [{{"name": "p", "{key}": null}}]}}"#);
            assert!(Settings::from_json(doc.as_bytes()).is_ok(), "{key}");
        }
        assert!(err(r#"{"profiles": [{"name": "p", "profiles": []}]}"#)
            .contains("profiles[0] (\"p\"): a profile cannot hold profiles"));
    }

    #[test]
    fn profile_mistakes_name_the_profile() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"profiles": {}}"#,
                "profiles: expected a list of profiles",
            ),
            (r#"{"profiles": ["p"]}"#, "profiles[0]: expected an object"),
            (
                r#"{"profiles": [{"level": "baseline"}]}"#,
                "profiles[0]: missing field `name`",
            ),
            (
                r#"{"profiles": [{"name": 3}]}"#,
                "profiles[0].name: expected a string",
            ),
            (
                r#"{"profiles": [{"name": ""}]}"#,
                "profiles[0].name \"\": must be 1 to 253",
            ),
            (
                r#"{"profiles": [{"name": "Privileged"}]}"#,
                "must be a DNS subdomain",
            ),
            (
                r#"{"profiles": [{"name": "a/b"}]}"#,
                "must be a DNS subdomain",
            ),
            (
                r#"{"profiles": [{"name": "-a"}]}"#,
                "must be a DNS subdomain",
            ),
            (
                r#"{"profiles": [{"name": "a"}, {"name": "a"}]}"#,
                "profiles[1]: the name \"a\" is used twice",
            ),
            (
                r#"{"profiles": [{"name": "a", "levle": "baseline"}]}"#,
                "profiles[0] (\"a\"): unknown field `levle`, expected one of `level`",
            ),
            (
                r#"{"profiles": [{"name": "a", "level": "strict"}]}"#,
                "profiles[0] (\"a\"): unknown level",
            ),
            (
                r#"{"profiles": [{"name": "a", "exemptions": [{"checks": ["nope"]}]}]}"#,
                "profiles[0] (\"a\"): exemptions[0].checks: unknown check \"nope\"",
            ),
        ];
        for (settings, expected) in cases {
            let e = err(settings);
            assert!(e.contains(expected), "{settings}: {e}");
            assert!(e.starts_with("invalid settings: "), "{settings}: {e}");
        }
        // `name` is a profile's key only.
        assert!(err(r#"{"name": "a"}"#).contains("unknown field `name`"));
        let e = err(r#"{"profiles": [{"name": "a", "bogus": 1}]}"#);
        assert!(e.contains("`name`") && e.contains("`level`"), "{e}");
    }
}

#[cfg(test)]
mod constraint_settings_tests {
    use super::*;

    fn err(s: &str) -> String {
        Settings::from_json(s.as_bytes()).unwrap_err()
    }

    #[test]
    fn every_constraint_setting_parses() {
        let s = Settings::from_json(
            br#"{
            "level": "baseline",
            "warn": {"level": "restricted"},
            "runAsUser": {"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 65535}]},
            "runAsGroup": {"rule": "MayRunAs", "ranges": [{"min": 1000, "max": 65535}]},
            "supplementalGroups": {"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 2000}]},
            "fsGroup": {"rule": "RunAsAny"},
            "readOnlyRootFilesystem": true,
            "capabilities": {"allowedAdd": ["NET_BIND_SERVICE"], "requiredDrop": ["ALL"]},
            "seccomp": {"allowedTypes": ["RuntimeDefault", "Localhost"], "allowedLocalhostProfiles": ["profiles/*"]},
            "appArmor": {"allowedTypes": ["RuntimeDefault"]},
            "seLinux": {"allowedTypes": ["container_t"]},
            "sysctls": {"allowed": ["net.*"], "forbidden": ["net.ipv4.ip_forward"]},
            "exemptions": [{"checks": ["readOnlyRootFilesystemConstraint", "runAsUserConstraint"], "images": ["registry.k8s.io/*"]}]
        }"#,
        )
        .unwrap();
        assert_eq!(s.warn.unwrap().level, Level::Restricted);
        assert_eq!(s.warn.unwrap().version, Version::Latest);
        assert_eq!(s.constraints.read_only_root_filesystem, Some(true));
    }

    #[test]
    fn audit_and_namespace_labels_parse() {
        let s = Settings::from_json(
            br#"{"audit": {"level": "baseline", "version": "v1.30"}, "namespaceLabels": true}"#,
        )
        .unwrap();
        assert_eq!(s.audit.unwrap().level, Level::Baseline);
        assert_eq!(s.audit.unwrap().version, Version::Minor(30));
        assert!(s.namespace_labels);
        let s = Settings::from_json(b"{}").unwrap();
        assert!(s.audit.is_none() && !s.namespace_labels);
        for (bad, why) in [
            (r#"{"audit": {"level": "all"}}"#, "unknown level \"all\""),
            (
                r#"{"audit": {"version": "v1.30"}}"#,
                "missing field `level`",
            ),
            (
                r#"{"audit": {"level": "baseline", "mode": "x"}}"#,
                "unknown field `mode`",
            ),
            (r#"{"namespaceLabels": "yes"}"#, "invalid type"),
            (
                r#"{"namespaceLabel": true}"#,
                "unknown field `namespaceLabel`",
            ),
        ] {
            let e = err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn keys_list_matches_the_constraints_struct() {
        // Every listed key is accepted by the struct, so none can be listed but unusable.
        for key in crate::constraints::keys() {
            let doc = format!(r#"{{"{key}": null}}"#);
            assert!(Settings::from_json(doc.as_bytes()).is_ok(), "{key}");
        }
    }

    #[test]
    fn each_mistake_gets_a_clear_message() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"runAsUser": {"rule": "MustRunAs", "ranges": [{"min": 2000, "max": 1000}]}}"#,
                "runAsUser.ranges[0]: min 2000 is greater than max 1000",
            ),
            (
                r#"{"runAsUser": {"rule": "MustRunAs", "ranges": []}}"#,
                "runAsUser.ranges is empty, but rule MustRunAs needs at least one range",
            ),
            (
                r#"{"runAsUser": {"rule": "MustRunAs"}}"#,
                "runAsUser.ranges is empty",
            ),
            (
                r#"{"fsGroup": {"rule": "MustRunAs"}}"#,
                "fsGroup.ranges is empty",
            ),
            (
                r#"{"supplementalGroups": {"rule": "MayRunAs", "ranges": []}}"#,
                "supplementalGroups.ranges is empty",
            ),
            (
                r#"{"runAsGroup": {"rule": "MustRunAs", "ranges": [{"min": -1, "max": 5}]}}"#,
                "min -1 is negative",
            ),
            (
                r#"{"runAsUser": {"rule": "MustRunAsRoot"}}"#,
                "unknown rule \"MustRunAsRoot\"",
            ),
            (
                r#"{"runAsGroup": {"rule": "MustRunAsNonRoot"}}"#,
                "rule \"MustRunAsNonRoot\" applies to runAsUser only",
            ),
            (
                r#"{"fsGroup": {"rule": "MustRunAsNonRoot"}}"#,
                "applies to runAsUser only",
            ),
            (
                r#"{"runAsUser": {"rule": "MayRunAs"}}"#,
                "rule \"MayRunAs\" applies to groups only",
            ),
            (
                r#"{"seccomp": {"allowedTypes": ["Default"]}}"#,
                "unknown profile type \"Default\"",
            ),
            (
                r#"{"appArmor": {"allowedTypes": ["unconfined"]}}"#,
                "unknown profile type \"unconfined\"",
            ),
            (
                r#"{"capabilities": {"allowedAdd": ["NET_ADMIN"], "requiredDrop": ["net_admin"]}}"#,
                "capability \"NET_ADMIN\" is both",
            ),
            (
                r#"{"sysctls": {"forbidden": ["kernel.\\"]}}"#,
                "lone backslash",
            ),
            (r#"{"sysctls": {"allowed": [""]}}"#, "empty pattern"),
            (r#"{"readOnlyRootFilesystem": "yes"}"#, "invalid type"),
            (r#"{"warn": {"version": "v1.30"}}"#, "missing field `level`"),
            (r#"{"warn": {"level": "strict"}}"#, "unknown level"),
            (
                r#"{"exemptions": [{"checks": ["runAsUserConstraint", "nope"]}]}"#,
                "unknown check \"nope\"",
            ),
        ];
        for (settings, expected) in cases {
            let e = err(settings);
            assert!(e.contains(expected), "{settings}: {e}");
            assert!(e.starts_with("invalid settings"), "{settings}: {e}");
        }
    }
}
