//! The policy's settings, as the user writes them, and their validation.
//!
//! Every settings type rejects unknown keys, naming them: a misspelt key must never silently
//! weaken the policy. Later constraints slot in as further optional fields of `Settings`.

use crate::checks::registry;
use crate::glob::Glob;
use crate::level::{Level, Version};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// The Pod Security Standards level to enforce.
    pub level: Level,
    /// The Kubernetes version whose definition of the level applies.
    pub version: Version,
    pub exemptions: Vec<Exemption>,
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
        let trimmed = bytes.trim_ascii();
        if trimmed.is_empty() || trimmed == b"null" {
            return Ok(Settings::default());
        }
        // serde would also read a struct from a list; settings are an object.
        if trimmed[0] != b'{' {
            return Err("invalid settings: expected a JSON object".to_string());
        }
        let settings: Settings =
            serde_json::from_slice(trimmed).map_err(|e| format!("invalid settings: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn from_value(value: &serde_json::Value) -> Result<Settings, String> {
        if value.is_null() {
            return Ok(Settings::default());
        }
        if !value.is_object() {
            return Err("invalid settings: expected a JSON object".to_string());
        }
        let settings =
            Settings::deserialize(value).map_err(|e| format!("invalid settings: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    /// What the types alone cannot express.
    pub fn validate(&self) -> Result<(), String> {
        for (i, exemption) in self.exemptions.iter().enumerate() {
            if exemption.checks.is_empty() {
                return Err(format!(
                    "invalid settings: exemptions[{i}].checks is empty: name the checks to exempt"
                ));
            }
            for id in &exemption.checks {
                if !registry::is_known(id) {
                    return Err(format!(
                        "invalid settings: exemptions[{i}].checks: unknown check \"{id}\"; known checks: {}",
                        registry::known_ids().join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Settings, String> {
        Settings::from_json(s.as_bytes())
    }

    #[test]
    fn defaults_are_restricted_latest() {
        for empty in ["", "null", "{}"] {
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
        assert!(err.contains("unknown field `levle`"), "{err}");
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
        assert!(parse("{").is_err());
    }
}
