//! What every answer of the policy's entry points must satisfy, whatever the input.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// A `validate` answer, as the host reads it.
#[derive(Debug, Deserialize)]
pub struct ValidationAnswer {
    pub accepted: bool,
    pub message: Option<String>,
    pub mutated_object: Option<Value>,
    pub warnings: Option<Vec<String>>,
}

/// A `validate_settings` answer, as the host reads it.
#[derive(Debug, Deserialize)]
pub struct SettingsAnswer {
    pub valid: bool,
    pub message: Option<String>,
}

/// The prefix of every message about unreadable settings.
pub const INVALID_SETTINGS: &str = "invalid settings";

/// Calls `validate` and checks the answer's shape: JSON with a boolean `accepted`, and a
/// rejection always says why.
pub fn validate(payload: &[u8]) -> ValidationAnswer {
    let bytes = security_context_policy::validate(payload)
        .unwrap_or_else(|e| panic!("validate returned a guest error: {e}"));
    let answer: ValidationAnswer = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "validate answered something that is no validation response ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    if !answer.accepted {
        let message = answer.message.as_deref().unwrap_or("");
        assert!(
            !message.trim().is_empty(),
            "a rejection without a message: {}",
            String::from_utf8_lossy(&bytes)
        );
        assert!(
            answer.mutated_object.is_none(),
            "a rejection with a mutated object"
        );
    }
    answer
}

/// Calls `validate_settings` and checks the answer's shape: JSON with a boolean `valid`, and
/// invalid settings always say why.
pub fn validate_settings(settings: &[u8]) -> SettingsAnswer {
    let bytes = security_context_policy::validate_settings(settings)
        .unwrap_or_else(|e| panic!("validate_settings returned a guest error: {e}"));
    let answer: SettingsAnswer = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "validate_settings answered something that is no settings response ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    if !answer.valid {
        let message = answer.message.as_deref().unwrap_or("");
        assert!(
            !message.trim().is_empty(),
            "invalid settings without a reason"
        );
    }
    answer
}

/// Settings that `validate_settings` calls valid never make `validate` reject them.
pub fn settings_agree(settings: &[u8], answer: &ValidationAnswer) {
    let rejected_settings = !answer.accepted
        && answer
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with(INVALID_SETTINGS));
    if rejected_settings {
        let settings_answer = validate_settings(settings);
        assert!(
            !settings_answer.valid,
            "validate_settings accepts settings that validate rejects: {:?}\nsettings: {}",
            answer.message,
            String::from_utf8_lossy(settings)
        );
    }
}

/// Mutation only happens when asked for, and is a fixed point: the mutated object, validated
/// again with the same settings, is accepted without further changes.
///
/// `revalidate` builds the payload that carries the given object instead of the original one.
pub fn mutation_is_idempotent(
    answer: &ValidationAnswer,
    mutation_requested: bool,
    revalidate: impl FnOnce(&Value) -> Vec<u8>,
) {
    let Some(mutated) = &answer.mutated_object else {
        return;
    };
    assert!(
        mutation_requested,
        "a mutated object although the settings do not ask for mutation"
    );
    assert!(answer.accepted);
    let payload = revalidate(mutated);
    let again = validate(&payload);
    assert!(
        again.accepted,
        "the mutated object is rejected: {:?}\npayload: {}",
        again.message,
        String::from_utf8_lossy(&payload)
    );
    assert!(
        again.mutated_object.is_none(),
        "the mutated object is mutated again: {}\npayload: {}",
        again.mutated_object.unwrap_or_default(),
        String::from_utf8_lossy(&payload)
    );
}

/// The parts of a raw `validate` payload the invariants need, read the way the policy reads
/// them: the request as a JSON value and the settings as the exact text sent.
#[derive(Debug, Deserialize)]
pub struct RawPayload<'a> {
    pub request: Value,
    #[serde(borrow, default)]
    pub settings: Option<&'a RawValue>,
}

impl RawPayload<'_> {
    pub fn settings_text(&self) -> &str {
        self.settings.map_or("null", RawValue::get)
    }

    /// Whether the settings ask for mutation: `"mutate": true` at the top of an object.
    pub fn mutation_requested(&self) -> bool {
        serde_json::from_str::<Value>(self.settings_text())
            .ok()
            .and_then(|s| s.get("mutate").and_then(Value::as_bool))
            == Some(true)
    }

    /// The same payload with `object` as the request's object, settings unchanged.
    pub fn with_object(&self, object: &Value) -> Vec<u8> {
        let mut request = self.request.clone();
        if let Some(map) = request.as_object_mut() {
            map.insert("object".into(), object.clone());
        }
        format!(
            "{{\"request\": {}, \"settings\": {}}}",
            request,
            self.settings_text()
        )
        .into_bytes()
    }
}

/// A pod that violates nearly everything a level or constraint can check, so that valid
/// settings are exercised by `validate` (evaluation, exemptions, warnings and mutation).
const PROBE_REQUEST: &str = r#"{
  "uid": "settings-probe", "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "operation": "CREATE",
  "object": {"apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "probe", "annotations": {
      "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
      "container.apparmor.security.beta.kubernetes.io/app": "localhost/custom"}},
    "spec": {
      "hostNetwork": true,
      "securityContext": {"sysctls": [{"name": "net.ipv4.ip_forward", "value": "1"}],
        "seLinuxOptions": {"type": "spc_t", "user": "user_u", "role": "object_r", "level": "s1"}},
      "volumes": [{"name": "host", "hostPath": {"path": "/"}}, {"name": "data", "emptyDir": {}}],
      "initContainers": [{"name": "init", "image": "registry.k8s.io/pause:3.9"}],
      "containers": [
        {"name": "app", "image": "nginx",
         "ports": [{"containerPort": 80, "hostPort": 80}],
         "securityContext": {"privileged": true, "runAsUser": 0, "runAsGroup": 0,
           "capabilities": {"add": ["SYS_ADMIN", "NET_BIND_SERVICE"]},
           "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/x"},
           "procMount": "Unmasked"}},
        {"name": "sidecar", "image": "docker.io/library/busybox"}
      ]}}
}"#;

/// Settings that `validate_settings` accepts are accepted by `validate` too: it may reject the
/// probe pod, but never for its settings.
pub fn settings_usable_by_validate(settings: &[u8]) {
    // The host embeds the settings in the payload as JSON it serialises itself: what
    // validate_settings saw may have had whitespace JSON does not know (a form feed, say).
    let trimmed = settings.trim_ascii();
    let settings = if trimmed.is_empty() {
        "null".to_string()
    } else {
        serde_json::from_slice::<Value>(trimmed)
            .expect("valid settings are JSON")
            .to_string()
    };
    let payload = format!("{{\"request\": {PROBE_REQUEST}, \"settings\": {settings}}}");
    let answer = validate(payload.as_bytes());
    if let Some(message) = answer.message.as_deref() {
        assert!(
            !(message.starts_with(INVALID_SETTINGS)
                || message.starts_with("cannot read the admission request")),
            "validate_settings accepts settings that validate refuses: {message}\nsettings: {settings}"
        );
    }
    let mutation_requested = serde_json::from_str::<Value>(&settings)
        .ok()
        .and_then(|s| s.get("mutate").and_then(Value::as_bool))
        == Some(true);
    mutation_is_idempotent(&answer, mutation_requested, |object| {
        let mut request: Value = serde_json::from_str(PROBE_REQUEST).expect("probe is JSON");
        request["object"] = object.clone();
        format!("{{\"request\": {request}, \"settings\": {settings}}}").into_bytes()
    });
}
