//! `ClusterContext` answered by Kubewarden's host capabilities (waPC host calls made through
//! `kubewarden_policy_sdk::host_capabilities`). Every failure of a call, and every answer that
//! is not what the call promises, is a `ContextError` naming the question; nothing is cached
//! here (the host caches Kubernetes answers for a few seconds).

use crate::context::{AccessReview, ClusterContext, ContextError};
use kubewarden_policy_sdk::host_capabilities::kubernetes::{
    self, CanIRequest, GetResourceRequest, ListResourcesByNamespaceRequest, ResourceAttributes,
    SubjectAccessReview,
};
use kubewarden_policy_sdk::host_capabilities::oci;
use serde::Deserialize;
use serde_json::Value;

/// A Pod of a `list_resources_by_namespace` answer, kept as the JSON the evaluator reads. The
/// SDK's typed list needs a `ListableResource`; k8s-openapi's own `Pod` would do, but its
/// deserializer (every field of every Pod type) tripled the module's size.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
struct PodJson(Value);

impl k8s_openapi::Resource for PodJson {
    const API_VERSION: &'static str = "v1";
    const GROUP: &'static str = "";
    const KIND: &'static str = "Pod";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "pods";
    type Scope = k8s_openapi::NamespaceResourceScope;
}

impl k8s_openapi::ListableResource for PodJson {
    const LIST_KIND: &'static str = "PodList";
}

/// The waPC host of the running policy.
pub struct WapcContext;

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl ClusterContext for WapcContext {
    fn namespace(&self, name: &str) -> Result<Value, ContextError> {
        let subject = || format!("namespace \"{name}\"");
        let request = GetResourceRequest {
            api_version: "v1".to_string(),
            kind: "Namespace".to_string(),
            name: name.to_string(),
            namespace: None,
            disable_cache: false,
            field_masks: None,
        };
        let namespace: Value = kubernetes::get_resource(&request)
            .map_err(|e| ContextError::new(subject(), e.to_string()))?;
        if !namespace.is_object() {
            return Err(ContextError::new(
                subject(),
                "the host answered with something that is not a Namespace object",
            ));
        }
        Ok(namespace)
    }

    fn pods_in_namespace(&self, namespace: &str) -> Result<Vec<Value>, ContextError> {
        let subject = || format!("the pods of namespace \"{namespace}\"");
        let request = ListResourcesByNamespaceRequest {
            api_version: "v1".to_string(),
            kind: "Pod".to_string(),
            namespace: namespace.to_string(),
            label_selector: None,
            field_selector: None,
            field_masks: None,
        };
        let list = kubernetes::list_resources_by_namespace::<PodJson>(&request)
            .map_err(|e| ContextError::new(subject(), e.to_string()))?;
        Ok(list.items.into_iter().map(|PodJson(pod)| pod).collect())
    }

    fn can_i(&self, review: &AccessReview) -> Result<bool, ContextError> {
        let subject = || {
            format!(
                "whether \"{}\" may {} {} \"{}\"",
                review.user, review.verb, review.resource, review.name
            )
        };
        let request = CanIRequest {
            subject_access_review: SubjectAccessReview {
                groups: (!review.groups.is_empty()).then(|| review.groups.clone()),
                resource_attributes: ResourceAttributes {
                    group: Some(review.group.clone()),
                    name: non_empty(&review.name),
                    namespace: non_empty(&review.namespace),
                    resource: review.resource.clone(),
                    subresource: None,
                    verb: review.verb.clone(),
                    version: None,
                },
                user: review.user.clone(),
            },
            disable_cache: false,
        };
        let status =
            kubernetes::can_i(request).map_err(|e| ContextError::new(subject(), e.to_string()))?;
        if let Some(error) = status.evaluation_error.filter(|e| !e.is_empty()) {
            // An authorizer that could not decide: not a grant.
            return Err(ContextError::new(subject(), error));
        }
        Ok(status.allowed && status.denied != Some(true))
    }

    fn image_config(&self, image: &str) -> Result<Value, ContextError> {
        let subject = || format!("the configuration of image \"{image}\"");
        let answer = oci::get_manifest_and_config(image)
            .map_err(|e| ContextError::new(subject(), e.to_string()))?;
        serde_json::to_value(&answer).map_err(|e| ContextError::new(subject(), e.to_string()))
    }
}
