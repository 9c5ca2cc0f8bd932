//! From an admission request to a decision, independent of any host: the waPC entry points in
//! `lib.rs`, tests and other front ends all call `validate` here.
//!
//! What the request does not say (a namespace's labels, whether a user may use something) is
//! asked of a `ClusterContext`, only when the decision needs it: `validate_with` and
//! `decide_with` take one; `validate` and `decide` pass `NoContext`, for front ends without a
//! host. A question the context cannot answer rejects the request, naming what failed.

use crate::context::{ClusterContext, ContextError, NoContext};
pub use crate::decision::{Decision, Outcome};
use crate::image_user::ImageUsers;
use crate::json_text;
use crate::namespace::{self, LabelError, NamespacePolicy};
use crate::pod::Pod;
use crate::policy::{Policy, Verdict};
use crate::profiles::{admitted_warning, try_profiles, ProfileOutcome, ADMITTED_BY_ANNOTATION};
use crate::scope::AdmissionScope;
use crate::settings::Settings;
use crate::sparse_object;
use crate::workload::{read_pod, WorkloadKind};
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
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
    /// Where the whole object is when `object` holds only what the rules read.
    #[serde(skip)]
    pub whole_object: WholeObject,
}

/// Where the object as sent is, for mutation, which must lose nothing of it.
#[derive(Debug, Default)]
pub enum WholeObject {
    /// `object` is the whole object.
    #[default]
    Read,
    /// `object` leaves out what no rule reads (see `sparse_object`); this is the whole text.
    Text(Box<RawValue>),
    /// `object` leaves out what no rule reads, and the policy needs no more of it.
    NotKept,
}

/// An object of the request as first read from the payload.
#[derive(Debug, Default)]
enum ObjectSlot<'a> {
    #[default]
    Absent,
    /// Read already, without what no rule reads: the request's kind came before it, as the API
    /// server and policy-server write requests.
    Sparse(Value),
    /// Its text, to be read once the kind is known.
    Text(&'a RawValue),
}

/// An AdmissionRequest as read from the `validate` payload in one pass: the objects of a
/// workload kind without what no rule reads (`sparse_object`), others still their text.
#[derive(Debug, Default)]
pub struct RequestText<'a> {
    request: AdmissionRequest,
    object: ObjectSlot<'a>,
    old_object: ObjectSlot<'a>,
}

/// The AdmissionRequest fields `RequestText` reads; others are skipped.
const REQUEST_FIELDS: &[&str] = &[
    "uid",
    "kind",
    "subResource",
    "operation",
    "name",
    "namespace",
    "userInfo",
    "object",
    "oldObject",
];

impl<'de: 'a, 'a> Deserialize<'de> for RequestText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RequestVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for RequestVisitor<'a> {
            type Value = RequestText<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an AdmissionRequest")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestText<'a>, A::Error> {
                let mut out = RequestText::default();
                let r = &mut out.request;
                // A field given twice is refused, as serde's derived readers refuse it: the
                // object is read by the kind seen before it, which must stay the kind.
                let mut seen: Vec<&'static str> = Vec::new();
                while let Some(json_text::Key(key)) = map.next_key()? {
                    if let Some(field) = REQUEST_FIELDS.iter().find(|f| **f == key) {
                        if seen.contains(field) {
                            return Err(serde::de::Error::duplicate_field(field));
                        }
                        seen.push(field);
                    }
                    match key.as_ref() {
                        "uid" => r.uid = map.next_value()?,
                        "kind" => r.kind = map.next_value()?,
                        "subResource" => r.sub_resource = map.next_value()?,
                        "operation" => r.operation = map.next_value()?,
                        "name" => r.name = map.next_value::<Option<_>>()?.unwrap_or_default(),
                        "namespace" => {
                            r.namespace = map.next_value::<Option<_>>()?.unwrap_or_default()
                        }
                        "userInfo" => {
                            r.user_info = map.next_value::<Option<_>>()?.unwrap_or_default()
                        }
                        "object" | "oldObject" => {
                            let kind = WorkloadKind::from_group_kind(&r.kind.group, &r.kind.kind);
                            let slot = match kind {
                                Some(kind) => {
                                    match map.next_value_seed(sparse_object::seed(kind))? {
                                        Value::Null => ObjectSlot::Absent,
                                        value => ObjectSlot::Sparse(value),
                                    }
                                }
                                None => match map.next_value::<Option<&'a RawValue>>()? {
                                    Some(text) => ObjectSlot::Text(text),
                                    None => ObjectSlot::Absent,
                                },
                            };
                            if key == "object" {
                                out.object = slot;
                            } else {
                                out.old_object = slot;
                            }
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(RequestVisitor(std::marker::PhantomData))
    }
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

impl RequestText<'_> {
    /// Reads the objects still held as text: those of a workload kind without what no rule
    /// reads, any other whole. `whole_text` gives the object's text when mutation will need
    /// the whole object (`None`: it will not).
    pub fn read_objects(
        self,
        whole_text: impl FnOnce() -> Option<Box<RawValue>>,
    ) -> Result<AdmissionRequest, String> {
        let RequestText {
            mut request,
            object,
            old_object,
        } = self;
        // Without a request kind, the object's own decides, so it is read whole.
        let sparse_kind = if request.kind.kind.is_empty() {
            None
        } else {
            WorkloadKind::from_group_kind(&request.kind.group, &request.kind.kind)
        };
        let read = |slot: ObjectSlot<'_>, field: &str| -> Result<Value, String> {
            match slot {
                ObjectSlot::Absent => Ok(Value::Null),
                ObjectSlot::Sparse(value) => Ok(value),
                ObjectSlot::Text(text) => match sparse_kind {
                    Some(kind) => sparse_object::read(kind, text.get()),
                    None => serde_json::from_str(text.get()),
                }
                .map_err(|e| {
                    let e = json_text::message(&e);
                    format!("cannot read the admission request: {field}: {e}")
                }),
            }
        };
        let object_was_text = match &object {
            ObjectSlot::Text(text) => Some(*text),
            _ => None,
        };
        request.object = read(object, "object")?;
        request.old_object = read(old_object, "oldObject")?;
        request.whole_object = match (sparse_kind, &request.object) {
            (None, _) | (_, Value::Null) => WholeObject::Read,
            (Some(_), _) => match object_was_text {
                Some(text) => WholeObject::Text(text.to_owned()),
                None => whole_text().map_or(WholeObject::NotKept, WholeObject::Text),
            },
        };
        Ok(request)
    }
}

/// The `validate` payload's `request.object` as sent: read again from the payload, when the
/// object was read without what no rule reads and mutation needs all of it.
fn object_text(payload: &[u8]) -> Option<Box<RawValue>> {
    #[derive(Deserialize)]
    struct Payload<'a> {
        #[serde(borrow)]
        request: Request<'a>,
    }
    #[derive(Deserialize)]
    struct Request<'a> {
        #[serde(borrow)]
        object: Option<&'a RawValue>,
    }
    let payload: Payload = json_text::from_bytes(payload).ok()?;
    payload.request.object.map(ToOwned::to_owned)
}

impl AdmissionRequest {
    /// The object as sent, every field of it: what mutation edits.
    pub fn whole_object(&self) -> Result<Cow<'_, Value>, String> {
        match &self.whole_object {
            WholeObject::Read => Ok(Cow::Borrowed(&self.object)),
            WholeObject::Text(text) => serde_json::from_str(text.get())
                .map(Cow::Owned)
                .map_err(|e| format!("cannot read the object: {e}")),
            WholeObject::NotKept => Err("the whole object was not kept".to_string()),
        }
    }

    /// Who asks and where the pod runs.
    fn scope<'a>(&'a self, pod: &Pod<'a>) -> AdmissionScope<'a> {
        AdmissionScope::new(
            &self.user_info.username,
            &self.user_info.groups,
            request_namespace(self).unwrap_or(""),
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
    #[serde(borrow)]
    pub request: RequestText<'a>,
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
    let policy = Rc::new(Policy::new(Settings::for_evaluation(settings.as_bytes())?));
    COMPILED.set(Some((settings.to_string(), Rc::clone(&policy))));
    Ok(policy)
}

/// Decides on a raw `validate` payload without a cluster to ask (see `validate_with`).
pub fn validate(payload: &[u8]) -> Decision {
    validate_with(payload, &NoContext).decision
}

/// Decides on a raw `validate` payload, asking `context` what the request does not say. Never
/// panics: anything unreadable is a rejection that says what could not be read.
pub fn validate_with(bytes: &[u8], context: &dyn ClusterContext) -> Outcome {
    let payload: ValidationPayload = match json_text::from_bytes(bytes) {
        Ok(p) => p,
        Err(e) => {
            return Decision::reject(format!("cannot read the admission request: {e}")).into()
        }
    };
    let settings = payload.settings.map_or("null", RawValue::get);
    let policy = match compiled_policy(settings) {
        Ok(policy) => policy,
        Err(e) => return Decision::reject(e).into(),
    };
    // Mutation, by the policy or one of its profiles, edits the whole object.
    let keep_whole = policy.mutates() || policy.has_profiles();
    let whole_text = || keep_whole.then(|| object_text(bytes)).flatten();
    match payload.request.read_objects(whole_text) {
        Ok(request) => decide_with(&policy, &request, context),
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

/// The audit annotation Pod Security Admission records violations of its audit level under.
/// A webhook's annotation keys are prefixed with the webhook's name by the API server (PSA's
/// own webhook records `pod-security-webhook.kubernetes.io/audit-violations`), so the key is
/// the bare one.
pub const AUDIT_VIOLATIONS_ANNOTATION: &str = "audit-violations";
/// The audit annotation PSA records namespace label errors under.
pub const ERROR_ANNOTATION: &str = "error";

/// How many existing pods PSA checks when a namespace's enforce level is tightened.
pub const NAMESPACE_MAX_PODS_TO_CHECK: usize = 3000;

/// The decision on a request; `context` is asked only for what the decision needs (the
/// namespace's labels when they choose the levels; whether a profile is granted, when the base
/// settings reject).
pub fn decide_with(
    policy: &Policy,
    request: &AdmissionRequest,
    context: &dyn ClusterContext,
) -> Outcome {
    if is_namespace(request) {
        return decide_namespace(policy, request, context);
    }
    let outcome = decide_workload(policy, request, context);
    with_profiles(policy, request, context, outcome)
}

/// A rejection by the base settings, tried against the profiles: the first granted profile
/// that accepts the workload admits it.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn with_profiles(
    policy: &Policy,
    request: &AdmissionRequest,
    context: &dyn ClusterContext,
    base: Outcome,
) -> Outcome {
    let Decision::Reject { message, warnings } = &base.decision else {
        return base;
    };
    let profiles = match policy.profiles() {
        Ok([]) => return base,
        Ok(profiles) => profiles,
        // Settings that `validate_settings` refused; the request stays rejected, saying why.
        Err(e) => {
            return Outcome {
                decision: Decision::Reject {
                    message: format!("{message}; the profiles cannot be tried: {e}"),
                    warnings: warnings.clone(),
                },
                audit_annotations: base.audit_annotations,
            }
        }
    };
    // An object the base could not read stays rejected for that reason.
    let Some(Ok(Some(pod))) = workload_kind(request).map(|kind| read_pod(kind, &request.object))
    else {
        return base;
    };
    let scope = request.scope(&pod);
    let tried = try_profiles(profiles, &scope, message, context, |profile| {
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

fn is_namespace(request: &AdmissionRequest) -> bool {
    if request.kind.kind.is_empty() {
        request.object.get("kind").and_then(Value::as_str) == Some("Namespace")
            && request.object.get("apiVersion").and_then(Value::as_str) == Some("v1")
    } else {
        request.kind.group.is_empty() && request.kind.kind == "Namespace"
    }
}

/// The namespace a namespaced request is in.
fn request_namespace(request: &AdmissionRequest) -> Option<&str> {
    Some(request.namespace.as_str())
        .filter(|n| !n.is_empty())
        .or_else(|| {
            request.object["metadata"]["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
        })
}

/// The levels the request namespace's labels select, asked of the host, with the errors of
/// invalid labels.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn namespace_levels(
    policy: &Policy,
    request: &AdmissionRequest,
    context: &dyn ClusterContext,
) -> Result<(NamespacePolicy, Vec<LabelError>), ContextError> {
    let Some(name) = request_namespace(request) else {
        return Err(ContextError::new(
            "the request's namespace",
            "the request names no namespace",
        ));
    };
    let object = context.namespace(name)?;
    let labels = namespace::labels_of(&object)
        .map_err(|e| ContextError::new(format!("namespace \"{name}\""), e))?;
    Ok(namespace::policy_for_labels(
        &labels,
        policy.namespace_defaults(),
    ))
}

/// A policy at a namespace's levels, with the errors of the namespace's invalid labels.
type NamespacedPolicy = (Rc<Policy>, Vec<LabelError>);

/// The policy at the request namespace's levels, when the namespace's labels choose the
/// levels; `None` when the settings' own levels apply.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn namespace_policy(
    policy: &Policy,
    request: &AdmissionRequest,
    context: &dyn ClusterContext,
) -> Result<Option<NamespacedPolicy>, ContextError> {
    if !policy.reads_namespace_labels() {
        return Ok(None);
    }
    let (levels, errors) = namespace_levels(policy, request, context)?;
    Ok(Some((policy.for_namespace(levels), errors)))
}

/// The policy a workload request is judged by, as `decide_with` chooses it: the settings' own
/// levels or its namespace's, with the exemptions that select who asks and where the pod
/// runs. For front ends that break a rejection down (which rule, container and field: the
/// command-line tool's `check`) and judge variations of the object the way the request was
/// judged. `Err` says why the request cannot be judged (an unreadable object, a namespace the
/// context cannot give); `Ok(None)` is a request that carries no pod.
pub fn judging_policy(
    policy: &Policy,
    request: &AdmissionRequest,
    context: &dyn ClusterContext,
) -> Result<Option<Policy>, String> {
    let Some(kind) = workload_kind(request) else {
        return Ok(None);
    };
    let pod = match read_pod(kind, &request.object) {
        Ok(Some(pod)) => pod,
        Ok(None) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let namespaced = namespace_policy(policy, request, context).map_err(|e| e.to_string())?;
    let policy = namespaced.as_ref().map_or(policy, |(p, _)| &**p);
    Ok(Some(policy.in_scope(&request.scope(&pod)).into_owned()))
}

fn decide_workload(
    policy: &Policy,
    request: &AdmissionRequest,
    context: &dyn ClusterContext,
) -> Outcome {
    let Some(kind) = workload_kind(request) else {
        return Decision::accept().into();
    };
    if !matches!(request.operation.as_str(), "CREATE" | "UPDATE" | "") {
        return Decision::accept().into();
    }
    // Subresources (status, scale, binding, ...) change nothing a check reads, except the one
    // that adds ephemeral containers to a running pod.
    let ephemeral_update =
        kind == WorkloadKind::Pod && request.sub_resource == "ephemeralcontainers";
    if !request.sub_resource.is_empty() && !ephemeral_update {
        return Decision::accept().into();
    }
    let mut pod = match read_pod(kind, &request.object) {
        Ok(Some(pod)) => pod,
        Ok(None) => return Decision::accept().into(),
        Err(e) => return cannot_evaluate(policy, kind, e),
    };
    // Like Pod Security Admission, an UPDATE that leaves everything the checks and constraints
    // read unchanged (labels, other annotations, replicas, status, ...) is not judged again:
    // turning the policy on must not freeze the workloads already running. The `Pod` model holds
    // exactly what the rules read, so equal models cannot be judged differently.
    if request.operation == "UPDATE" && !ephemeral_update && !policy.judges_every_update() {
        if let Ok(Some(old)) = read_pod(kind, &request.old_object) {
            if old == pod {
                return unchanged_update(policy, kind, &pod).into();
            }
        }
    }
    // With namespace labels, the namespace's levels replace the settings' (asked only now,
    // for a workload that is judged); a namespace that cannot be read rejects.
    let mut audit_annotations = BTreeMap::new();
    let namespaced = match namespace_policy(policy, request, context) {
        Ok(namespaced) => namespaced,
        Err(e) => return cannot_evaluate(policy, kind, e),
    };
    let policy = match &namespaced {
        Some((namespaced, errors)) => {
            if !errors.is_empty() {
                audit_annotations.insert(
                    ERROR_ANNOTATION.to_string(),
                    format!(
                        "Failed to parse policy: {}",
                        namespace::errors_message(errors)
                    ),
                );
            }
            &**namespaced
        }
        None => policy,
    };
    // Exemptions that select requests by who asks and where apply to this one when they match.
    let scope = request.scope(&pod);
    let scoped = policy.in_scope(&scope);
    let unscoped = policy;
    let policy = &*scoped;
    // The users of the images that some rule must judge (`imageUser`), each image asked once
    // for the request, the mutated object included.
    let mut image_users = ImageUsers::default();
    let lookup = image_users.attach(policy, &mut pod, context);
    if let Some(message) = lookup.rejection {
        return Decision::reject(message).into();
    }
    let mut verdict = policy.evaluate(&pod);
    if let Some(rejection) = &mut verdict.rejection {
        rejection.push_str(&requester_exemption_note(unscoped, &scope, &pod).unwrap_or_default());
    }
    // Pods are immutable where it matters, so only their creation is mutated; controllers'
    // templates can be mutated on every write.
    let may_mutate = policy.mutates()
        && request.sub_resource.is_empty()
        && (request.operation != "UPDATE" || kind != WorkloadKind::Pod);
    // Defaults that fix nothing (a PodSecurityPolicy's default profiles, capabilities, runtime
    // class) are set on admitted objects too, as PodSecurityPolicy set them.
    if may_mutate {
        let admitted = verdict.rejection.is_none();
        let whole_object = || request.whole_object().map(Cow::into_owned);
        let mutated = match crate::mutation::mutate(policy, kind, whole_object, &pod, admitted) {
            Ok(mutated) => mutated,
            Err(e) => return cannot_evaluate(policy, kind, e),
        };
        if let Some(mutated) = mutated {
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
                        with_warnings(decision(verdict, None, audit_annotations), lookup.warnings)
                    } else {
                        match fixed_verdict {
                            Err(message) => Decision::reject(message).into(),
                            // The lookups of the mutated object cover every image it needs.
                            Ok(v) => with_warnings(
                                decision(v, Some(mutated), audit_annotations),
                                fixed_lookup.warnings,
                            ),
                        }
                    }
                }
                _ => Decision::reject(format!(
                    "PodSecurity \"{}\" produced an unreadable {}; this is a bug",
                    policy.label(),
                    kind.name()
                ))
                .into(),
            };
        }
    }
    with_warnings(decision(verdict, None, audit_annotations), lookup.warnings)
}

/// For a rejected request that says nothing of who makes it (Kubewarden's audit scanner sends
/// existing resources as CREATE requests without `userInfo`): when exemptions by user or group
/// would have admitted it, had it had a matching user, a note that says so, naming them. The
/// decision stays what the request itself gets: an exemption by user is about who may create
/// a workload, which a scan of existing workloads cannot know.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn requester_exemption_note(
    policy: &Policy,
    scope: &AdmissionScope<'_>,
    pod: &Pod<'_>,
) -> Option<String> {
    if scope.has_requester() || !policy.exemptions().iter().any(|e| e.selects_requester()) {
        return None;
    }
    let assumed = scope.with_any_requester();
    if policy.in_scope(&assumed).evaluate(pod).rejection.is_some() {
        return None;
    }
    let named: Vec<String> = policy
        .exemptions()
        .iter()
        .enumerate()
        .filter(|(_, e)| e.selects_requester() && e.selects(&assumed))
        .map(|(i, e)| {
            let patterns = |name: &str, globs: &[crate::glob::Glob]| {
                (!globs.is_empty()).then(|| {
                    let quoted: Vec<String> = globs
                        .iter()
                        .map(|g| format!("\"{}\"", g.as_str()))
                        .collect();
                    format!("{name}: [{}]", quoted.join(", "))
                })
            };
            let selectors: Vec<String> = [
                patterns("usernames", &e.usernames),
                patterns("groups", &e.groups),
            ]
            .into_iter()
            .flatten()
            .collect();
            format!("exemptions[{i}] ({})", selectors.join(", "))
        })
        .collect();
    Some(format!(
        "; the request names no user (userInfo), as the audit scanner's requests for existing resources do, so exemptions by user or group cannot apply to it: {} would admit it for a matching user",
        named.join(", ")
    ))
}

/// The rejection of a workload the policy cannot judge: its object cannot be read, or what the
/// decision needs from the host cannot be had.
fn cannot_evaluate(policy: &Policy, kind: WorkloadKind, why: impl std::fmt::Display) -> Outcome {
    Decision::reject(format!(
        "PodSecurity \"{}\" cannot evaluate this {}: {why}",
        policy.label(),
        kind.name()
    ))
    .into()
}

/// `decision` with `extra` warnings after its own.
fn with_warnings(mut outcome: Outcome, extra: Vec<String>) -> Outcome {
    match &mut outcome.decision {
        Decision::Accept { warnings, .. } | Decision::Reject { warnings, .. } => {
            warnings.extend(extra)
        }
    }
    outcome
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
fn decision(
    verdict: Verdict,
    mutated: Option<Value>,
    mut audit_annotations: BTreeMap<String, String>,
) -> Outcome {
    let warnings = verdict.warning.into_iter().collect();
    if let Some(audit) = verdict.audit {
        audit_annotations.insert(AUDIT_VIOLATIONS_ANNOTATION.to_string(), audit);
    }
    let decision = match verdict.rejection {
        Some(message) => Decision::Reject { message, warnings },
        None => Decision::Accept { warnings, mutated },
    };
    Outcome {
        decision,
        audit_annotations,
    }
}

/// A Namespace object, as PSA validates it when namespace labels are read: invalid Pod
/// Security labels are refused (on an update, only when they changed), and an update that
/// tightens the enforce level is answered with warnings naming the existing pods it would
/// reject.
fn decide_namespace(
    policy: &Policy,
    request: &AdmissionRequest,
    context: &dyn ClusterContext,
) -> Outcome {
    if !policy.reads_namespace_labels()
        || !request.sub_resource.is_empty()
        || !matches!(request.operation.as_str(), "CREATE" | "UPDATE")
    {
        return Decision::accept().into();
    }
    let levels = |object: &Value, which: &str| {
        namespace::labels_of(object)
            .map(|labels| namespace::policy_for_labels(&labels, policy.namespace_defaults()))
            .map_err(|e| Decision::reject(format!("cannot read the {which}Namespace: {e}")))
    };
    let (new, new_errors) = match levels(&request.object, "") {
        Ok(l) => l,
        Err(rejection) => return rejection.into(),
    };
    if request.operation == "CREATE" {
        if !new_errors.is_empty() {
            return Decision::reject(namespace::errors_message(&new_errors)).into();
        }
        return Decision::accept().into();
    }
    let (old, old_errors) = match levels(&request.old_object, "old ") {
        Ok(l) => l,
        Err(rejection) => return rejection.into(),
    };
    let new_message = namespace::errors_message(&new_errors);
    if !new_errors.is_empty()
        && (old_errors.is_empty() || new_message != namespace::errors_message(&old_errors))
    {
        return Decision::reject(new_message).into();
    }
    // Existing pods are checked only when the enforce level gets stricter.
    if new.enforce == old.enforce
        || new.enforce.level == crate::level::Level::Privileged
        || (new.enforce.version == old.enforce.version && new.enforce.level <= old.enforce.level)
    {
        return Decision::accept().into();
    }
    let name = request.object["metadata"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .unwrap_or(&request.name);
    let pods = match context.pods_in_namespace(name) {
        Ok(pods) => pods,
        Err(e) => {
            return Decision::reject(format!(
                "cannot check the existing pods of namespace \"{name}\" against the new PodSecurity enforce level \"{}\": {e}",
                new.enforce
            ))
            .into()
        }
    };
    let warnings = existing_pod_warnings(&policy.for_namespace(new), name, &new.enforce, &pods);
    Decision::Accept {
        warnings,
        mutated: None,
    }
    .into()
}

/// An existing pod of a namespace: its object, and the pod read from it with the policy its
/// exemptions leave (or why it could not be read).
type ExistingPod<'v, 'p> = (&'v Value, Result<(Pod<'v>, Cow<'p, Policy>), String>);

/// PSA's warnings for existing pods that a new enforce level rejects: pods with the same
/// reasons are counted under the lexically first one's name, at most
/// `NAMESPACE_MAX_PODS_TO_CHECK` pods are checked, chosen as PSA chooses them
/// (`checked_pods_order`), and the warnings are sorted.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn existing_pod_warnings(
    policy: &Policy,
    namespace: &str,
    enforce: &namespace::LevelVersion,
    pods: &[Value],
) -> Vec<String> {
    // Exemptions by namespace, runtime class and service account apply to existing pods too;
    // there is no requesting user. Each pod is read, and its exemptions chosen, once.
    let read: Vec<ExistingPod<'_, '_>> = pods
        .iter()
        .filter_map(|value| match read_pod(WorkloadKind::Pod, value) {
            Ok(Some(pod)) => {
                let scoped = policy.in_scope(&AdmissionScope::new("", &[], namespace, &pod));
                Some((value, Ok((pod, scoped))))
            }
            Ok(None) => None,
            Err(e) => Some((value, Err(e.to_string()))),
        })
        .collect();
    // PSA leaves out pods its exemptions (by runtime class) take out of every check, before it
    // counts them; so do pods wholly exempted here.
    let candidates: Vec<&ExistingPod<'_, '_>> = read
        .iter()
        .filter(|(_, pod)| {
            pod.as_ref()
                .map_or(true, |(_, scoped)| !scoped.exempts_every_rule())
        })
        .collect();
    let order = checked_pods_order(candidates.iter().map(|(value, _)| *value));
    let total = order.len();
    let checked = &order[..total.min(NAMESPACE_MAX_PODS_TO_CHECK)];
    // reason -> (first pod name, count), in first-seen order.
    let mut by_reason: Vec<(String, String, usize)> = Vec::new();
    for &i in checked {
        let (value, pod) = candidates[i];
        let name = pod_name(value);
        let reason = match pod {
            Ok((pod, scoped)) => scoped.rejection_reasons(pod).join(", "),
            Err(e) => format!("cannot be evaluated: {e}"),
        };
        if reason.is_empty() {
            continue;
        }
        match by_reason.iter_mut().find(|(r, _, _)| *r == reason) {
            Some((_, first, count)) => {
                if name < first.as_str() {
                    *first = name.to_string();
                }
                *count += 1;
            }
            None => by_reason.push((reason, name.to_string(), 1)),
        }
    }
    let mut warnings = Vec::new();
    if checked.len() < total {
        warnings.push(format!(
            "new PodSecurity enforce level only checked against the first {} of {} existing pods",
            checked.len(),
            total
        ));
    }
    if !by_reason.is_empty() {
        warnings.push(format!(
            "existing pods in namespace \"{namespace}\" violate the new PodSecurity enforce level \"{enforce}\""
        ));
    }
    let mut pod_warnings: Vec<String> = by_reason
        .into_iter()
        .map(|(reason, first, count)| match count {
            1 => format!("{first}: {reason}"),
            2 => format!("{first} (and 1 other pod): {reason}"),
            n => format!("{first} (and {} other pods): {reason}", n - 1),
        })
        .collect();
    pod_warnings.sort_unstable();
    warnings.extend(pod_warnings);
    warnings
}

fn pod_name(pod: &Value) -> &str {
    pod["metadata"]["name"].as_str().unwrap_or_default()
}

/// The order PSA checks existing pods in (indexes into `pods`): the first pod of each
/// controller and every pod without one, then the controllers' other pods. PSA takes pods in
/// its informer's order, which is a hash order; they are sorted by name first, so that the
/// same namespace always gives the same pods to check, whatever order the host lists them in.
pub fn checked_pods_order<'a>(pods: impl IntoIterator<Item = &'a Value>) -> Vec<usize> {
    let pods: Vec<&Value> = pods.into_iter().collect();
    let mut by_name: Vec<usize> = (0..pods.len()).collect();
    // Names are unique in a namespace; the index keeps the order total when they are not.
    by_name.sort_by(|&a, &b| pod_name(pods[a]).cmp(pod_name(pods[b])).then(a.cmp(&b)));
    let mut seen_controllers = std::collections::BTreeSet::new();
    let (mut first, mut replicas) = (Vec::with_capacity(pods.len()), Vec::new());
    for i in by_name {
        match controller_uid(pods[i]) {
            Some(uid) if !seen_controllers.insert(uid) => replicas.push(i),
            _ => first.push(i),
        }
    }
    first.extend(replicas);
    first
}

/// The UID of the pod's controller: its owner reference with `controller: true`, as
/// `metav1.GetControllerOf` finds it.
fn controller_uid(pod: &Value) -> Option<&str> {
    pod["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|owner| owner["controller"] == Value::Bool(true))
        .map(|owner| owner["uid"].as_str().unwrap_or_default())
}

/// The request's object with every applicable default set, whatever the decision; `None` when
/// nothing would be set or the object cannot be read. For tests and front ends that show diffs.
pub fn defaults_for(policy: &Policy, request: &AdmissionRequest) -> Option<Value> {
    let kind = workload_kind(request)?;
    let pod = read_pod(kind, &request.object).ok()??;
    let whole_object = || request.whole_object().map(Cow::into_owned);
    crate::mutation::mutate(policy, kind, whole_object, &pod, false)
        .ok()
        .flatten()
}
