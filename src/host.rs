//! `ClusterContext` answered by Kubewarden's host capabilities. Every failure of a call, and
//! every answer that is not what the call promises, is a `ContextError` naming the question;
//! nothing is cached here (the host caches Kubernetes answers for a few seconds).
//!
//! The requests are the SDK's own types (`kubewarden_policy_sdk::host_capabilities`), so the
//! host, and kwctl's replay, see exactly what any Kubewarden policy sends. The answers are read
//! as plain JSON rather than through the SDK's typed helpers: the evaluator reads JSON anyway,
//! and decoding a namespace's Pods into k8s-openapi types or an image configuration into
//! oci-spec types only to turn them back into JSON tripled the module's size and cost.

use crate::context::{AccessReview, ClusterContext, ContextError};
use kubewarden_policy_sdk::host_capabilities::kubernetes::{
    CanIRequest, GetResourceRequest, ListResourcesByNamespaceRequest, ResourceAttributes,
    SubjectAccessReview,
};
use kubewarden_policy_sdk::wapc_guest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The waPC host of the running policy.
pub struct WapcContext;

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// One host call with a JSON request, its answer decoded as `T`.
fn host_call<T: for<'de> Deserialize<'de>>(
    namespace: &str,
    operation: &str,
    request: &impl Serialize,
    subject: impl Fn() -> String,
) -> Result<T, ContextError> {
    let payload =
        serde_json::to_vec(request).map_err(|e| ContextError::new(subject(), e.to_string()))?;
    let answer =
        wapc_guest::host_call("kubewarden", namespace, operation, &payload).map_err(|e| {
            ContextError::new(
                subject(),
                format!("error invoking host capability {namespace}.{operation}: {e}"),
            )
        })?;
    crate::json_text::from_bytes(&answer).map_err(|e| {
        ContextError::new(
            subject(),
            format!("error deserializing the {namespace}.{operation} answer: {e}"),
        )
    })
}

/// The part of a SubjectAccessReview's status that decides.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessReviewStatus {
    allowed: bool,
    #[serde(default)]
    denied: Option<bool>,
    #[serde(default)]
    evaluation_error: Option<String>,
}

/// A Kubernetes list: only its items are read.
#[derive(Deserialize)]
struct List {
    #[serde(default)]
    items: Vec<Value>,
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
        let namespace: Value = host_call("kubernetes", "get_resource", &request, subject)?;
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
        let list: List = host_call(
            "kubernetes",
            "list_resources_by_namespace",
            &request,
            subject,
        )?;
        Ok(list.items)
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
        let status: AccessReviewStatus = host_call("kubernetes", "can_i", &request, subject)?;
        if let Some(error) = status.evaluation_error.filter(|e| !e.is_empty()) {
            // An authorizer that could not decide: not a grant.
            return Err(ContextError::new(subject(), error));
        }
        Ok(status.allowed && status.denied != Some(true))
    }

    fn image_config(&self, image: &str) -> Result<Value, ContextError> {
        let subject = || format!("the configuration of image \"{image}\"");
        // The request is the image reference as a JSON string, as the SDK sends it.
        host_call("oci", "v1/oci_manifest_config", &image, subject)
    }
}
