//! The host capabilities a Kubewarden guest may call, answered the way `kwctl run` answers them
//! without a cluster: from a replay session (`--replay-host-capabilities-interactions FILE`),
//! in order, and only for Kubernetes resources when context-aware access is granted
//! (`--allow-context-aware`).
//!
//! # Session files
//!
//! Exactly what kwctl 1.36 writes with `--record-host-capabilities-interactions FILE` (the
//! sessions of test_data/sessions/ are recorded that way, by scripts/record-sessions.sh): a
//! YAML list of exchanges, each
//!
//! ```yaml
//! - type: Exchange
//!   request: |
//!     !KubernetesGetResource
//!     api_version: v1
//!     kind: Namespace
//!     name: team-a
//!     namespace: null
//!     disable_cache: false
//!     field_masks: null
//!   response:
//!     type: Success
//!     payload: '{"apiVersion":"v1","kind":"Namespace", ...}'
//! ```
//!
//! `request` is the host's request (policy-evaluator's `CallbackRequestType`) as YAML *text*,
//! the variant as the YAML tag; `response` is `{type: Success, payload: <the answer's JSON
//! text>}` or `{type: Error, message: <the host's error>}`. A `KubernetesCanI` request is
//! `{request: {groups, resource_attributes, user}, disable_cache}`. No other spelling is
//! accepted: a session kwctl could not replay is an error here too, and so is a field kwctl
//! never writes.
//!
//! Like kwctl, every host call takes the next exchange, and the call's request must equal the
//! recorded one (fields kwctl leaves out read as null, as in kwctl): otherwise the call fails
//! with `Replay error: unexpected request...`; when the session is used up it fails with `the
//! list of recorded responses is empty`. Either way the exchange is consumed. Exchanges never
//! asked for are not an error (kwctl warns). Errors from the session reach the guest as
//! kwctl's do, after `Callback evaluation failure: `.

use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Error, Result};

/// A host call's answer: the payload bytes, or the error the guest sees.
pub type HostAnswer = std::result::Result<Vec<u8>, String>;

/// What the host offers a policy beyond logging.
#[derive(Debug, Clone, Default)]
pub struct HostCapabilities {
    /// `--allow-context-aware`: the policy may read Kubernetes resources.
    pub allow_context_aware: bool,
    /// `--replay-host-capabilities-interactions`: the recorded answers.
    pub replay: Option<ReplaySession>,
    /// Answers computed by the embedding program instead of replayed in order (the command-line
    /// tool answers from the manifests it reads); asked before `replay`.
    pub responder: Option<Responder>,
}

/// A host that answers the guest's requests itself, in any order: `None` leaves the request
/// to the replay session.
pub type ResponderFn = dyn Fn(&HostRequest) -> Option<HostAnswer> + Send + Sync;

/// A shared [`ResponderFn`].
#[derive(Clone)]
pub struct Responder(pub std::sync::Arc<ResponderFn>);

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Responder(..)")
    }
}

/// The resource a SubjectAccessReview asks about, as kwctl records it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceAttributes {
    pub group: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub resource: String,
    pub subresource: Option<String>,
    pub verb: String,
    pub version: Option<String>,
}

/// The SubjectAccessReview of a `KubernetesCanI` request, as kwctl records it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectAccessReview {
    pub groups: Option<Vec<String>>,
    pub resource_attributes: ResourceAttributes,
    pub user: String,
}

/// One request the guest made to the host: policy-evaluator's `CallbackRequestType`, the
/// variants a Kubernetes, OCI or DNS host call becomes, with kwctl's field names. `Debug` prints
/// it as kwctl's replay errors do.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum HostRequest {
    KubernetesGetResource {
        api_version: String,
        kind: String,
        name: String,
        namespace: Option<String>,
        disable_cache: bool,
        field_masks: Option<Vec<String>>,
    },
    KubernetesListResourceNamespace {
        api_version: String,
        kind: String,
        namespace: String,
        label_selector: Option<String>,
        field_selector: Option<String>,
        field_masks: Option<Vec<String>>,
    },
    KubernetesListResourceAll {
        api_version: String,
        kind: String,
        label_selector: Option<String>,
        field_selector: Option<String>,
        field_masks: Option<Vec<String>>,
    },
    KubernetesCanI {
        request: SubjectAccessReview,
        disable_cache: bool,
    },
    OciManifestDigest {
        image: String,
    },
    OciManifest {
        image: String,
    },
    OciManifestAndConfig {
        image: String,
    },
    #[serde(rename = "DNSLookupHost")]
    DnsLookupHost {
        host: String,
    },
}

impl HostRequest {
    /// The Kubernetes resource it reads, as `apiVersion/Kind`, if it reads one.
    fn resource_read(&self) -> Option<String> {
        match self {
            HostRequest::KubernetesGetResource {
                api_version, kind, ..
            }
            | HostRequest::KubernetesListResourceNamespace {
                api_version, kind, ..
            }
            | HostRequest::KubernetesListResourceAll {
                api_version, kind, ..
            } => Some(format!("{api_version}/{kind}")),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Recorded {
    Success(Vec<u8>),
    Error(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Exchange {
    request: HostRequest,
    response: Recorded,
}

/// An exchange as kwctl writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeEntry {
    #[serde(rename = "type")]
    kind: EntryType,
    request: String,
    response: ResponseEntry,
}

#[derive(Deserialize)]
enum EntryType {
    Exchange,
}

#[derive(Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum ResponseEntry {
    Success { payload: String },
    Error { message: String },
}

/// A replay session: recorded exchanges and how many have been used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplaySession {
    exchanges: Vec<Exchange>,
    cursor: usize,
}

/// What kwctl puts before every error of its replay, and before a recorded error.
const CALLBACK_FAILURE: &str = "Callback evaluation failure: ";

impl ReplaySession {
    /// Reads a session file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<ReplaySession> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        ReplaySession::from_yaml(&text)
            .map_err(|e| Error::Input(format!("{}: {e}", path.display())))
    }

    /// Reads a session from its YAML text.
    pub fn from_yaml(text: &str) -> std::result::Result<ReplaySession, String> {
        let doc: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|e| format!("not a session file: {e}"))?;
        let items = match doc {
            serde_yaml::Value::Null => Vec::new(),
            serde_yaml::Value::Sequence(items) => items,
            _ => return Err("not a session file: expected a list of exchanges".into()),
        };
        let exchanges = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| parse_exchange(item).map_err(|e| format!("exchange {}: {e}", i + 1)))
            .collect::<std::result::Result<_, _>>()?;
        Ok(ReplaySession {
            exchanges,
            cursor: 0,
        })
    }

    /// How many exchanges the session holds.
    pub fn len(&self) -> usize {
        self.exchanges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.exchanges.is_empty()
    }

    /// How many host calls have been answered (or refused) from it so far.
    pub fn replayed(&self) -> usize {
        self.cursor
    }

    /// Starts again from the first exchange (one session per evaluation, as `kwctl bench`).
    pub fn rewind(&mut self) {
        self.cursor = 0;
    }

    /// The answer recorded for a request equal to `request`, wherever it is in the session and
    /// however often it was asked before: the session as a table of answers, for callers that
    /// evaluate many objects in no fixed order. `None` when the session has no such request.
    pub fn lookup(&self, request: &HostRequest) -> Option<HostAnswer> {
        self.lookup_where(|recorded| recorded == request)
    }

    /// The answer recorded for the first request that `matches` (see [`ReplaySession::lookup`]).
    pub fn lookup_where(&self, matches: impl Fn(&HostRequest) -> bool) -> Option<HostAnswer> {
        let exchange = self.exchanges.iter().find(|e| matches(&e.request))?;
        Some(match &exchange.response {
            Recorded::Success(payload) => Ok(payload.clone()),
            Recorded::Error(message) => Err(format!("{CALLBACK_FAILURE}{message}")),
        })
    }

    /// kwctl's answer to the next host call.
    pub fn answer(&mut self, request: &HostRequest) -> HostAnswer {
        let index = self.cursor;
        self.cursor += 1;
        let Some(exchange) = self.exchanges.get(index) else {
            return Err(format!(
                "{CALLBACK_FAILURE}the list of recorded responses is empty"
            ));
        };
        if exchange.request != *request {
            return Err(format!(
                "{CALLBACK_FAILURE}Replay error: unexpected request. Was expecting {:?}, got {:?} instead",
                exchange.request, request
            ));
        }
        match &exchange.response {
            Recorded::Success(payload) => Ok(payload.clone()),
            Recorded::Error(message) => Err(format!("{CALLBACK_FAILURE}{message}")),
        }
    }
}

fn parse_exchange(item: serde_yaml::Value) -> std::result::Result<Exchange, String> {
    let entry: ExchangeEntry = serde_yaml::from_value(item).map_err(|e| e.to_string())?;
    let EntryType::Exchange = entry.kind;
    let request: HostRequest = serde_yaml::from_str(&entry.request)
        .map_err(|e| format!("cannot read the recorded request: {e}"))?;
    let response = match entry.response {
        ResponseEntry::Success { payload } => Recorded::Success(payload.into_bytes()),
        ResponseEntry::Error { message } => Recorded::Error(message),
    };
    Ok(Exchange { request, response })
}

/// The host request for a guest's call, as policy-evaluator builds it from the payload: the
/// guest's request type read from the payload (fields it does not know ignored), then made the
/// `CallbackRequestType` variant. `Err` is the error the guest gets for a call the host does not
/// know or cannot read.
pub fn host_request(
    namespace: &str,
    operation: &str,
    payload: &[u8],
) -> std::result::Result<HostRequest, String> {
    let unreadable = |e: &dyn std::fmt::Display| -> String {
        format!("cannot read the {namespace}/{operation} request: {e}")
    };
    let json: Value = serde_json::from_slice(payload).map_err(|e| unreadable(&e))?;
    let pick = |keys: &[&str]| -> Value {
        Value::Object(
            keys.iter()
                .filter_map(|k| json.get(*k).map(|v| (k.to_string(), v.clone())))
                .collect(),
        )
    };
    let string = |what: &str| -> std::result::Result<Value, String> {
        match &json {
            Value::String(s) => Ok(json!({ what: s })),
            _ => Err(format!("{namespace}/{operation}: expected a JSON string")),
        }
    };
    let (variant, fields) = match (namespace, operation) {
        ("kubernetes", "get_resource") => (
            "KubernetesGetResource",
            pick(&[
                "api_version",
                "kind",
                "name",
                "namespace",
                "disable_cache",
                "field_masks",
            ]),
        ),
        ("kubernetes", "list_resources_by_namespace") => (
            "KubernetesListResourceNamespace",
            pick(&[
                "api_version",
                "kind",
                "namespace",
                "label_selector",
                "field_selector",
                "field_masks",
            ]),
        ),
        ("kubernetes", "list_resources_all") => (
            "KubernetesListResourceAll",
            pick(&[
                "api_version",
                "kind",
                "label_selector",
                "field_selector",
                "field_masks",
            ]),
        ),
        // The SDK sends `{subject_access_review, disable_cache}`; the host's request holds the
        // review as `request`.
        ("kubernetes", "can_i") => {
            let review = json
                .get("subject_access_review")
                .cloned()
                .unwrap_or_default();
            let review = match review {
                Value::Object(map) => Value::Object(
                    map.into_iter()
                        .filter(|(k, _)| {
                            ["groups", "resource_attributes", "user"].contains(&k.as_str())
                        })
                        .collect(),
                ),
                other => other,
            };
            let mut fields = json!({ "request": review });
            if let Some(disable_cache) = json.get("disable_cache") {
                fields["disable_cache"] = disable_cache.clone();
            }
            ("KubernetesCanI", fields)
        }
        ("oci", "v1/manifest_digest") => ("OciManifestDigest", string("image")?),
        ("oci", "v1/oci_manifest") => ("OciManifest", string("image")?),
        ("oci", "v1/oci_manifest_config") => ("OciManifestAndConfig", string("image")?),
        ("net", "v1/dns_lookup_host") => ("DNSLookupHost", string("host")?),
        _ => return Err(format!("unknown operation: {operation}")),
    };
    serde_json::from_value(json!({ variant: fields })).map_err(|e| unreadable(&e))
}

impl HostCapabilities {
    /// The answer to a `kubewarden` host call other than logging.
    pub fn answer(&mut self, namespace: &str, operation: &str, payload: &[u8]) -> HostAnswer {
        let request = host_request(namespace, operation, payload)?;
        if let Some(resource) = request.resource_read() {
            if !self.allow_context_aware {
                return Err(format!(
                    "Policy has not been granted access to Kubernetes {resource} resources. The violation has been reported."
                ));
            }
        }
        if let Some(answer) = self.responder.as_ref().and_then(|r| (r.0)(&request)) {
            return answer;
        }
        match &mut self.replay {
            Some(session) => session.answer(&request),
            None => Err(format!(
                "host capability kubewarden/{namespace}/{operation} needs a cluster or registry; \
                 policy-runner only replays recorded answers (--replay-host-capabilities-interactions)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two exchanges as kwctl 1.36 records them.
    const SESSION: &str = r#"
- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: v1
    kind: Namespace
    name: team-a
    namespace: null
    disable_cache: false
    field_masks: null
  response:
    type: Success
    payload: '{"metadata":{"name":"team-a"}}'
- type: Exchange
  request: |
    !KubernetesCanI
    request:
      groups:
      - dev
      resource_attributes:
        group: example.io
        name: p
        namespace: team-a
        resource: profiles
        subresource: null
        verb: use
        version: null
      user: alice
    disable_cache: false
  response:
    type: Error
    message: the server is on fire
"#;

    fn get_namespace(name: &str) -> Vec<u8> {
        format!(
            r#"{{"api_version":"v1","kind":"Namespace","name":"{name}","namespace":null,"disable_cache":false,"field_masks":null}}"#
        )
        .into_bytes()
    }

    /// The SDK's `CanIRequest`, as the guest sends it.
    fn can_i(user: &str) -> Vec<u8> {
        format!(
            r#"{{"subject_access_review":{{"groups":["dev"],"resource_attributes":{{"group":"example.io","name":"p","namespace":"team-a","resource":"profiles","subresource":null,"verb":"use","version":null}},"user":"{user}"}},"disable_cache":false}}"#
        )
        .into_bytes()
    }

    fn host(text: &str) -> HostCapabilities {
        HostCapabilities {
            allow_context_aware: true,
            replay: Some(ReplaySession::from_yaml(text).unwrap()),
            ..Default::default()
        }
    }

    #[test]
    fn answers_in_order_then_runs_out() {
        let mut host = host(SESSION);
        let answer = host.answer("kubernetes", "get_resource", &get_namespace("team-a"));
        assert_eq!(answer.unwrap(), br#"{"metadata":{"name":"team-a"}}"#);
        let answer = host.answer("kubernetes", "can_i", &can_i("alice"));
        assert_eq!(
            answer.unwrap_err(),
            "Callback evaluation failure: the server is on fire"
        );
        let answer = host.answer("kubernetes", "get_resource", &get_namespace("team-a"));
        assert_eq!(
            answer.unwrap_err(),
            "Callback evaluation failure: the list of recorded responses is empty"
        );
        assert_eq!(host.replay.as_ref().unwrap().replayed(), 3);
    }

    #[test]
    fn an_unexpected_request_fails_and_consumes_the_exchange() {
        let mut host = host(SESSION);
        let err = host
            .answer("kubernetes", "get_resource", &get_namespace("team-b"))
            .unwrap_err();
        assert_eq!(
            err,
            "Callback evaluation failure: Replay error: unexpected request. Was expecting \
             KubernetesGetResource { api_version: \"v1\", kind: \"Namespace\", name: \"team-a\", \
             namespace: None, disable_cache: false, field_masks: None }, got KubernetesGetResource \
             { api_version: \"v1\", kind: \"Namespace\", name: \"team-b\", namespace: None, \
             disable_cache: false, field_masks: None } instead"
        );
        // The next call gets the second exchange, as with kwctl.
        let err = host
            .answer("kubernetes", "can_i", &can_i("bob"))
            .unwrap_err();
        assert!(err.contains("unexpected request"), "{err}");
    }

    #[test]
    fn every_field_of_the_request_counts() {
        // A cache that may be skipped is another request, as with kwctl.
        let mut host = host(SESSION);
        let payload = String::from_utf8(get_namespace("team-a"))
            .unwrap()
            .replace("\"disable_cache\":false", "\"disable_cache\":true");
        let err = host
            .answer("kubernetes", "get_resource", payload.as_bytes())
            .unwrap_err();
        assert!(err.contains("unexpected request"), "{err}");
        // A SubjectAccessReview with other groups is another question.
        let payload = String::from_utf8(can_i("alice"))
            .unwrap()
            .replace("[\"dev\"]", "[\"dev\",\"ops\"]");
        let err = host
            .answer("kubernetes", "can_i", payload.as_bytes())
            .unwrap_err();
        assert!(err.contains("unexpected request"), "{err}");
    }

    #[test]
    fn fields_kwctl_leaves_out_are_null() {
        // kwctl reads an absent optional field as null; so does the runner.
        let mut host = host(
            "- type: Exchange\n  request: |\n    !KubernetesGetResource\n    api_version: v1\n    \
             kind: Namespace\n    name: team-a\n    disable_cache: false\n  response:\n    \
             type: Success\n    payload: '{}'\n",
        );
        assert_eq!(
            host.answer("kubernetes", "get_resource", &get_namespace("team-a"))
                .unwrap(),
            b"{}"
        );
    }

    #[test]
    fn resources_need_allow_context_aware() {
        let mut host = host(SESSION);
        host.allow_context_aware = false;
        let err = host
            .answer("kubernetes", "get_resource", &get_namespace("team-a"))
            .unwrap_err();
        assert_eq!(
            err,
            "Policy has not been granted access to Kubernetes v1/Namespace resources. The violation has been reported."
        );
        // can_i is not a resource read: it is answered. (A refused call takes no exchange.)
        let can_i_only = &SESSION[SESSION
            .find("- type: Exchange\n  request: |\n    !KubernetesCanI")
            .unwrap()..];
        let mut host = super::tests::host(can_i_only);
        host.allow_context_aware = false;
        assert_eq!(
            host.answer("kubernetes", "can_i", &can_i("alice"))
                .unwrap_err(),
            "Callback evaluation failure: the server is on fire"
        );
    }

    #[test]
    fn oci_requests_and_unknown_operations() {
        let mut host = host(
            r#"
- type: Exchange
  request: |
    !OciManifestAndConfig
    image: ghcr.io/x/y:1
  response:
    type: Success
    payload: '{"config":{}}'
"#,
        );
        assert_eq!(
            host.answer("oci", "v1/oci_manifest_config", br#""ghcr.io/x/y:1""#)
                .unwrap(),
            br#"{"config":{}}"#
        );
        assert_eq!(
            host.answer("kubernetes", "delete_everything", b"{}")
                .unwrap_err(),
            "unknown operation: delete_everything"
        );
    }

    #[test]
    fn only_kwctls_layout_is_a_session() {
        // An exchange whose request is this YAML text, as kwctl writes it.
        let recorded = |text: &str| {
            let text: String = text.lines().map(|l| format!("    {l}\n")).collect();
            format!(
                "- type: Exchange\n  request: |\n{text}  response: {{type: Error, message: x}}\n"
            )
        };
        // An exchange whose request is this YAML value.
        let value = |request: &str| {
            format!(
                "- type: Exchange\n  request: {request}\n  response: {{type: Error, message: x}}\n"
            )
        };
        for (text, why) in [
            ("{}".to_string(), "expected a list"),
            ("- request: x\n".to_string(), "missing field `type`"),
            (
                "- type: Exchange\n  request: '!OciManifest {image: x}'\n  response: {type: Maybe}\n"
                    .to_string(),
                "Maybe",
            ),
            // The request as a YAML value instead of text: kwctl cannot replay it.
            (value("!OciManifest {image: x}"), "invalid type"),
            (value("{type: OciManifest, image: x}"), "invalid type"),
            // The request's variant in any other spelling than a tag.
            (recorded("OciManifest: {image: x}"), "expected a YAML tag"),
            (recorded("type: OciManifest\nimage: x"), "expected a YAML tag"),
            (recorded("!OciManifest\nimage: x\ndigest: y"), "unknown field `digest`"),
            (recorded("!KubernetesWatch\nname: x"), "unknown variant"),
            // The layouts of can_i that kwctl 1.36 panics on.
            (
                recorded(
                    "!KubernetesCanI\nsubject_access_review: {user: a, resource_attributes: \
                     {resource: r, verb: v}}\ndisable_cache: false",
                ),
                "unknown field `subject_access_review`",
            ),
            (
                recorded(
                    "!KubernetesCanI\nrequest:\n  subject_access_review: {user: a, \
                     resource_attributes: {resource: r, verb: v}}\n  disable_cache: false\n\
                     disable_cache: false",
                ),
                "unknown field `subject_access_review`",
            ),
            (
                recorded("!KubernetesCanI\nrequest:\n  spec: {user: a}\ndisable_cache: false"),
                "unknown field `spec`",
            ),
        ] {
            let err = ReplaySession::from_yaml(&text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
        assert!(ReplaySession::from_yaml("").unwrap().is_empty());
        assert!(ReplaySession::from_yaml("[]").unwrap().is_empty());
        let kwctls = recorded(
            "!KubernetesCanI\nrequest:\n  groups: null\n  resource_attributes: {resource: r, \
             verb: v}\n  user: a\ndisable_cache: false",
        );
        assert_eq!(ReplaySession::from_yaml(&kwctls).unwrap().len(), 1);
    }
}
