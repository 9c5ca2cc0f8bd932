//! From an admission request to a decision, independent of any host: the waPC entry points in
//! `lib.rs`, tests and other front ends all call `validate` here.
//!
//! What the request does not say (a namespace's labels, whether a user may use something) is
//! asked of a `ClusterContext`, only when the decision needs it: `validate_with` and
//! `decide_with` take one; `validate` and `decide` pass `NoContext`, for front ends without a
//! host. A question the context cannot answer rejects the request, naming what failed.

use crate::context::{ClusterContext, NoContext};
use crate::image_user::ImageUsers;
use crate::pod::Pod;
use crate::policy::{Policy, Verdict};
use crate::settings::Settings;
use crate::workload::{read_pod, WorkloadKind};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The fields of a Kubernetes AdmissionRequest that the decision depends on.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AdmissionRequest {
    pub uid: String,
    pub kind: GroupVersionKind,
    pub sub_resource: String,
    pub operation: String,
    /// The object's name; empty when the API server generates it.
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    /// The request's namespace; empty for cluster-scoped objects.
    #[serde(deserialize_with = "null_as_default")]
    pub namespace: String,
    #[serde(deserialize_with = "null_as_default")]
    pub user_info: UserInfo,
    pub object: Value,
    pub old_object: Value,
}

/// Who sent the request.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserInfo {
    #[serde(deserialize_with = "null_as_default")]
    pub username: String,
    #[serde(deserialize_with = "null_as_default")]
    pub uid: String,
    #[serde(deserialize_with = "null_as_default")]
    pub groups: Vec<String>,
}

/// `null` where API clients may send it (a generated name, a cluster-scoped namespace) reads
/// as the empty value; a value of another type is still an error.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GroupVersionKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// The payload Kubewarden sends to `validate`. The settings stay raw text: they are the key of
/// the compiled-policy cache, and are only parsed when they change.
#[derive(Debug, Deserialize)]
pub struct ValidationPayload<'a> {
    pub request: AdmissionRequest,
    #[serde(borrow, default)]
    pub settings: Option<&'a RawValue>,
}

thread_local! {
    /// The policy compiled from the last settings document seen. A policy server sends the same
    /// settings with every request, so settings are parsed, validated and resolved into checks
    /// once, not per request.
    static COMPILED: RefCell<Option<(String, Rc<Policy>)>> = const { RefCell::new(None) };
}

/// The policy for a settings document, from the cache when the document is the last one seen.
pub fn compiled_policy(settings: &str) -> Result<Rc<Policy>, String> {
    if let Some(policy) = COMPILED.with_borrow(|cached| {
        cached
            .as_ref()
            .filter(|(text, _)| text == settings)
            .map(|(_, policy)| Rc::clone(policy))
    }) {
        return Ok(policy);
    }
    let policy = Rc::new(Policy::new(Settings::from_json(settings.as_bytes())?));
    COMPILED.set(Some((settings.to_string(), Rc::clone(&policy))));
    Ok(policy)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept {
        warnings: Vec<String>,
        /// The object with defaults set, when `mutate: true` set any.
        mutated: Option<Value>,
    },
    Reject {
        message: String,
        warnings: Vec<String>,
    },
}

/// A decision and the annotations it asks the API server to record in the audit log (Pod
/// Security Admission's `audit-violations`, for instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub decision: Decision,
    pub audit_annotations: BTreeMap<String, String>,
}

impl From<Decision> for Outcome {
    fn from(decision: Decision) -> Outcome {
        Outcome {
            decision,
            audit_annotations: BTreeMap::new(),
        }
    }
}

impl Decision {
    /// Accepted, with nothing to say.
    pub fn accept() -> Decision {
        Decision::Accept {
            warnings: Vec::new(),
            mutated: None,
        }
    }

    fn reject(message: String) -> Decision {
        Decision::Reject {
            message,
            warnings: Vec::new(),
        }
    }
}

/// Decides on a raw `validate` payload without a cluster to ask (see `validate_with`).
pub fn validate(payload: &[u8]) -> Decision {
    validate_with(payload, &NoContext).decision
}

/// Decides on a raw `validate` payload, asking `context` what the request does not say. Never
/// panics: anything unreadable is a rejection that says what could not be read.
pub fn validate_with(payload: &[u8], context: &dyn ClusterContext) -> Outcome {
    let payload: ValidationPayload = match serde_json::from_slice(payload) {
        Ok(p) => p,
        Err(e) => {
            return Decision::reject(format!("cannot read the admission request: {e}")).into()
        }
    };
    let settings = payload.settings.map_or("null", RawValue::get);
    match compiled_policy(settings) {
        Ok(policy) => decide_with(&policy, &payload.request, context),
        Err(e) => Decision::reject(e).into(),
    }
}

/// The kind the request is about: the request's own kind, or the object's when a caller left
/// the request's out.
fn workload_kind(request: &AdmissionRequest) -> Option<WorkloadKind> {
    if request.kind.kind.is_empty() {
        WorkloadKind::of_object(&request.object)
    } else {
        WorkloadKind::from_group_kind(&request.kind.group, &request.kind.kind)
    }
}

/// The decision on a request without a cluster to ask (see `decide_with`).
pub fn decide(policy: &Policy, request: &AdmissionRequest) -> Decision {
    decide_with(policy, request, &NoContext).decision
}

/// The decision on a request; `context` is asked only for what the decision needs.
pub fn decide_with(
    policy: &Policy,
    request: &AdmissionRequest,
    context: &dyn ClusterContext,
) -> Outcome {
    decide_workload(policy, request, context).into()
}

fn decide_workload(
    policy: &Policy,
    request: &AdmissionRequest,
    context: &dyn ClusterContext,
) -> Decision {
    let Some(kind) = workload_kind(request) else {
        return Decision::accept();
    };
    if !matches!(request.operation.as_str(), "CREATE" | "UPDATE" | "") {
        return Decision::accept();
    }
    // Subresources (status, scale, binding, ...) change nothing a check reads, except the one
    // that adds ephemeral containers to a running pod.
    let ephemeral_update =
        kind == WorkloadKind::Pod && request.sub_resource == "ephemeralcontainers";
    if !request.sub_resource.is_empty() && !ephemeral_update {
        return Decision::accept();
    }
    let mut pod = match read_pod(kind, &request.object) {
        Ok(Some(pod)) => pod,
        Ok(None) => return Decision::accept(),
        Err(e) => {
            return Decision::reject(format!(
                "PodSecurity \"{}\" cannot evaluate this {}: {e}",
                policy.label(),
                kind.name()
            ))
        }
    };
    // Like Pod Security Admission, an UPDATE that leaves everything the checks and constraints
    // read unchanged (labels, other annotations, replicas, status, ...) is not judged again:
    // turning the policy on must not freeze the workloads already running. The `Pod` model holds
    // exactly what the rules read, so equal models cannot be judged differently.
    if request.operation == "UPDATE" && !ephemeral_update && !policy.judges_every_update() {
        if let Ok(Some(old)) = read_pod(kind, &request.old_object) {
            if old == pod {
                return unchanged_update(policy, kind, &pod);
            }
        }
    }
    // The users of the images that some rule must judge (`imageUser`), each image asked once
    // for the request, the mutated object included.
    let mut image_users = ImageUsers::default();
    let lookup = image_users.attach(policy, &mut pod, context);
    if let Some(message) = lookup.rejection {
        return Decision::reject(message);
    }
    let verdict = policy.evaluate(&pod);
    // Pods are immutable where it matters, so only their creation is mutated; controllers'
    // templates can be mutated on every write.
    let may_mutate = policy.mutates()
        && request.sub_resource.is_empty()
        && (request.operation != "UPDATE" || kind != WorkloadKind::Pod);
    // Defaults that fix nothing (a PodSecurityPolicy's default profiles, capabilities, runtime
    // class) are set on admitted objects too, as PodSecurityPolicy set them.
    if may_mutate {
        let admitted = verdict.rejection.is_none();
        if let Some(mutated) =
            crate::mutation::mutate(policy, kind, &request.object, &pod, admitted)
        {
            // The result must pass the policy itself; what no default could fix is reported
            // as usual, for the object as it would have been.
            return match read_pod(kind, &mutated) {
                Ok(Some(mut fixed)) => {
                    let fixed_lookup = image_users.attach(policy, &mut fixed, context);
                    let fixed_verdict = match fixed_lookup.rejection {
                        Some(message) => Err(message),
                        None => Ok(policy.evaluate(&fixed)),
                    };
                    let fixed_rejected = fixed_verdict
                        .as_ref()
                        .map_or(true, |v| v.rejection.is_some());
                    // Defaults never turn an admitted object into a rejected one.
                    if verdict.rejection.is_none() && fixed_rejected {
                        with_warnings(decision(verdict, None), lookup.warnings)
                    } else {
                        match fixed_verdict {
                            Err(message) => Decision::reject(message),
                            // The lookups of the mutated object cover every image it needs.
                            Ok(v) => {
                                with_warnings(decision(v, Some(mutated)), fixed_lookup.warnings)
                            }
                        }
                    }
                }
                _ => Decision::reject(format!(
                    "PodSecurity \"{}\" produced an unreadable {}; this is a bug",
                    policy.label(),
                    kind.name()
                )),
            };
        }
    }
    with_warnings(decision(verdict, None), lookup.warnings)
}

/// `decision` with `extra` warnings after its own.
fn with_warnings(mut decision: Decision, extra: Vec<String>) -> Decision {
    match &mut decision {
        Decision::Accept { warnings, .. } | Decision::Reject { warnings, .. } => {
            warnings.extend(extra)
        }
    }
    decision
}

/// The acceptance of an UPDATE that changes nothing the rules read. What the object still
/// violates is said as a warning, so that its owners learn what to fix.
fn unchanged_update(policy: &Policy, kind: WorkloadKind, pod: &Pod<'_>) -> Decision {
    let verdict = policy.evaluate(pod);
    let mut warnings = Vec::new();
    if let Some(message) = verdict.rejection {
        warnings.push(format!(
            "{UNCHANGED_UPDATE_WARNING} {}: {message}",
            kind.name()
        ));
    }
    warnings.extend(verdict.warning);
    Decision::Accept {
        warnings,
        mutated: None,
    }
}

/// How the warning for an accepted unchanged UPDATE begins.
pub const UNCHANGED_UPDATE_WARNING: &str =
    "accepted because this update changes nothing the policy checks (set judgeEveryUpdate to reject it); still to fix in this";

/// A verdict as a decision; `mutated` is returned only with an acceptance.
fn decision(verdict: Verdict, mutated: Option<Value>) -> Decision {
    let warnings = verdict.warning.into_iter().collect();
    match verdict.rejection {
        Some(message) => Decision::Reject { message, warnings },
        None => Decision::Accept { warnings, mutated },
    }
}

/// The request's object with every applicable default set, whatever the decision; `None` when
/// nothing would be set or the object cannot be read. For tests and front ends that show diffs.
pub fn defaults_for(policy: &Policy, request: &AdmissionRequest) -> Option<Value> {
    let kind = workload_kind(request)?;
    let pod = read_pod(kind, &request.object).ok()??;
    crate::mutation::mutate(policy, kind, &request.object, &pod, false)
}
