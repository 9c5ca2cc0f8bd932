//! `--policy FILE`: a Kubewarden ClusterAdmissionPolicy or AdmissionPolicy manifest. Its
//! `spec.settings` are the settings, and its rules and selectors choose the objects it judges,
//! as the API server chooses the requests it sends the policy's webhook.

use crate::label_selector::LabelSelector;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What the API server sends a policy: the rules and selectors of its webhook.
#[derive(Debug, Clone)]
pub struct AdmissionPolicy {
    /// `ClusterAdmissionPolicy/name` or `AdmissionPolicy/namespace/name`, for messages.
    pub name: String,
    /// An AdmissionPolicy judges its own namespace only.
    pub namespace: Option<String>,
    pub settings: Value,
    pub rules: Vec<Rule>,
    /// `mode: monitor`: rejections are logged, not enforced.
    pub monitor: bool,
    pub namespace_selector: LabelSelector,
    pub object_selector: LabelSelector,
    /// `matchConditions` (CEL) cannot be evaluated here.
    pub match_conditions: usize,
}

/// One of a webhook's rules (admissionregistration's RuleWithOperations).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub api_versions: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub operations: Vec<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// The spec fields the tool reads; the others (module, policyServer, timeouts, ...) change
/// nothing about which objects are judged or how.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    settings: Value,
    #[serde(default)]
    rules: Vec<Rule>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    namespace_selector: Option<LabelSelector>,
    #[serde(default)]
    object_selector: Option<LabelSelector>,
    #[serde(default)]
    match_conditions: Vec<Value>,
}

/// What a request is, for the rules: an object created in a namespace.
pub struct RequestShape<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub resource: &'a str,
    pub namespace: &'a str,
    pub labels: &'a BTreeMap<String, String>,
}

/// Whether the policy judges a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applies {
    Yes,
    No,
    /// It depends on what only the cluster knows; the text says what.
    Unknown(String),
}

impl AdmissionPolicy {
    /// Reads the first document of `text` that is a ClusterAdmissionPolicy or AdmissionPolicy;
    /// a file with none, or with several, is an error.
    pub fn from_yaml(text: &str) -> Result<AdmissionPolicy, String> {
        let mut found = Vec::new();
        for document in serde_yaml::Deserializer::from_str(text) {
            let value = Value::deserialize(document).map_err(|e| format!("not YAML: {e}"))?;
            if value.is_null() {
                continue;
            }
            let kind = value["kind"].as_str().unwrap_or_default();
            let group = value["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .split('/')
                .next()
                .unwrap_or_default();
            if group == "policies.kubewarden.io"
                && matches!(kind, "ClusterAdmissionPolicy" | "AdmissionPolicy")
            {
                found.push(value);
            }
        }
        match found.len() {
            0 => Err(
                "no ClusterAdmissionPolicy or AdmissionPolicy (policies.kubewarden.io) in it"
                    .to_string(),
            ),
            1 => AdmissionPolicy::from_value(found.remove(0)),
            n => Err(format!(
                "{n} ClusterAdmissionPolicies or AdmissionPolicies in it; give one"
            )),
        }
    }

    fn from_value(value: Value) -> Result<AdmissionPolicy, String> {
        let kind = value["kind"].as_str().unwrap_or_default().to_string();
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let namespace = value["metadata"]["namespace"].as_str().map(str::to_string);
        let spec: Spec = serde_json::from_value(value["spec"].clone())
            .map_err(|e| format!("{kind} {name}: spec: {e}"))?;
        let monitor = match spec.mode.as_deref() {
            None | Some("protect") => false,
            Some("monitor") => true,
            Some(other) => {
                return Err(format!(
                    "{kind} {name}: spec.mode \"{other}\" is neither protect nor monitor"
                ))
            }
        };
        let is_cluster = kind == "ClusterAdmissionPolicy";
        if !is_cluster && spec.namespace_selector.is_some() {
            return Err(format!(
                "{kind} {name}: an AdmissionPolicy has no namespaceSelector (it judges its own namespace)"
            ));
        }
        if !is_cluster && namespace.is_none() {
            return Err(format!(
                "{kind} {name}: an AdmissionPolicy needs metadata.namespace, the namespace it judges"
            ));
        }
        let namespace_selector = spec.namespace_selector.unwrap_or_default();
        let object_selector = spec.object_selector.unwrap_or_default();
        for (what, selector) in [
            ("namespaceSelector", &namespace_selector),
            ("objectSelector", &object_selector),
        ] {
            selector
                .validate()
                .map_err(|e| format!("{kind} {name}: spec.{what}: {e}"))?;
        }
        let settings = match spec.settings {
            Value::Null => Value::Object(Default::default()),
            settings @ Value::Object(_) => settings,
            other => {
                return Err(format!(
                    "{kind} {name}: spec.settings must be a mapping, got {other}"
                ))
            }
        };
        Ok(AdmissionPolicy {
            name: match &namespace {
                Some(ns) if !is_cluster => format!("{kind}/{ns}/{name}"),
                _ => format!("{kind}/{name}"),
            },
            namespace: namespace.filter(|_| !is_cluster),
            settings,
            rules: spec.rules,
            monitor,
            namespace_selector,
            object_selector,
            match_conditions: spec.match_conditions.len(),
        })
    }

    /// Whether the API server would send this policy the CREATE of `request`. `namespace_labels`
    /// are the labels of the request's Namespace, when the input has it.
    pub fn applies(
        &self,
        request: &RequestShape<'_>,
        namespace_labels: Option<&BTreeMap<String, String>>,
    ) -> Applies {
        if let Some(own) = &self.namespace {
            if own != request.namespace {
                return Applies::No;
            }
        }
        if !self.rules.iter().any(|rule| rule.matches(request)) {
            return Applies::No;
        }
        if !self.object_selector.matches(request.labels) {
            return Applies::No;
        }
        if !self.namespace_selector.is_empty() {
            match namespace_labels {
                Some(labels) if !self.namespace_selector.matches(labels) => return Applies::No,
                Some(_) => {}
                None => {
                    return Applies::Unknown(format!(
                        "the labels of namespace \"{}\", for the namespaceSelector of {} (add the Namespace to the input)",
                        request.namespace, self.name
                    ))
                }
            }
        }
        if self.match_conditions > 0 {
            return Applies::Unknown(format!(
                "the matchConditions (CEL) of {}, which are evaluated only by the API server",
                self.name
            ));
        }
        Applies::Yes
    }
}

impl Rule {
    /// The API server's matching of a CREATE of a namespaced resource (no subresource).
    fn matches(&self, request: &RequestShape<'_>) -> bool {
        let any = |list: &[String], value: &str| list.iter().any(|v| v == "*" || v == value);
        any(&self.operations, "CREATE")
            && any(&self.api_groups, request.group)
            && any(&self.api_versions, request.version)
            // `*` is every resource, `*/*` every resource and subresource; `pods/*` only
            // subresources.
            && self
                .resources
                .iter()
                .any(|r| r == "*" || r == "*/*" || r == request.resource)
            && self
                .scope
                .as_deref()
                .is_none_or(|s| s == "*" || s == "Namespaced")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
apiVersion: policies.kubewarden.io/v1
kind: ClusterAdmissionPolicy
metadata: {name: security-context}
spec:
  module: registry://example/security-context-policy:v0.1.0
  mode: protect
  rules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      resources: ["deployments"]
      operations: ["CREATE", "UPDATE"]
  namespaceSelector:
    matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}]
  settings:
    level: baseline
"#;

    fn shape<'a>(
        group: &'a str,
        resource: &'a str,
        namespace: &'a str,
        labels: &'a BTreeMap<String, String>,
    ) -> RequestShape<'a> {
        RequestShape {
            group,
            version: "v1",
            resource,
            namespace,
            labels,
        }
    }

    #[test]
    fn rules_and_selectors_choose_the_objects() {
        let policy = AdmissionPolicy::from_yaml(POLICY).unwrap();
        assert_eq!(policy.settings, serde_json::json!({"level": "baseline"}));
        let none = BTreeMap::new();
        let ns = |name: &str| {
            BTreeMap::from([("kubernetes.io/metadata.name".to_string(), name.to_string())])
        };
        let deployment = shape("apps", "deployments", "team-a", &none);
        assert_eq!(
            policy.applies(&deployment, Some(&ns("team-a"))),
            Applies::Yes
        );
        let system = shape("apps", "deployments", "kube-system", &none);
        assert_eq!(
            policy.applies(&system, Some(&ns("kube-system"))),
            Applies::No
        );
        let pod = shape("", "pods", "team-a", &none);
        assert_eq!(policy.applies(&pod, Some(&ns("team-a"))), Applies::No);
        assert!(matches!(
            policy.applies(&deployment, None),
            Applies::Unknown(why) if why.contains("namespace \"team-a\"")
        ));
    }

    #[test]
    fn an_admission_policy_judges_its_own_namespace() {
        let text = r#"
apiVersion: policies.kubewarden.io/v1
kind: AdmissionPolicy
metadata: {name: p, namespace: team-a}
spec:
  mode: monitor
  rules: [{apiGroups: ["*"], apiVersions: ["*"], resources: ["*"], operations: ["*"]}]
"#;
        let policy = AdmissionPolicy::from_yaml(text).unwrap();
        assert!(policy.monitor);
        assert_eq!(policy.settings, serde_json::json!({}));
        let none = BTreeMap::new();
        assert_eq!(
            policy.applies(&shape("", "pods", "team-a", &none), None),
            Applies::Yes
        );
        assert_eq!(
            policy.applies(&shape("", "pods", "team-b", &none), None),
            Applies::No
        );
    }

    #[test]
    fn files_without_exactly_one_policy_are_refused() {
        assert!(
            AdmissionPolicy::from_yaml("kind: ConfigMap\napiVersion: v1\n")
                .unwrap_err()
                .contains("no ClusterAdmissionPolicy")
        );
        let two = format!("{POLICY}\n---\n{POLICY}");
        assert!(AdmissionPolicy::from_yaml(&two)
            .unwrap_err()
            .contains("2 ClusterAdmissionPolicies"));
        let bad_mode = POLICY.replace("mode: protect", "mode: enforce");
        assert!(AdmissionPolicy::from_yaml(&bad_mode)
            .unwrap_err()
            .contains("neither protect nor monitor"));
    }
}
