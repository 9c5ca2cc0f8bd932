//! What a decision may need beyond the admitted object, asked of the host only when a decision
//! needs it: the namespace's labels, whether a user may use something, an image's configuration.
//!
//! The evaluator stays pure: it sees the cluster only through `ClusterContext`. The waPC
//! implementation (Kubewarden's host capabilities) sits next to `lib.rs`; tests answer with
//! recorded or scripted values. Every failure of the host is a `ContextError`, and the caller
//! fails closed with its message.

use serde_json::Value;
use std::fmt;

/// A question to the host that could not be answered: which question, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextError {
    /// What was asked, e.g. `namespace "team-a"`.
    pub subject: String,
    /// The host's error, or what was wrong with its answer.
    pub reason: String,
}

impl ContextError {
    pub fn new(subject: impl Into<String>, reason: impl Into<String>) -> ContextError {
        ContextError {
            subject: subject.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}: {}", self.subject, self.reason)
    }
}

/// A SubjectAccessReview: may `user` (with `groups`) do `verb` on `resource` in `group`, named
/// `name`, in `namespace`?
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessReview {
    pub user: String,
    pub groups: Vec<String>,
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub name: String,
    pub namespace: String,
}

/// The host's answers. Each method is one host call; implementations do not cache (the caller
/// asks each question once per request).
pub trait ClusterContext {
    /// The Namespace object named `name`, as JSON.
    fn namespace(&self, name: &str) -> Result<Value, ContextError>;

    /// The Pods in `namespace`, as JSON objects.
    fn pods_in_namespace(&self, namespace: &str) -> Result<Vec<Value>, ContextError>;

    /// Whether the review is allowed.
    fn can_i(&self, review: &AccessReview) -> Result<bool, ContextError>;

    /// The image's OCI manifest and configuration (Kubewarden's `oci/v1/oci_manifest_config`
    /// answer: `{"manifest": ..., "digest": ..., "config": ...}`).
    fn image_config(&self, image: &str) -> Result<Value, ContextError>;
}

/// A context for hosts and front ends that offer none (the browser playground, requests that
/// need nothing): every question fails, naming what was asked.
pub struct NoContext;

impl NoContext {
    fn unavailable(subject: String) -> ContextError {
        ContextError::new(subject, "no host capabilities are available here")
    }
}

impl ClusterContext for NoContext {
    fn namespace(&self, name: &str) -> Result<Value, ContextError> {
        Err(NoContext::unavailable(format!("namespace \"{name}\"")))
    }

    fn pods_in_namespace(&self, namespace: &str) -> Result<Vec<Value>, ContextError> {
        Err(NoContext::unavailable(format!(
            "the pods of namespace \"{namespace}\""
        )))
    }

    fn can_i(&self, review: &AccessReview) -> Result<bool, ContextError> {
        Err(NoContext::unavailable(format!(
            "whether \"{}\" may {} {} \"{}\"",
            review.user, review.verb, review.resource, review.name
        )))
    }

    fn image_config(&self, image: &str) -> Result<Value, ContextError> {
        Err(NoContext::unavailable(format!(
            "the configuration of image \"{image}\""
        )))
    }
}
