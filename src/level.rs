//! Pod Security Standards levels and the Kubernetes versions that pin their definition.

use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::fmt;

/// The newest Kubernetes minor version whose Pod Security Standards this policy knows.
/// `latest` and any newer minor evaluate like it.
pub const NEWEST_KNOWN_MINOR: u32 = 37;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Level {
    Privileged,
    Baseline,
    #[default]
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    pub fn parse(s: &str) -> Result<Level, String> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            other => Err(format!(
                "unknown level \"{other}\": expected \"privileged\", \"baseline\" or \"restricted\""
            )),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Level::parse(&s).map_err(de::Error::custom)
    }
}

/// The version of the standards to apply: `latest` or `v1.<minor>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    #[default]
    Latest,
    Minor(u32),
}

impl Version {
    pub fn parse(s: &str) -> Result<Version, String> {
        if s == "latest" {
            return Ok(Version::Latest);
        }
        let invalid = || {
            format!(
                "invalid version \"{s}\": expected \"latest\" or \"v1.<minor>\", e.g. \"v1.30\""
            )
        };
        let minor = s.strip_prefix("v1.").ok_or_else(invalid)?;
        // Digits only, and no leading zeros, so that every version has one spelling.
        if minor.is_empty()
            || !minor.bytes().all(|b| b.is_ascii_digit())
            || (minor.len() > 1 && minor.starts_with('0'))
        {
            return Err(invalid());
        }
        minor.parse().map(Version::Minor).map_err(|_| invalid())
    }

    /// The minor version whose definitions apply.
    pub fn effective_minor(self) -> u32 {
        match self {
            Version::Latest => NEWEST_KNOWN_MINOR,
            Version::Minor(m) => m.min(NEWEST_KNOWN_MINOR),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::Minor(m) => write!(f, "v1.{m}"),
        }
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Version::parse(&s).map_err(de::Error::custom)
    }
}

crate::json_text::from_text_by_serde!(Level, Version);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_clamp() {
        assert_eq!(Version::parse("latest"), Ok(Version::Latest));
        assert_eq!(Version::parse("v1.0"), Ok(Version::Minor(0)));
        assert_eq!(Version::parse("v1.30").unwrap().effective_minor(), 30);
        assert_eq!(Version::parse("v1.99").unwrap().effective_minor(), 37);
        assert_eq!(Version::Latest.effective_minor(), NEWEST_KNOWN_MINOR);
        assert_eq!(Version::Minor(30).to_string(), "v1.30");
        for bad in [
            "", "1.30", "v2.1", "v1.", "v1.x", "v1.030", "v1.-1", "v1.3 ", "Latest",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn levels_parse() {
        assert_eq!(Level::parse("baseline"), Ok(Level::Baseline));
        assert!(Level::parse("Restricted")
            .unwrap_err()
            .contains("unknown level"));
        assert_eq!(Level::default(), Level::Restricted);
    }
}
