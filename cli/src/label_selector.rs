//! Kubernetes label selectors (`matchLabels`, `matchExpressions`), as the API server matches a
//! webhook's `namespaceSelector` and `objectSelector`.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// An empty selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Whether it is well formed: `In`/`NotIn` need values, `Exists`/`DoesNotExist` take none.
    pub fn validate(&self) -> Result<(), String> {
        for r in &self.match_expressions {
            match (r.operator, r.values.is_empty()) {
                (Operator::In | Operator::NotIn, true) => {
                    return Err(format!(
                        "matchExpressions: {:?} on \"{}\" needs values",
                        r.operator, r.key
                    ))
                }
                (Operator::Exists | Operator::DoesNotExist, false) => {
                    return Err(format!(
                        "matchExpressions: {:?} on \"{}\" takes no values",
                        r.operator, r.key
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator {
                    Operator::In => value.is_some_and(|v| r.values.contains(v)),
                    Operator::NotIn => !value.is_some_and(|v| r.values.contains(v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn labels_and_expressions_must_all_match() {
        let selector: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"team": "a"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "staging"]},
                {"key": "skip", "operator": "DoesNotExist"},
                {"key": "tier", "operator": "NotIn", "values": ["system"]}
            ]
        }))
        .unwrap();
        assert!(selector.matches(&labels(&[("team", "a"), ("env", "prod")])));
        assert!(!selector.matches(&labels(&[("team", "a"), ("env", "dev")])));
        assert!(!selector.matches(&labels(&[("team", "b"), ("env", "prod")])));
        assert!(!selector.matches(&labels(&[("team", "a"), ("env", "prod"), ("skip", "")])));
        assert!(!selector.matches(&labels(&[
            ("team", "a"),
            ("env", "prod"),
            ("tier", "system")
        ])));
        assert!(LabelSelector::default().matches(&labels(&[])));
    }

    #[test]
    fn malformed_requirements_are_refused() {
        let selector: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchExpressions": [{"key": "env", "operator": "In"}]
        }))
        .unwrap();
        assert!(selector.validate().unwrap_err().contains("needs values"));
        assert!(serde_json::from_value::<LabelSelector>(serde_json::json!({
            "matchExpressions": [{"key": "env", "operator": "Within", "values": ["a"]}]
        }))
        .is_err());
    }
}
