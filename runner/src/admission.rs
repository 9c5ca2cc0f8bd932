//! Turning a guest's `validate` answer into the Kubernetes `AdmissionResponse`
//! that `kwctl run` prints.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::ValidationResponse;

/// Message kwctl (policy-evaluator) gives when a policy mutates a request
/// that has no object (DELETE).
pub const MUTATION_WITHOUT_OBJECT: &str = "Incoming object is null, which happens only with DELETE operations, but the policy is attempting a mutation. This is not allowed";

/// Kubernetes `admission/v1` `AdmissionResponse`, serialised field for field
/// like kwctl does: `uid`, `allowed`, then `patchType`, `patch` and `status`
/// only when set, and `auditAnnotations` and `warnings` always (as `null`
/// when the policy gave none).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    pub uid: String,
    pub allowed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<String>,
    /// Base64 of the RFC 6902 JSON Patch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AdmissionResponseStatus>,
    #[serde(default)]
    pub audit_annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

/// The `status` of an [`AdmissionResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AdmissionResponseStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

impl AdmissionResponse {
    /// A rejection with a message and a code.
    pub fn reject(uid: impl Into<String>, message: impl Into<String>, code: u16) -> Self {
        AdmissionResponse {
            uid: uid.into(),
            allowed: false,
            status: Some(AdmissionResponseStatus {
                message: Some(message.into()),
                code: Some(code),
            }),
            ..Default::default()
        }
    }

    /// What kwctl answers when the policy could not be evaluated
    /// (guest error, trap, unreadable answer).
    pub fn internal_server_error(uid: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::reject(uid, format!("internal server error: {message}"), 500)
    }

    /// The JSON patch decoded from `patch`, if any.
    pub fn decoded_patch(&self) -> Option<Result<Value, String>> {
        self.patch.as_ref().map(|encoded| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| e.to_string())?;
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())
        })
    }
}

/// The `uid` of an AdmissionRequest (`""` when absent, like kwctl).
pub fn request_uid(request: &Value) -> &str {
    request.get("uid").and_then(Value::as_str).unwrap_or("")
}

/// The RFC 6902 JSON Patch that turns `original` into `mutated`.
pub fn json_patch(original: &Value, mutated: &Value) -> json_patch::Patch {
    json_patch::diff(original, mutated)
}

/// Base64 (standard alphabet, padded) of the JSON text of the patch from
/// `original` to `mutated`; `None` when they are equal.
pub fn encoded_json_patch(original: &Value, mutated: &Value) -> Option<String> {
    let patch = json_patch(original, mutated);
    if patch.0.is_empty() {
        return None;
    }
    let text = serde_json::to_vec(&patch).expect("a JSON patch always serialises");
    Some(base64::engine::general_purpose::STANDARD.encode(text))
}

/// Builds the AdmissionResponse kwctl prints for `answer`, the guest's
/// `validate` answer to `request` (the AdmissionRequest, not the review).
///
/// A mutation of a request without `object` (DELETE) is turned into a
/// rejection, as kwctl does; a mutation that changes nothing gives no patch.
pub fn admission_response(request: &Value, answer: &ValidationResponse) -> AdmissionResponse {
    let uid = request_uid(request).to_owned();
    let original = request.get("object").filter(|o| !o.is_null());

    let patch = match (&answer.mutated_object, original) {
        (Some(_), None) => {
            return AdmissionResponse {
                uid,
                allowed: false,
                status: Some(AdmissionResponseStatus {
                    message: Some(MUTATION_WITHOUT_OBJECT.to_owned()),
                    code: None,
                }),
                ..Default::default()
            };
        }
        (Some(mutated), Some(original)) => encoded_json_patch(original, mutated),
        (None, _) => None,
    };

    let status =
        (answer.message.is_some() || answer.code.is_some()).then(|| AdmissionResponseStatus {
            message: answer.message.clone(),
            code: answer.code,
        });

    AdmissionResponse {
        uid,
        allowed: answer.accepted,
        patch_type: patch.as_ref().map(|_| "JSONPatch".to_owned()),
        patch,
        status,
        audit_annotations: answer.audit_annotations.clone(),
        warnings: answer.warnings.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepted_answer_serialises_like_kwctl() {
        let request = json!({"uid": "abc", "object": {"a": 1}});
        let answer = ValidationResponse {
            accepted: true,
            ..Default::default()
        };
        let text = serde_json::to_string(&admission_response(&request, &answer)).unwrap();
        assert_eq!(
            text,
            r#"{"uid":"abc","allowed":true,"auditAnnotations":null,"warnings":null}"#
        );
    }

    #[test]
    fn rejection_carries_message_code_warnings_and_annotations() {
        let request = json!({"uid": "u1", "object": {}});
        let answer = ValidationResponse {
            accepted: false,
            message: Some("no".into()),
            code: Some(403),
            warnings: Some(vec!["careful".into()]),
            audit_annotations: Some(BTreeMap::from([("k".into(), "v".into())])),
            ..Default::default()
        };
        let value = serde_json::to_value(admission_response(&request, &answer)).unwrap();
        assert_eq!(
            value,
            json!({
                "uid": "u1",
                "allowed": false,
                "status": {"message": "no", "code": 403},
                "auditAnnotations": {"k": "v"},
                "warnings": ["careful"]
            })
        );
    }

    #[test]
    fn code_alone_gives_a_status() {
        let answer = ValidationResponse {
            accepted: false,
            code: Some(400),
            ..Default::default()
        };
        let response = admission_response(&json!({"uid": "x"}), &answer);
        assert_eq!(
            response.status,
            Some(AdmissionResponseStatus {
                message: None,
                code: Some(400)
            })
        );
    }

    #[test]
    fn mutation_without_object_is_rejected() {
        let answer = ValidationResponse {
            accepted: true,
            mutated_object: Some(json!({"a": 1})),
            ..Default::default()
        };
        for request in [json!({"uid": "d"}), json!({"uid": "d", "object": null})] {
            let response = admission_response(&request, &answer);
            assert!(!response.allowed);
            assert_eq!(response.patch, None);
            assert_eq!(
                response.status.unwrap().message.as_deref(),
                Some(MUTATION_WITHOUT_OBJECT)
            );
        }
    }

    #[test]
    fn identical_mutation_gives_no_patch() {
        let object = json!({"spec": {"x": [1, 2]}});
        let answer = ValidationResponse {
            accepted: true,
            mutated_object: Some(object.clone()),
            ..Default::default()
        };
        let response = admission_response(&json!({"uid": "i", "object": object}), &answer);
        assert!(response.allowed);
        assert_eq!(response.patch, None);
        assert_eq!(response.patch_type, None);
    }

    #[test]
    fn internal_server_error_shape() {
        let value =
            serde_json::to_value(AdmissionResponse::internal_server_error("z", "boom")).unwrap();
        assert_eq!(
            value,
            json!({
                "uid": "z",
                "allowed": false,
                "status": {"message": "internal server error: boom", "code": 500},
                "auditAnnotations": null,
                "warnings": null
            })
        );
    }
}
