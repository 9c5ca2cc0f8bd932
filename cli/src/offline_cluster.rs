//! What the cluster would tell the policy, answered offline: the labels of the Namespaces in the
//! input, and whatever a kwctl session file (`--session`) recorded, looked up by request rather
//! than replayed in order, since objects are judged in no fixed order. A question neither can
//! answer is never guessed: the module gets an error and fails closed, and the tool reports
//! the object as undecided, saying what only the cluster knows.

use policy_runner::{HostAnswer, HostRequest, ReplaySession};
use security_context_policy::context::{AccessReview, ClusterContext, ContextError};
use serde_json::Value;
use std::collections::BTreeMap;

/// The label the API server sets on every Namespace to its name.
pub const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The start of the error the module gets for a question only the cluster can answer.
pub const NEEDS_CLUSTER: &str = "not known offline";

#[derive(Debug, Default)]
pub struct OfflineCluster {
    /// Namespace objects of the input by name, with the labels the API server would add.
    namespaces: BTreeMap<String, Value>,
    session: Option<ReplaySession>,
}

impl OfflineCluster {
    pub fn new(session: Option<ReplaySession>) -> OfflineCluster {
        OfflineCluster {
            namespaces: BTreeMap::new(),
            session,
        }
    }

    /// Takes a Namespace of the input as the cluster would hold it once applied: with its
    /// `kubernetes.io/metadata.name` label. The last one of a name wins, as with `kubectl apply`.
    pub fn add_namespace(&mut self, mut namespace: Value) {
        let Some(name) = namespace["metadata"]["name"].as_str().map(str::to_string) else {
            return;
        };
        if !namespace["metadata"]["labels"].is_object() {
            namespace["metadata"]["labels"] = Value::Object(Default::default());
        }
        namespace["metadata"]["labels"][NAME_LABEL] = Value::String(name.clone());
        self.namespaces.insert(name, namespace);
    }

    /// The labels of a namespace of the input.
    pub fn namespace_labels(&self, name: &str) -> Option<BTreeMap<String, String>> {
        let labels = self.namespaces.get(name)?["metadata"]["labels"].as_object()?;
        Some(
            labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect(),
        )
    }

    /// The answer to a host call of the module, or what could not be answered.
    pub fn answer(&self, request: &HostRequest) -> Result<Vec<u8>, String> {
        if let HostRequest::KubernetesGetResource {
            api_version,
            kind,
            name,
            ..
        } = request
        {
            if api_version == "v1" && kind == "Namespace" {
                if let Some(namespace) = self.namespaces.get(name) {
                    return Ok(serde_json::to_vec(namespace).unwrap_or_default());
                }
            }
        }
        let recorded = self
            .session
            .as_ref()
            .and_then(|s| s.lookup_where(|r| same_question(r, request)));
        match recorded {
            Some(answer) => answer_bytes(answer),
            None => Err(describe(request)),
        }
    }
}

/// A recorded answer as the module would get it: a recorded error stays the host's error.
fn answer_bytes(answer: HostAnswer) -> Result<Vec<u8>, String> {
    answer.map_err(|e| format!("the session's recorded error: {e}"))
}

/// Whether a recorded request asks what `asked` asks: the same resource or image, whatever
/// the cache flags.
fn same_question(recorded: &HostRequest, asked: &HostRequest) -> bool {
    match (recorded, asked) {
        (
            HostRequest::KubernetesGetResource {
                api_version: a1,
                kind: k1,
                name: n1,
                namespace: ns1,
                ..
            },
            HostRequest::KubernetesGetResource {
                api_version: a2,
                kind: k2,
                name: n2,
                namespace: ns2,
                ..
            },
        ) => a1 == a2 && k1 == k2 && n1 == n2 && ns1 == ns2,
        (
            HostRequest::KubernetesCanI { request: r1, .. },
            HostRequest::KubernetesCanI { request: r2, .. },
        ) => r1 == r2,
        _ => recorded == asked,
    }
}

/// What a question asks, for the report of an undecided object.
fn describe(request: &HostRequest) -> String {
    match request {
        HostRequest::KubernetesGetResource { kind, name, .. } if kind == "Namespace" => format!(
            "the labels of namespace \"{name}\" (add its Namespace to the input, or give --session)"
        ),
        HostRequest::KubernetesGetResource {
            kind,
            name,
            namespace,
            ..
        } => match namespace {
            Some(ns) => format!("{kind} \"{ns}/{name}\""),
            None => format!("{kind} \"{name}\""),
        },
        HostRequest::KubernetesListResourceNamespace {
            kind, namespace, ..
        } => format!("the {kind}s of namespace \"{namespace}\""),
        HostRequest::KubernetesListResourceAll { kind, .. } => format!("every {kind}"),
        HostRequest::KubernetesCanI { request, .. } => {
            let r = &request.resource_attributes;
            format!(
                "whether \"{}\" may {} {} \"{}\" (a SubjectAccessReview, for a profile; give --session)",
                request.user,
                r.verb,
                r.resource,
                r.name.as_deref().unwrap_or_default()
            )
        }
        HostRequest::OciManifestAndConfig { image }
        | HostRequest::OciManifest { image }
        | HostRequest::OciManifestDigest { image } => format!(
            "the configuration of image \"{image}\" (its USER, from the registry; give --session)"
        ),
        HostRequest::DnsLookupHost { host } => format!("the addresses of host \"{host}\""),
    }
}

/// The same answers for the native evaluator, which breaks a rejection down.
impl ClusterContext for OfflineCluster {
    fn namespace(&self, name: &str) -> Result<Value, ContextError> {
        let request = HostRequest::KubernetesGetResource {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            name: name.into(),
            namespace: None,
            disable_cache: false,
            field_masks: None,
        };
        self.json(&request, format!("namespace \"{name}\""))
    }

    fn pods_in_namespace(&self, namespace: &str) -> Result<Vec<Value>, ContextError> {
        Err(ContextError::new(
            format!("the pods of namespace \"{namespace}\""),
            NEEDS_CLUSTER,
        ))
    }

    fn can_i(&self, review: &AccessReview) -> Result<bool, ContextError> {
        Err(ContextError::new(
            format!("whether \"{}\" may {}", review.user, review.verb),
            NEEDS_CLUSTER,
        ))
    }

    fn image_config(&self, image: &str) -> Result<Value, ContextError> {
        let request = HostRequest::OciManifestAndConfig {
            image: image.into(),
        };
        self.json(&request, format!("the configuration of image \"{image}\""))
    }
}

impl OfflineCluster {
    fn json(&self, request: &HostRequest, subject: String) -> Result<Value, ContextError> {
        let bytes = self
            .answer(request)
            .map_err(|e| ContextError::new(subject.clone(), e))?;
        serde_json::from_slice(&bytes).map_err(|e| ContextError::new(subject, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_namespaces_answer_with_the_name_label() {
        let mut cluster = OfflineCluster::new(None);
        cluster.add_namespace(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}));
        let labels = cluster.namespace_labels("shop").unwrap();
        assert_eq!(labels[NAME_LABEL], "shop");
        assert_eq!(labels["pod-security.kubernetes.io/enforce"], "baseline");
        let value = ClusterContext::namespace(&cluster, "shop").unwrap();
        assert_eq!(value["metadata"]["labels"][NAME_LABEL], "shop");
        let missing = ClusterContext::namespace(&cluster, "other").unwrap_err();
        assert!(
            missing.reason.contains("the labels of namespace \"other\""),
            "{missing}"
        );
        let image = cluster.image_config("nginx").unwrap_err();
        assert!(image.reason.contains("image \"nginx\""), "{image}");
    }
}
