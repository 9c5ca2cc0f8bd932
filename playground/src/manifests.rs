//! Reading pasted manifests: multi-document YAML (or JSON), `List` objects expanded.

use serde::Deserialize;
use serde_json::Value;

/// The objects, each with its 1-based document number, and the first reading error.
pub fn read(text: &str) -> (Vec<(usize, Value)>, Option<String>) {
    let mut objects = Vec::new();
    for (i, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let n = i + 1;
        let value = match Value::deserialize(document) {
            Ok(v) => v,
            // The YAML parser cannot resume after a syntax error.
            Err(e) => return (objects, Some(format!("document {n}: {e}"))),
        };
        match value {
            Value::Null => {}
            Value::Object(ref map) if map.get("kind").and_then(Value::as_str) == Some("List") => {
                for item in map
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    objects.push((n, item.clone()));
                }
            }
            Value::Object(ref map) if map.get("kind").is_some_and(Value::is_string) => {
                objects.push((n, value));
            }
            _ => {
                return (
                    objects,
                    Some(format!(
                        "document {n}: not a Kubernetes object (it needs apiVersion and kind)"
                    )),
                )
            }
        }
    }
    (objects, None)
}
