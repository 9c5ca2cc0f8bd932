//! Reading requests and settings the way `kwctl run` does.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

fn read_text(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Extracts the AdmissionRequest from a request document.
///
/// Accepts what `kwctl run --request-path` accepts: an `AdmissionReview`
/// (`"kind": "AdmissionReview"`, whose `request` is taken) or a bare
/// AdmissionRequest. Also unwraps a review that lacks `kind` but has a
/// `request` object and no `uid` of its own.
pub fn admission_request_from_value(document: Value) -> Result<Value> {
    let Value::Object(mut object) = document else {
        return Err(Error::Input(
            "Invalid request object: expected a JSON object".into(),
        ));
    };
    let is_review = object.get("kind").and_then(Value::as_str) == Some("AdmissionReview");
    let looks_like_review =
        !object.contains_key("uid") && object.get("request").is_some_and(Value::is_object);
    if is_review || looks_like_review {
        match object.remove("request") {
            Some(request @ Value::Object(_)) => Ok(request),
            _ => Err(Error::Input(
                "invalid AdmissionReview object: no `request` object".into(),
            )),
        }
    } else {
        Ok(Value::Object(object))
    }
}

/// Parses a request document (JSON text) into the AdmissionRequest; see
/// [`admission_request_from_value`].
pub fn parse_request(text: &str) -> Result<Value> {
    let document: Value = serde_json::from_str(text)
        .map_err(|e| Error::Input(format!("cannot parse request as JSON: {e}")))?;
    admission_request_from_value(document)
}

/// Reads a request file (`-` is stdin) into the AdmissionRequest; see
/// [`admission_request_from_value`].
pub fn read_request_file(path: impl AsRef<Path>) -> Result<Value> {
    let path = path.as_ref();
    parse_request(&read_text(path)?).map_err(|e| match e {
        Error::Input(message) => Error::Input(format!("{}: {message}", path.display())),
        other => other,
    })
}

/// Settings must be a JSON object; `null` means no settings (`{}`).
pub fn settings_from_value(value: Value) -> Result<Value> {
    match value {
        Value::Null => Ok(Value::Object(Map::new())),
        Value::Object(_) => Ok(value),
        other => Err(Error::Input(format!(
            "settings must be a JSON object, got: {other}"
        ))),
    }
}

/// Parses `--settings-json`.
pub fn parse_settings_json(text: &str) -> Result<Value> {
    let value = serde_json::from_str(text)
        .map_err(|e| Error::Input(format!("Cannot parse settings JSON: {e}")))?;
    settings_from_value(value)
}

/// Reads `--settings-path`: a YAML (hence also JSON) document. An empty
/// file means no settings.
pub fn read_settings_file(path: impl AsRef<Path>) -> Result<Value> {
    let path = path.as_ref();
    let text = read_text(path)?;
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let value: Value = serde_yaml::from_str(&text).map_err(|e| {
        Error::Input(format!(
            "Cannot parse settings file {}: {e}",
            path.display()
        ))
    })?;
    settings_from_value(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_must_be_objects() {
        assert_eq!(parse_settings_json("null").unwrap(), json!({}));
        assert_eq!(parse_settings_json(r#"{"a":1}"#).unwrap(), json!({"a": 1}));
        assert!(parse_settings_json("[1]").is_err());
        assert!(parse_settings_json("{").is_err());
    }

    #[test]
    fn review_without_request_is_an_error() {
        let err = admission_request_from_value(json!({"kind": "AdmissionReview"})).unwrap_err();
        assert!(err.to_string().contains("AdmissionReview"), "{err}");
    }

    #[test]
    fn non_objects_are_rejected() {
        assert!(parse_request("[1,2]").is_err());
        assert!(parse_request("not json").is_err());
    }

    #[test]
    fn kindless_review_is_unwrapped() {
        let request = json!({"uid": "u", "operation": "CREATE"});
        assert_eq!(
            admission_request_from_value(json!({"request": request.clone()})).unwrap(),
            request
        );
    }
}
