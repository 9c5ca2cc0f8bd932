//! From an admission request to a decision, independent of any host: the waPC entry points in
//! `lib.rs`, tests and other front ends all call `validate` here.
//!
//! What the request does not say (a namespace's labels, whether a user may use something) is
//! asked of a `ClusterContext`, only when the decision needs it: `validate_with` and
//! `decide_with` take one; `validate` and `decide` pass `NoContext`, for front ends without a
//! host. A question the context cannot answer rejects the request, naming what failed.

use crate::context::{ClusterContext, NoContext};
use crate::pod::Pod;
use crate::policy::{Policy, Verdict};
use crate::profiles::{admitted_warning, try_profiles, ProfileOutcome, ADMITTED_BY_ANNOTATION};
use crate::scope::AdmissionScope;
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

impl AdmissionRequest {
    /// The request's namespace, or the object's own when the request leaves it out.
    pub fn namespace(&self) -> &str {
        if !self.namespace.is_empty() {
            return &self.namespace;
        }
        self.object
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// Who asks and where the pod runs.
    fn scope<'a>(&'a self, pod: &Pod<'a>) -> AdmissionScope<'a> {
        AdmissionScope::new(
            &self.user_info.username,
            &self.user_info.groups,
            self.namespace(),
            pod,
        )
    }
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

/// The decision on a request without a cluster to ask (see `decide_with`). A policy with
/// profiles fails closed when its base settings reject.
pub fn decide(policy: &Policy, request: &AdmissionRequest) -> Decision {
    decide_with(policy, request, &NoContext).decision
}

/// The decision on a request; `context` is asked only for what the decision needs: whether a
/// profile is granted, when the base settings reject.
pub fn decide_with(
    policy: &Policy,
    request: &AdmissionRequest,
    context: &dyn ClusterContext,
) -> Outcome {
    let outcome = decide_workload(policy, request).into();
    with_profiles(policy, request, context, outcome)
}

/// A rejection by the base settings, tried against the profiles: the first granted profile
/// that accepts the workload admits it.
fn with_profiles(
    policy: &Policy,
    request: &AdmissionRequest,
    context: &dyn ClusterContext,
    base: Outcome,
) -> Outcome {
    let Decision::Reject { message, warnings } = &base.decision else {
        return base;
    };
    if policy.profiles().is_empty() {
        return base;
    }
    // An object the base could not read stays rejected for that reason.
    let Some(Ok(Some(pod))) = workload_kind(request).map(|kind| read_pod(kind, &request.object))
    else {
        return base;
    };
    let scope = request.scope(&pod);
    let tried = try_profiles(policy.profiles(), &scope, message, context, |profile| {
        decide_with(profile, request, context)
    });
    match tried {
        ProfileOutcome::Admitted {
            profile,
            grantee,
            outcome:
                Outcome {
                    decision:
                        Decision::Accept {
                            warnings: own,
                            mutated,
                        },
                    audit_annotations: own_annotations,
                },
        } => {
            let mut warnings = vec![admitted_warning(&profile, &grantee, message)];
            warnings.extend(own);
            let mut audit_annotations = base.audit_annotations;
            audit_annotations.extend(own_annotations);
            audit_annotations.insert(ADMITTED_BY_ANNOTATION.to_string(), profile);
            Outcome {
                decision: Decision::Accept { warnings, mutated },
                audit_annotations,
            }
        }
        ProfileOutcome::Admitted { outcome, .. } => outcome,
        ProfileOutcome::Rejected { message } => Outcome {
            decision: Decision::Reject {
                message,
                warnings: warnings.clone(),
            },
            audit_annotations: base.audit_annotations,
        },
    }
}

fn decide_workload(policy: &Policy, request: &AdmissionRequest) -> Decision {
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
    let pod = match read_pod(kind, &request.object) {
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
    // Like Pod Security Admission, an update of a pod that leaves everything the checks read
    // unchanged (labels, annotations others read, status) is not judged again.
    if kind == WorkloadKind::Pod && request.operation == "UPDATE" && !ephemeral_update {
        if let Ok(Some(old)) = read_pod(kind, &request.old_object) {
            if old == pod {
                return Decision::accept();
            }
        }
    }
    let scope = request.scope(&pod);
    judge(&policy.in_scope(&scope), request, kind, &pod)
}

/// The decision of `policy` (already in the request's scope) on a pod it reads.
fn judge(
    policy: &Policy,
    request: &AdmissionRequest,
    kind: WorkloadKind,
    pod: &Pod<'_>,
) -> Decision {
    let verdict = policy.evaluate(pod);
    // Pods are immutable where it matters, so only their creation is mutated; controllers'
    // templates can be mutated on every write.
    let may_mutate = policy.mutates()
        && request.sub_resource.is_empty()
        && (request.operation != "UPDATE" || kind != WorkloadKind::Pod);
    if verdict.rejection.is_some() && may_mutate {
        if let Some(mutated) = crate::mutation::mutate(policy, kind, &request.object, pod) {
            // The result must pass the policy itself; what no default could fix is reported
            // as usual, for the object as it would have been.
            return match read_pod(kind, &mutated) {
                Ok(Some(fixed)) => decision(policy.evaluate(&fixed), Some(mutated)),
                _ => Decision::reject(format!(
                    "PodSecurity \"{}\" produced an unreadable {}; this is a bug",
                    policy.label(),
                    kind.name()
                )),
            };
        }
    }
    decision(verdict, None)
}

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
    crate::mutation::mutate(policy, kind, &request.object, &pod)
}
