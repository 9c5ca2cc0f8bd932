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

#[cfg_attr(scp_optimize_size, optimize(size))]
fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// One host call with a JSON request, its answer decoded as `T`.
#[cfg_attr(scp_optimize_size, optimize(size))]
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
                host_failure(&format!("{namespace}/{operation}"), &e.to_string()),
            )
        })?;
    crate::json_text::from_bytes(&answer).map_err(|e| {
        ContextError::new(
            subject(),
            format!("{namespace}/{operation} answered what cannot be read: {e}"),
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
    #[cfg_attr(scp_optimize_size, optimize(size))]
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

    #[cfg_attr(scp_optimize_size, optimize(size))]
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

    #[cfg_attr(scp_optimize_size, optimize(size))]
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
            let error: Vec<&str> = error
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            return Err(ContextError::new(subject(), shortened(&error.join("; "))));
        }
        Ok(status.allowed && status.denied != Some(true))
    }

    #[cfg_attr(scp_optimize_size, optimize(size))]
    fn image_config(&self, image: &str) -> Result<Value, ContextError> {
        let subject = || format!("the configuration of image \"{image}\"");
        // The request is the image reference as a JSON string, as the SDK sends it.
        host_call("oci", "v1/oci_manifest_config", &image, subject)
    }
}

/// The longest host reason a message carries; the rest is cut, marked with `…`.
const MAX_REASON_CHARS: usize = 600;

/// A failed host call's error, in one line that says what to do about it: `capability` failed
/// (e.g. `kubernetes/get_resource`), and why. The host's text is wrapped in its own prefixes,
/// may end with a stack backtrace (when the host runs with `RUST_BACKTRACE`), and for
/// Kubernetes API errors embeds kube-rs' debug dump of the `Status`; of the dump only the
/// Status's message, reason and code are kept.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn host_failure(capability: &str, raw: &str) -> String {
    // A backtrace, or anything else, after the first line is the host's, not the reason.
    let mut reason = raw.lines().next().unwrap_or_default().trim();
    for wrapper in ["Host error:", "Callback evaluation failure:"] {
        if let Some(rest) = reason.strip_prefix(wrapper) {
            reason = rest.trim_start();
        }
    }
    if let Some(refused) = refused_capability(reason) {
        return refused;
    }
    if let Some(resources) = refused_resources(reason) {
        return resources;
    }
    let reason = match api_status(reason) {
        Some(status) => status,
        None => reason.to_string(),
    };
    format!("{capability} failed: {}", shortened(&reason))
}

/// Kubewarden 1.35+: a host capability the policy's deployment does not grant.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn refused_capability(reason: &str) -> Option<String> {
    const REFUSED: &str = "has not been granted access to the '";
    let start = reason.find(REFUSED)? + REFUSED.len();
    let capability = &reason[start..start + reason[start..].find('\'')?];
    Some(format!(
        "the host refuses the '{capability}' host capability, which this deployment does not grant the policy: \
         list it in hostCapabilities (the policies.yml entry of a standalone policy-server; \
         PolicyServer spec.namespacedPoliciesCapabilities for a namespaced AdmissionPolicy)"
    ))
}

/// Kubernetes resources the policy may not read (`contextAwareResources`, or `kwctl run`
/// without `--allow-context-aware`).
#[cfg_attr(scp_optimize_size, optimize(size))]
fn refused_resources(reason: &str) -> Option<String> {
    const REFUSED: &str = "has not been granted access to Kubernetes ";
    let start = reason.find(REFUSED)? + REFUSED.len();
    let rest = &reason[start..];
    let resources = rest
        .split(" resources")
        .next()
        .unwrap_or(rest)
        .trim_end_matches('.');
    Some(format!(
        "the host refuses to read Kubernetes {resources} resources for this policy: list them in \
         the policy's contextAwareResources (with kwctl run, pass --allow-context-aware)"
    ))
}

/// A kube-rs API error, `ApiError: <message>: <Reason> (Status { ..., code: 403, message:
/// "...", reason: "Forbidden", ... })`, as `<message> (<code> <Reason>)`.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn api_status(reason: &str) -> Option<String> {
    let dump_at = reason.find(" (Status {")?;
    let dump = &reason[dump_at..];
    let message = debug_string_field(dump, "message: \"");
    let status_reason = debug_string_field(dump, "reason: \"").filter(|r| !r.is_empty());
    let code = dump
        .find("code: ")
        .map(|at| &dump[at + "code: ".len()..])
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|code| !code.is_empty());
    let message = match message.filter(|m| !m.is_empty()) {
        Some(message) => message,
        // Without a message in the dump, the text before it says the same.
        None => {
            let before = &reason[..dump_at];
            before
                .strip_prefix("ApiError: ")
                .unwrap_or(before)
                .to_string()
        }
    };
    let status = [code, status_reason]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Some(if status.is_empty() {
        message
    } else {
        format!("{message} ({status})")
    })
}

/// The value of a Rust-debug-quoted string field in `dump` (`message: "a \"b\""`), unescaped.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn debug_string_field(dump: &str, field: &str) -> Option<String> {
    let start = dump.find(field)? + field.len();
    let mut value = String::new();
    let mut chars = dump[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push(' '),
                't' => value.push(' '),
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

/// `reason` without control characters, cut at `MAX_REASON_CHARS`.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn shortened(reason: &str) -> String {
    let clean: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match clean.char_indices().nth(MAX_REASON_CHARS) {
        Some((at, _)) => format!("{}…", &clean[..at]),
        None => clean,
    }
}

#[cfg(test)]
mod tests {
    use super::host_failure;

    /// What kwctl 1.36 answered for a namespace read the API server refused, as the policy
    /// receives it (test_data/sessions/namespace_default_forbidden.yml), with the backtrace
    /// kwctl appends when RUST_BACKTRACE is set.
    const FORBIDDEN: &str = "Host error: Callback evaluation failure: ApiError: namespaces \"default\" is forbidden: User \"system:serviceaccount:kubewarden:policy-server-default\" cannot get resource \"namespaces\" in API group \"\" at the cluster scope: Forbidden (Status { status: Some(Failure), code: 403, message: \"namespaces \\\"default\\\" is forbidden: User \\\"system:serviceaccount:kubewarden:policy-server-default\\\" cannot get resource \\\"namespaces\\\" in API group \\\"\\\" at the cluster scope\", metadata: Some(ListMeta { continue_: None, remaining_item_count: None, resource_version: None, self_link: None }), reason: \"Forbidden\", details: Some(StatusDetails { name: \"default\", group: \"\", kind: \"namespaces\", uid: \"\", causes: [], retry_after_seconds: 0 }) })\n\nStack backtrace:\n   0: <unknown>\n  18: start_thread\n             at ./nptl/pthread_create.c:442:8";

    #[test]
    fn a_kubernetes_status_is_its_message_reason_and_code() {
        assert_eq!(
            host_failure("kubernetes/get_resource", FORBIDDEN),
            "kubernetes/get_resource failed: namespaces \"default\" is forbidden: User \"system:serviceaccount:kubewarden:policy-server-default\" cannot get resource \"namespaces\" in API group \"\" at the cluster scope (403 Forbidden)"
        );
        let timeout = "Host error: Callback evaluation failure: ApiError: the server was unable to return a response in the time allotted, but may still be processing the request (post subjectaccessreviews.authorization.k8s.io): Timeout (Status { status: Some(Failure), code: 504, message: \"the server was unable to return a response in the time allotted, but may still be processing the request (post subjectaccessreviews.authorization.k8s.io)\", metadata: Some(ListMeta { continue_: None, remaining_item_count: None, resource_version: None, self_link: None }), reason: \"Timeout\", details: None })";
        assert_eq!(
            host_failure("kubernetes/can_i", timeout),
            "kubernetes/can_i failed: the server was unable to return a response in the time allotted, but may still be processing the request (post subjectaccessreviews.authorization.k8s.io) (504 Timeout)"
        );
    }

    #[test]
    fn a_status_without_message_keeps_the_text_before_the_dump() {
        let bare = "ApiError: gone: NotFound (Status { status: Some(Failure), code: 404, message: \"\", reason: \"NotFound\", details: None })";
        assert_eq!(
            host_failure("kubernetes/get_resource", bare),
            "kubernetes/get_resource failed: gone: NotFound (404 NotFound)"
        );
    }

    #[test]
    fn a_refused_capability_names_it_and_the_setting_that_grants_it() {
        let message = host_failure(
            "kubernetes/get_resource",
            "Host error: Policy has not been granted access to the 'kubernetes/get_resource' host capability",
        );
        assert!(
            message.starts_with("the host refuses the 'kubernetes/get_resource' host capability"),
            "{message}"
        );
        assert!(message.contains("hostCapabilities"), "{message}");
        assert!(
            message.contains("namespacedPoliciesCapabilities"),
            "{message}"
        );
        assert!(!message.contains('\n'));
    }

    #[test]
    fn refused_resources_name_them_and_context_aware_resources() {
        let message = host_failure(
            "kubernetes/get_resource",
            "Host error: Policy has not been granted access to Kubernetes v1/Namespace resources. The violation has been reported.",
        );
        assert_eq!(
            message,
            "the host refuses to read Kubernetes v1/Namespace resources for this policy: list them in the policy's contextAwareResources (with kwctl run, pass --allow-context-aware)"
        );
    }

    #[test]
    fn other_errors_are_kept_in_one_line_and_bounded() {
        assert_eq!(
            host_failure(
                "oci/v1/oci_manifest_config",
                "Host error: Callback evaluation failure: Fail to interact with OCI registry: Not authorized: url http://127.0.0.1:5001/v2/finance/billing/manifests/4.2.0\nCaused by:\n  401"
            ),
            "oci/v1/oci_manifest_config failed: Fail to interact with OCI registry: Not authorized: url http://127.0.0.1:5001/v2/finance/billing/manifests/4.2.0"
        );
        let long = host_failure("kubernetes/can_i", &"x".repeat(5000));
        assert_eq!(
            long.chars().count(),
            "kubernetes/can_i failed: ".len() + 600 + 1
        );
        assert!(long.ends_with('…'));
    }
}
