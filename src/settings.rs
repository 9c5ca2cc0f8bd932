//! The policy's settings, as the user writes them, and their validation.
//!
//! Every settings type rejects unknown keys, naming them: a misspelt key must never silently
//! weaken the policy. Later constraints slot in as further optional fields of `Settings`.

use crate::checks::registry;
use crate::constraints::{self, Constraints};
use crate::glob::Glob;
use crate::level::{Level, Version};
use serde::Deserialize;
use serde_json::{Map, Value};

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
    /// A level whose violations are returned as the audit annotation `audit-violations`,
    /// without rejecting.
    pub audit: Option<WarnLevel>,
    /// The request namespace's Pod Security labels choose the enforce, warn and audit levels;
    /// the settings' own are the defaults for a namespace without them.
    pub namespace_labels: bool,
}

/// The settings keys that are not constraints.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
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

/// The settings keys that are not constraints, as written.
pub const BASE_KEYS: &[&str] = &[
    "level",
    "version",
    "exemptions",
    "warn",
    "mutate",
    "judgeEveryUpdate",
    "audit",
    "namespaceLabels",
];

/// A PodSecurityPolicy, translated into constraint keys (see `pod_security_policy`).
const PSP_KEY: &str = "podSecurityPolicy";

/// A level and version whose violations are reported (warn, audit) rather than enforced.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WarnLevel {
    pub level: Level,
    #[serde(default)]
    pub version: Version,
}

/// Violations of `checks` that do not count: by containers whose image matches one of `images`
/// or whose name is one of `containers`; with neither given, by the whole workload.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Exemption {
    pub checks: Vec<String>,
    #[serde(default)]
    pub images: Vec<Glob>,
    #[serde(default)]
    pub containers: Vec<String>,
}

impl Exemption {
    pub fn whole_workload(&self) -> bool {
        self.images.is_empty() && self.containers.is_empty()
    }

    pub fn covers_container(&self, name: &str, image: &str) -> bool {
        self.containers.iter().any(|c| c == name) || self.images.iter().any(|g| g.matches(image))
    }
}

impl Settings {
    /// Reads settings from the JSON the host sends; `null` or nothing means all defaults.
    pub fn from_json(bytes: &[u8]) -> Result<Settings, String> {
        // JSON's whitespace only: a form feed is not JSON, so `\x0c{}` is unreadable, not `{}`.
        let is_json_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
        if bytes.iter().all(is_json_space) {
            return Ok(Settings::default());
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("invalid settings: {e}"))?;
        Settings::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<Settings, String> {
        let map = match value {
            Value::Null => return Ok(Settings::default()),
            Value::Object(map) => map,
            _ => return Err("invalid settings: expected a JSON object".to_string()),
        };
        // Serde cannot combine a flattened struct with unknown-key rejection, so the keys are
        // split here and every unknown one is named with the full list of valid keys.
        let mut base = Map::new();
        let mut rest = Map::new();
        let mut psp = None;
        for (key, v) in map {
            if BASE_KEYS.contains(&key.as_str()) {
                base.insert(key.clone(), v.clone());
            } else if constraints::KEYS.contains(&key.as_str()) {
                rest.insert(key.clone(), v.clone());
            } else if key == PSP_KEY {
                psp = Some(v).filter(|v| !v.is_null());
            } else {
                let mut valid: Vec<&str> = BASE_KEYS.to_vec();
                valid.push(PSP_KEY);
                valid.extend(constraints::KEYS);
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
        if let Some(psp) = psp {
            for (key, v) in crate::pod_security_policy::translate(psp)? {
                if rest.contains_key(&key) {
                    return Err(format!(
                        "invalid settings: `{key}` is set both directly and by podSecurityPolicy; set it in one place"
                    ));
                }
                rest.insert(key, v);
            }
        }
        let base = BaseSettings::deserialize(Value::Object(base))
            .map_err(|e| format!("invalid settings: {e}"))?;
        let mut constraints = Constraints::deserialize(Value::Object(rest))
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
            audit: base.audit,
            namespace_labels: base.namespace_labels,
        };
        settings.validate()?;
        Ok(settings)
    }

    /// What the types alone cannot express.
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
            if exemption.containers.iter().any(|c| c.is_empty()) {
                return Err(format!(
                    "invalid settings: exemptions[{i}].containers has an empty name"
                ));
            }
        }
        Ok(())
    }
}

/// Errors found after translation name native keys; say where they came from.
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

/// Every id an exemption may name: the level checks, then the constraints.
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
        assert!(err.contains("invalid image pattern"), "{err}");
        let err = parse(r#"{"exemptions": [{"images": ["x"]}]}"#).unwrap_err();
        assert!(err.contains("missing field `checks`"), "{err}");
        assert!(parse(r#"{"level": 3}"#).is_err());
        assert!(parse("[]").is_err());
        // Found by fuzzing: a form feed is not JSON whitespace.
        assert!(parse("\x0c{}").is_err());
        assert!(parse("{").is_err());
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
        for key in crate::constraints::KEYS {
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
