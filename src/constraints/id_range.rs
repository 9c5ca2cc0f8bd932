//! User and group ID rules: the shape shared by runAsUser, runAsGroup, supplementalGroups and
//! fsGroup.

use serde::de::{self, Deserializer};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdRange {
    pub min: i64,
    pub max: i64,
}

crate::json_text::deserialize_by_shape!(IdRange { "min" => min, "max" => max } required ["min", "max"]);

/// `Default` only as the settings reader's starting point: a rule must be given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UserRule {
    MustRunAs,
    MustRunAsNonRoot,
    #[default]
    RunAsAny,
}

/// `Default` only as the settings reader's starting point: a rule must be given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GroupRule {
    MustRunAs,
    MayRunAs,
    #[default]
    RunAsAny,
}

impl<'de> Deserialize<'de> for UserRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "MustRunAs" => Ok(UserRule::MustRunAs),
            "MustRunAsNonRoot" => Ok(UserRule::MustRunAsNonRoot),
            "RunAsAny" => Ok(UserRule::RunAsAny),
            "MayRunAs" => Err(de::Error::custom(
                "rule \"MayRunAs\" applies to groups only; runAsUser takes \"MustRunAs\", \"MustRunAsNonRoot\" or \"RunAsAny\"",
            )),
            other => Err(de::Error::custom(format!(
                "unknown rule \"{other}\": expected \"MustRunAs\", \"MustRunAsNonRoot\" or \"RunAsAny\""
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for GroupRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "MustRunAs" => Ok(GroupRule::MustRunAs),
            "MayRunAs" => Ok(GroupRule::MayRunAs),
            "RunAsAny" => Ok(GroupRule::RunAsAny),
            "MustRunAsNonRoot" => Err(de::Error::custom(
                "rule \"MustRunAsNonRoot\" applies to runAsUser only; group rules take \"MustRunAs\", \"MayRunAs\" or \"RunAsAny\"",
            )),
            other => Err(de::Error::custom(format!(
                "unknown rule \"{other}\": expected \"MustRunAs\", \"MayRunAs\" or \"RunAsAny\""
            ))),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct UserRuleSetting {
    pub rule: UserRule,
    pub ranges: Vec<IdRange>,
}

crate::json_text::deserialize_by_shape!(UserRuleSetting { "rule" => rule, "ranges" => ranges } required ["rule"]);

#[derive(Debug, Clone, Default)]
pub struct GroupRuleSetting {
    pub rule: GroupRule,
    pub ranges: Vec<IdRange>,
}

crate::json_text::deserialize_by_shape!(GroupRuleSetting { "rule" => rule, "ranges" => ranges } required ["rule"]);

/// Ranges must be well-formed; `needs_ranges` for the rules that cannot work without one.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub(crate) fn check_ranges(
    key: &str,
    ranges: &[IdRange],
    needs_ranges: bool,
) -> Result<(), String> {
    if needs_ranges && ranges.is_empty() {
        return Err(format!(
            "invalid settings: {key}.ranges is empty, but rule MustRunAs needs at least one range"
        ));
    }
    for (i, r) in ranges.iter().enumerate() {
        if r.min < 0 {
            return Err(format!(
                "invalid settings: {key}.ranges[{i}]: min {} is negative",
                r.min
            ));
        }
        if r.min > r.max {
            return Err(format!(
                "invalid settings: {key}.ranges[{i}]: min {} is greater than max {}",
                r.min, r.max
            ));
        }
    }
    Ok(())
}

pub(crate) fn in_ranges(id: i64, ranges: &[IdRange]) -> bool {
    ranges.iter().any(|r| r.min <= id && id <= r.max)
}

/// `1000-65535 or 100000-200000`
pub(crate) fn describe(ranges: &[IdRange]) -> String {
    ranges
        .iter()
        .map(|r| format!("{}-{}", r.min, r.max))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// What an ID field must be, with the offending value; `None` when it is fine. `required`:
/// MustRunAs (set and in range); otherwise MayRunAs (in range when set). `unset_note` explains
/// an unset value.
pub(crate) fn id_problem(
    field: &str,
    value: Option<i64>,
    ranges: &[IdRange],
    required: bool,
    unset_note: &str,
) -> Option<String> {
    match value {
        Some(id) if in_ranges(id, ranges) => None,
        Some(id) => Some(format!(
            "must set securityContext.{field} within {}, got {id}",
            describe(ranges)
        )),
        None if required => Some(format!(
            "must set securityContext.{field} within {}{unset_note}",
            describe(ranges)
        )),
        None => None,
    }
}

/// For fields that exist on both the container and the pod.
pub(crate) const UNSET_ON_BOTH: &str = " (it is set on neither the container nor the pod)";

/// What the image said when it, not the manifest, decided the value judged (see `imageUser`):
/// ` (from image "x" (USER "0"); the manifest sets none)`, or that it gave no numeric id
/// either; empty when the manifest decided or the image was not looked up.
pub(crate) fn image_note(
    image: Option<&crate::image_config::ImageUser>,
    judged: Option<i64>,
) -> String {
    match (image, judged) {
        (Some(image), Some(_)) => format!(" (from {}; the manifest sets none)", image.describe()),
        (Some(image), None) => format!(" ({} gives no numeric id either)", image.describe()),
        (None, _) => String::new(),
    }
}

crate::json_text::from_text_by_serde!(UserRule, GroupRule);
