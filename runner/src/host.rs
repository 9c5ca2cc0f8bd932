//! The host capabilities a Kubewarden guest may call, answered the way `kwctl run` answers them
//! without a cluster: from a replay session (`--replay-host-capabilities-interactions FILE`),
//! in order, and only for Kubernetes resources when context-aware access is granted
//! (`--allow-context-aware`).
//!
//! # Session files
//!
//! kwctl's format, unchanged, so that the same file works with the real kwctl: a YAML list of
//! exchanges, each
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
//!   response:
//!     type: Success
//!     payload: '{"apiVersion":"v1","kind":"Namespace", ...}'
//! ```
//!
//! `request` is the host's request (policy-evaluator's `CallbackRequestType`) as YAML text, the
//! variant as the YAML tag; `response` is `{type: Success, payload: <the answer's JSON text>}`
//! or `{type: Error, message: <the host's error>}`. For convenience the request may also be
//! written as a YAML value instead of text, tagged the same way, as `{type: Variant, ...}`, or
//! as `{Variant: {...}}`.
//!
//! Like kwctl, every host call takes the next exchange: when its request is not the recorded
//! one the call fails with `Replay error: unexpected request...`, and when the session is used
//! up it fails with `the list of recorded responses is empty or has been exhausted`. Either way
//! the exchange is consumed. Exchanges never asked for are not an error (kwctl warns).

use std::path::Path;

use serde_json::{json, Map, Value};

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
}

/// One request the guest made to the host, as policy-evaluator names it: the variant of
/// `CallbackRequestType` and its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct HostRequest {
    pub variant: String,
    pub fields: Value,
}

impl std::fmt::Display for HostRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.variant, self.fields)
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

/// A replay session: recorded exchanges and how many have been used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplaySession {
    exchanges: Vec<Exchange>,
    cursor: usize,
}

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
            .iter()
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

    /// kwctl's answer to the next host call.
    pub fn answer(&mut self, request: &HostRequest) -> HostAnswer {
        let index = self.cursor;
        self.cursor += 1;
        let Some(exchange) = self.exchanges.get(index) else {
            return Err("the list of recorded responses is empty or has been exhausted".into());
        };
        if !same_request(&exchange.request, request) {
            return Err(format!(
                "Replay error: unexpected request. Was expecting {}, got {} instead",
                exchange.request, request
            ));
        }
        match &exchange.response {
            Recorded::Success(payload) => Ok(payload.clone()),
            Recorded::Error(message) => Err(message.clone()),
        }
    }
}

fn yaml_to_json(value: &serde_yaml::Value) -> std::result::Result<Value, String> {
    serde_yaml::from_value(value.clone()).map_err(|e| e.to_string())
}

fn parse_exchange(item: &serde_yaml::Value) -> std::result::Result<Exchange, String> {
    let map = item.as_mapping().ok_or("expected a mapping")?;
    let field = |name: &str| map.get(name);
    if let Some(kind) = field("type") {
        if kind.as_str() != Some("Exchange") {
            return Err(format!("unknown entry type {kind:?}, expected Exchange"));
        }
    }
    let request = match field("request").ok_or("missing `request`")? {
        serde_yaml::Value::String(text) => {
            let value: serde_yaml::Value =
                serde_yaml::from_str(text).map_err(|e| format!("request is not YAML: {e}"))?;
            parse_request(&value)?
        }
        other => parse_request(other)?,
    };
    let response = field("response").ok_or("missing `response`")?;
    let response = match response.get("type").and_then(|t| t.as_str()) {
        Some("Success") => Recorded::Success(
            response
                .get("payload")
                .and_then(|p| p.as_str())
                .ok_or("a Success response needs a `payload` string")?
                .as_bytes()
                .to_vec(),
        ),
        Some("Error") => Recorded::Error(
            response
                .get("message")
                .and_then(|p| p.as_str())
                .ok_or("an Error response needs a `message` string")?
                .to_string(),
        ),
        _ => return Err("response needs `type: Success` or `type: Error`".into()),
    };
    Ok(Exchange { request, response })
}

/// A recorded request in any of the spellings serde gives an enum variant.
fn parse_request(value: &serde_yaml::Value) -> std::result::Result<HostRequest, String> {
    if let serde_yaml::Value::Tagged(tagged) = value {
        let variant = tagged.tag.to_string();
        return Ok(HostRequest {
            variant: variant.trim_start_matches('!').to_string(),
            fields: yaml_to_json(&tagged.value)?,
        });
    }
    let json = yaml_to_json(value)?;
    let Value::Object(mut map) = json else {
        return Err("request must be a tagged mapping, e.g. `!KubernetesGetResource`".into());
    };
    if let Some(Value::String(variant)) = map.remove("type") {
        return Ok(HostRequest {
            variant,
            fields: Value::Object(map),
        });
    }
    if map.len() == 1 {
        let (variant, fields) = map.into_iter().next().expect("one entry");
        return Ok(HostRequest { variant, fields });
    }
    Err("request must name its type (`!Variant`, `type: Variant` or `Variant: {...}`)".into())
}

/// Nulls and empty mappings are what optional fields look like when absent, so they do not
/// distinguish requests.
fn normalized(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .filter(|(_, v)| !v.is_null() && v.as_object().is_none_or(|m| !m.is_empty()))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

/// A SubjectAccessReview request, whichever way a host version spells it: the SDK's
/// `CanIRequest` (`subject_access_review: {user, groups, resource_attributes}`), nested under
/// `request`, or as a Kubernetes `SubjectAccessReview` object (`spec.resourceAttributes`).
fn access_review_key(fields: &Value) -> Value {
    let fields = fields.get("request").unwrap_or(fields);
    let review = fields.get("subject_access_review").unwrap_or(fields);
    let (who, attributes) = match review.get("spec") {
        Some(spec) => (spec, spec.get("resourceAttributes")),
        None => (review, review.get("resource_attributes")),
    };
    let attributes = attributes.cloned().unwrap_or(Value::Null);
    normalized(&json!({
        "user": who.get("user"),
        "groups": who.get("groups"),
        "attributes": attributes,
        "disable_cache": fields.get("disable_cache").and_then(Value::as_bool).unwrap_or(false),
    }))
}

fn same_request(recorded: &HostRequest, asked: &HostRequest) -> bool {
    if recorded.variant != asked.variant {
        return false;
    }
    if recorded.variant == "KubernetesCanI" {
        return access_review_key(&recorded.fields) == access_review_key(&asked.fields);
    }
    normalized(&recorded.fields) == normalized(&asked.fields)
}

/// The host request for a guest's call, as policy-evaluator builds it from the payload.
/// `Err` is the error the guest gets for a call the host does not know or cannot read.
pub fn host_request(
    namespace: &str,
    operation: &str,
    payload: &[u8],
) -> std::result::Result<HostRequest, String> {
    let json: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("cannot read the {namespace}/{operation} request: {e}"))?;
    let string = |what: &str| -> std::result::Result<Value, String> {
        match &json {
            Value::String(s) => Ok(json!({ what: s })),
            _ => Err(format!("{namespace}/{operation}: expected a JSON string")),
        }
    };
    let pick = |keys: &[&str]| -> Value {
        Value::Object(
            keys.iter()
                .map(|k| (k.to_string(), json.get(*k).cloned().unwrap_or(Value::Null)))
                .collect::<Map<_, _>>(),
        )
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
        ("kubernetes", "can_i") => ("KubernetesCanI", json.clone()),
        ("oci", "v1/manifest_digest") => ("OciManifestDigest", string("image")?),
        ("oci", "v1/oci_manifest") => ("OciManifest", string("image")?),
        ("oci", "v1/oci_manifest_config") => ("OciManifestAndConfig", string("image")?),
        ("net", "v1/dns_lookup_host") => ("DNSLookupHost", string("host")?),
        _ => return Err(format!("unknown operation: {operation}")),
    };
    Ok(HostRequest {
        variant: variant.to_string(),
        fields,
    })
}

impl HostCapabilities {
    /// The answer to a `kubewarden` host call other than logging.
    pub fn answer(&mut self, namespace: &str, operation: &str, payload: &[u8]) -> HostAnswer {
        let request = host_request(namespace, operation, payload)?;
        let reads_resources = matches!(
            request.variant.as_str(),
            "KubernetesGetResource"
                | "KubernetesListResourceNamespace"
                | "KubernetesListResourceAll"
        );
        if reads_resources && !self.allow_context_aware {
            return Err(format!(
                "Policy has not been granted access to Kubernetes {}/{} resources. The violation has been reported.",
                request.fields["api_version"].as_str().unwrap_or_default(),
                request.fields["kind"].as_str().unwrap_or_default(),
            ));
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

    const SESSION: &str = r#"
- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: v1
    kind: Namespace
    name: team-a
    namespace: null
    disable_cache: false
  response:
    type: Success
    payload: '{"metadata":{"name":"team-a"}}'
- type: Exchange
  request: |
    !KubernetesCanI
    request:
      subject_access_review:
        groups:
        - dev
        resource_attributes:
          group: example.io
          name: p
          namespace: team-a
          resource: profiles
          verb: use
        user: alice
      disable_cache: false
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
        }
    }

    #[test]
    fn answers_in_order_then_runs_out() {
        let mut host = host(SESSION);
        let answer = host.answer("kubernetes", "get_resource", &get_namespace("team-a"));
        assert_eq!(answer.unwrap(), br#"{"metadata":{"name":"team-a"}}"#);
        let answer = host.answer("kubernetes", "can_i", &can_i("alice"));
        assert_eq!(answer.unwrap_err(), "the server is on fire");
        let answer = host.answer("kubernetes", "get_resource", &get_namespace("team-a"));
        assert_eq!(
            answer.unwrap_err(),
            "the list of recorded responses is empty or has been exhausted"
        );
        assert_eq!(host.replay.as_ref().unwrap().replayed(), 3);
    }

    #[test]
    fn an_unexpected_request_fails_and_consumes_the_exchange() {
        let mut host = host(SESSION);
        let err = host
            .answer("kubernetes", "get_resource", &get_namespace("team-b"))
            .unwrap_err();
        assert!(
            err.starts_with(
                "Replay error: unexpected request. Was expecting KubernetesGetResource"
            ),
            "{err}"
        );
        assert!(err.contains("team-b"), "{err}");
        // The next call gets the second exchange, as with kwctl.
        let err = host
            .answer("kubernetes", "can_i", &can_i("bob"))
            .unwrap_err();
        assert!(err.contains("unexpected request"), "{err}");
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
        // can_i is not a resource read: it is answered.
        let mut host = host_with_can_i_first();
        host.allow_context_aware = false;
        assert_eq!(
            host.answer("kubernetes", "can_i", &can_i("alice")).unwrap(),
            br#"{"allowed":true}"#
        );
    }

    fn host_with_can_i_first() -> HostCapabilities {
        // The Kubernetes object spelling of the review, as older hosts record it.
        host(
            r#"
- type: Exchange
  request:
    type: KubernetesCanI
    subject_access_review:
      apiVersion: authorization.k8s.io/v1
      kind: SubjectAccessReview
      metadata: {}
      spec:
        groups: [dev]
        resourceAttributes: {group: example.io, name: p, namespace: team-a, resource: profiles, verb: use}
        user: alice
    disable_cache: false
  response: {type: Success, payload: '{"allowed":true}'}
"#,
        )
    }

    #[test]
    fn oci_requests_and_unknown_operations() {
        let mut host = host(
            r#"
- type: Exchange
  request: "!OciManifestAndConfig\nimage: ghcr.io/x/y:1\n"
  response: {type: Success, payload: '{"config":{}}'}
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
    fn malformed_sessions_are_errors() {
        for (text, why) in [
            ("{}", "expected a list"),
            ("- request: x\n", "exchange 1"),
            (
                "- type: Exchange\n  request: '!KubernetesGetResource\n  {}'\n  response: {type: Maybe}\n",
                "Success",
            ),
            (
                "- type: Exchange\n  request: {a: 1, b: 2}\n  response: {type: Error, message: x}\n",
                "name its type",
            ),
        ] {
            let err = ReplaySession::from_yaml(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
        assert!(ReplaySession::from_yaml("").unwrap().is_empty());
    }
}
