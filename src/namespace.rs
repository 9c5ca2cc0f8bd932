//! Pod Security Admission's namespace labels, read exactly as PSA reads them
//! (`k8s.io/pod-security-admission/api`, `PolicyToEvaluate`):
//!
//! - `pod-security.kubernetes.io/{enforce,audit,warn}` name a level, and
//!   `pod-security.kubernetes.io/{enforce,audit,warn}-version` a version (`latest` or `v1.<minor>`);
//! - a label that is absent keeps the default (the settings' `level`/`version`, `warn`,
//!   `audit`; privileged:latest for an absent `warn` or `audit`), separately for each level and
//!   each version, so a level label without its version label uses the default version;
//! - a label whose value is invalid is an error, and evaluation still goes on with a value:
//!   `restricted` for an invalid enforce level (fail closed), `privileged` for an invalid warn or
//!   audit level (fail open), `latest` for an invalid version.
//!
//! The errors read like the API server's field errors, e.g.
//! `metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of
//! privileged, baseline, restricted`.

use crate::level::{Level, Version};
use serde_json::Value;
use std::fmt;

pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";
pub const AUDIT_LABEL: &str = "pod-security.kubernetes.io/audit";
pub const AUDIT_VERSION_LABEL: &str = "pod-security.kubernetes.io/audit-version";
pub const WARN_LABEL: &str = "pod-security.kubernetes.io/warn";
pub const WARN_VERSION_LABEL: &str = "pod-security.kubernetes.io/warn-version";

/// A level at a version, printed `level:version` as PSA prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelVersion {
    pub level: Level,
    pub version: Version,
}

impl LevelVersion {
    pub const PRIVILEGED_LATEST: LevelVersion = LevelVersion {
        level: Level::Privileged,
        version: Version::Latest,
    };
}

impl fmt::Display for LevelVersion {
    #[cfg_attr(scp_optimize_size, optimize(size))]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

/// The three modes of a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NamespacePolicy {
    pub enforce: LevelVersion,
    pub warn: LevelVersion,
    pub audit: LevelVersion,
}

/// One invalid label value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    pub label: &'static str,
    pub value: String,
    pub detail: &'static str,
}

impl fmt::Display for LabelError {
    #[cfg_attr(scp_optimize_size, optimize(size))]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "metadata.labels[{}]: Invalid value: {:?}: {}",
            self.label, self.value, self.detail
        )
    }
}

const INVALID_LEVEL: &str = "must be one of privileged, baseline, restricted";
const INVALID_VERSION: &str = "must be \"latest\" or \"v1.x\"";

/// PSA's `ParseLevel`: an invalid level is an error, and `restricted`.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn parse_level(value: &str) -> Result<Level, Level> {
    match value {
        "privileged" => Ok(Level::Privileged),
        "baseline" => Ok(Level::Baseline),
        "restricted" => Ok(Level::Restricted),
        _ => Err(Level::Restricted),
    }
}

/// PSA's `ParseVersion`: `latest` or `v1.` followed by a minor without leading zeros; anything
/// else is an error, and `latest`.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn parse_version(value: &str) -> Result<Version, Version> {
    if value == "latest" {
        return Ok(Version::Latest);
    }
    let Some(minor) = value.strip_prefix("v1.") else {
        return Err(Version::Latest);
    };
    let digits = !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit());
    if !digits || (minor.len() > 1 && minor.starts_with('0')) {
        return Err(Version::Latest);
    }
    // PSA reads the minor as a 64-bit integer; any minor past the newest known one evaluates
    // like it, so a huge one is clamped rather than refused.
    match minor.parse::<u64>() {
        Ok(m) => Ok(Version::Minor(u32::try_from(m).unwrap_or(u32::MAX))),
        Err(_) => Err(Version::Latest),
    }
}

/// The policy a namespace's labels select over `defaults`, with the errors of invalid labels
/// (in PSA's order: enforce, enforce-version, audit, audit-version, warn, warn-version). The
/// policy is usable even when there are errors.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn policy_to_evaluate(
    label: impl Fn(&str) -> Option<String>,
    defaults: NamespacePolicy,
) -> (NamespacePolicy, Vec<LabelError>) {
    let mut policy = defaults;
    let mut errors = Vec::new();
    // Enforce fails closed (restricted); audit and warn fail open (privileged).
    for (level_label, version_label, mode, invalid_level) in [
        (
            ENFORCE_LABEL,
            ENFORCE_VERSION_LABEL,
            &mut policy.enforce,
            Level::Restricted,
        ),
        (
            AUDIT_LABEL,
            AUDIT_VERSION_LABEL,
            &mut policy.audit,
            Level::Privileged,
        ),
        (
            WARN_LABEL,
            WARN_VERSION_LABEL,
            &mut policy.warn,
            Level::Privileged,
        ),
    ] {
        if let Some(value) = label(level_label) {
            mode.level = parse_level(&value).unwrap_or_else(|_| {
                errors.push(LabelError {
                    label: level_label,
                    value,
                    detail: INVALID_LEVEL,
                });
                invalid_level
            });
        }
        if let Some(value) = label(version_label) {
            mode.version = parse_version(&value).unwrap_or_else(|latest| {
                errors.push(LabelError {
                    label: version_label,
                    value,
                    detail: INVALID_VERSION,
                });
                latest
            });
        }
    }
    (policy, errors)
}

/// The labels of an object's metadata, or why they cannot be read.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn labels_of(object: &Value) -> Result<Vec<(String, String)>, String> {
    match object.get("metadata").and_then(|m| m.get("labels")) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(format!("metadata.labels[{k}] is not a string")),
            })
            .collect(),
        Some(_) => Err("metadata.labels is not a map".to_string()),
    }
}

/// The policy an object's labels select, as `policy_to_evaluate`.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn policy_for_labels(
    labels: &[(String, String)],
    defaults: NamespacePolicy,
) -> (NamespacePolicy, Vec<LabelError>) {
    policy_to_evaluate(
        |name| {
            labels
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        },
        defaults,
    )
}

/// Errors as the API server aggregates them: one alone, several in brackets.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn errors_message(errors: &[LabelError]) -> String {
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    match texts.len() {
        1 => texts[0].clone(),
        _ => format!("[{}]", texts.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: NamespacePolicy = NamespacePolicy {
        enforce: LevelVersion {
            level: Level::Baseline,
            version: Version::Minor(30),
        },
        warn: LevelVersion::PRIVILEGED_LATEST,
        audit: LevelVersion::PRIVILEGED_LATEST,
    };

    fn lv(level: Level, version: Version) -> LevelVersion {
        LevelVersion { level, version }
    }

    fn eval(labels: &[(&str, &str)]) -> (NamespacePolicy, Vec<LabelError>) {
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        policy_for_labels(&labels, DEFAULTS)
    }

    #[test]
    fn no_labels_are_the_defaults() {
        assert_eq!(eval(&[]), (DEFAULTS, vec![]));
        assert_eq!(eval(&[("team", "a")]), (DEFAULTS, vec![]));
    }

    #[test]
    fn each_label_sets_its_mode() {
        let (p, errs) = eval(&[
            (ENFORCE_LABEL, "restricted"),
            (ENFORCE_VERSION_LABEL, "v1.25"),
            (WARN_LABEL, "baseline"),
            (WARN_VERSION_LABEL, "latest"),
            (AUDIT_LABEL, "restricted"),
            (AUDIT_VERSION_LABEL, "v1.0"),
        ]);
        assert!(errs.is_empty());
        assert_eq!(p.enforce, lv(Level::Restricted, Version::Minor(25)));
        assert_eq!(p.warn, lv(Level::Baseline, Version::Latest));
        assert_eq!(p.audit, lv(Level::Restricted, Version::Minor(0)));
    }

    #[test]
    fn a_missing_version_label_keeps_the_default_version() {
        let (p, errs) = eval(&[(ENFORCE_LABEL, "restricted"), (WARN_LABEL, "restricted")]);
        assert!(errs.is_empty());
        assert_eq!(p.enforce, lv(Level::Restricted, Version::Minor(30)));
        // The default warn version is latest.
        assert_eq!(p.warn, lv(Level::Restricted, Version::Latest));
        // A version label alone changes only the version.
        let (p, _) = eval(&[(ENFORCE_VERSION_LABEL, "v1.22")]);
        assert_eq!(p.enforce, lv(Level::Baseline, Version::Minor(22)));
        let (p, _) = eval(&[(AUDIT_VERSION_LABEL, "v1.22")]);
        assert_eq!(p.audit, lv(Level::Privileged, Version::Minor(22)));
    }

    #[test]
    fn version_spellings() {
        for (value, expect) in [
            ("latest", Ok(Version::Latest)),
            ("v1.0", Ok(Version::Minor(0))),
            ("v1.9", Ok(Version::Minor(9))),
            ("v1.30", Ok(Version::Minor(30))),
            ("v1.99", Ok(Version::Minor(99))),
            ("v1.99999999999", Ok(Version::Minor(u32::MAX))),
            ("v1.01", Err(Version::Latest)),
            ("v1.", Err(Version::Latest)),
            ("1.30", Err(Version::Latest)),
            ("v2.0", Err(Version::Latest)),
            ("v1.3a", Err(Version::Latest)),
            ("v1.-1", Err(Version::Latest)),
            ("Latest", Err(Version::Latest)),
            (" v1.30", Err(Version::Latest)),
            ("", Err(Version::Latest)),
            ("v1.99999999999999999999999", Err(Version::Latest)),
        ] {
            assert_eq!(parse_version(value), expect, "{value:?}");
        }
    }

    #[test]
    fn invalid_levels_fail_closed_for_enforce_and_open_for_warn_and_audit() {
        let (p, errs) = eval(&[
            (ENFORCE_LABEL, "strict"),
            (WARN_LABEL, "Restricted"),
            (AUDIT_LABEL, ""),
        ]);
        assert_eq!(p.enforce, lv(Level::Restricted, Version::Minor(30)));
        assert_eq!(p.warn.level, Level::Privileged);
        assert_eq!(p.audit.level, Level::Privileged);
        // Errors in PSA's order: enforce, audit, warn.
        let labels: Vec<&str> = errs.iter().map(|e| e.label).collect();
        assert_eq!(labels, [ENFORCE_LABEL, AUDIT_LABEL, WARN_LABEL]);
        assert_eq!(
            errs[0].to_string(),
            "metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted"
        );
    }

    #[test]
    fn invalid_versions_are_latest() {
        let (p, errs) = eval(&[(ENFORCE_LABEL, "baseline"), (ENFORCE_VERSION_LABEL, "1.30")]);
        assert_eq!(p.enforce, lv(Level::Baseline, Version::Latest));
        assert_eq!(
            errors_message(&errs),
            "metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: \"1.30\": must be \"latest\" or \"v1.x\""
        );
    }

    #[test]
    fn several_errors_are_bracketed() {
        let (_, errs) = eval(&[(ENFORCE_LABEL, "x"), (WARN_VERSION_LABEL, "y")]);
        let message = errors_message(&errs);
        assert!(
            message.starts_with(
                "[metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"x\""
            ),
            "{message}"
        );
        assert!(
            message
                .ends_with("warn-version]: Invalid value: \"y\": must be \"latest\" or \"v1.x\"]"),
            "{message}"
        );
    }

    #[test]
    fn labels_are_read_from_metadata() {
        let ns = serde_json::json!({"metadata": {"labels": {(ENFORCE_LABEL): "baseline"}}});
        assert_eq!(
            labels_of(&ns).unwrap(),
            vec![(ENFORCE_LABEL.to_string(), "baseline".to_string())]
        );
        assert!(labels_of(&serde_json::json!({"metadata": {}}))
            .unwrap()
            .is_empty());
        assert!(labels_of(&serde_json::json!({"metadata": {"labels": {"a": 1}}})).is_err());
        assert!(labels_of(&serde_json::json!({"metadata": {"labels": []}})).is_err());
    }
}
