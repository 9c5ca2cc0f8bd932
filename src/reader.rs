//! Typed, path-aware reads out of a JSON object.
//!
//! The policy reads Kubernetes objects straight from the request's JSON instead of converting them
//! into generated Kubernetes types: that keeps every unknown field intact, keeps the module small,
//! and lets every read that fails say exactly which field could not be read and why.

use serde_json::{Map, Value};
use std::fmt;

/// Where a value sits inside the object, as a linked list on the stack: it costs nothing until
/// an error has to render it.
#[derive(Clone, Copy)]
pub enum Path<'p> {
    Root(&'p str),
    Field(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl<'p> Path<'p> {
    pub fn field(&'p self, key: &'p str) -> Path<'p> {
        Path::Field(self, key)
    }

    pub fn index(&'p self, index: usize) -> Path<'p> {
        Path::Index(self, index)
    }

    fn render(&self, out: &mut String) {
        match self {
            Path::Root(root) => out.push_str(root),
            Path::Field(parent, key) => {
                parent.render(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Index(parent, index) => {
                parent.render(out);
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.render(&mut out);
        if out.is_empty() {
            out.push_str("the object");
        }
        f.write_str(&out)
    }
}

/// A field of the object that is present but cannot be read as what Kubernetes defines it to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub path: String,
    pub problem: String,
}

impl ReadError {
    pub fn new(path: &Path<'_>, problem: impl Into<String>) -> Self {
        ReadError {
            path: path.to_string(),
            problem: problem.into(),
        }
    }

    fn wrong_type(path: &Path<'_>, expected: &str, found: &Value) -> Self {
        ReadError::new(
            path,
            format!("expected {expected}, found {}", describe(found)),
        )
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}: {}", self.path, self.problem)
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub type Object = Map<String, Value>;

/// Reads `value` as an object; JSON null counts as absent, as it does for the API server.
pub fn object<'a>(value: &'a Value, path: &Path<'_>) -> Result<Option<&'a Object>, ReadError> {
    match value {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        other => Err(ReadError::wrong_type(path, "an object", other)),
    }
}

/// Reads a field that must be an object when present.
pub fn object_field<'a>(
    map: &'a Object,
    key: &str,
    path: &Path<'_>,
) -> Result<Option<&'a Object>, ReadError> {
    match map.get(key) {
        None => Ok(None),
        Some(value) => object(value, &path.field(key)),
    }
}

pub fn bool_field(map: &Object, key: &str, path: &Path<'_>) -> Result<Option<bool>, ReadError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(ReadError::wrong_type(&path.field(key), "a boolean", other)),
    }
}

pub fn int_field(map: &Object, key: &str, path: &Path<'_>) -> Result<Option<i64>, ReadError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Ok(Some(i)),
            None => Err(ReadError::new(
                &path.field(key),
                format!("expected a 64-bit integer, found {n}"),
            )),
        },
        Some(other) => Err(ReadError::wrong_type(&path.field(key), "an integer", other)),
    }
}

pub fn str_field<'a>(
    map: &'a Object,
    key: &str,
    path: &Path<'_>,
) -> Result<Option<&'a str>, ReadError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ReadError::wrong_type(&path.field(key), "a string", other)),
    }
}

/// Reads a list field; absent and null read as the empty list.
pub fn list_field<'a>(
    map: &'a Object,
    key: &str,
    path: &Path<'_>,
) -> Result<&'a [Value], ReadError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(ReadError::wrong_type(&path.field(key), "a list", other)),
    }
}

/// Reads a list of strings.
pub fn str_list_field<'a>(
    map: &'a Object,
    key: &str,
    path: &Path<'_>,
) -> Result<Vec<&'a str>, ReadError> {
    let items = list_field(map, key, path)?;
    let list_path = path.field(key);
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s.as_str()),
            other => Err(ReadError::wrong_type(
                &list_path.index(i),
                "a string",
                other,
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_render_like_kubernetes_field_paths() {
        let root = Path::Root("spec");
        let containers = root.field("containers");
        let first = containers.index(0);
        let sc = first.field("securityContext");
        assert_eq!(sc.to_string(), "spec.containers[0].securityContext");
        let empty = Path::Root("");
        assert_eq!(empty.field("spec").to_string(), "spec");
        assert_eq!(empty.to_string(), "the object");
    }

    #[test]
    fn wrong_types_name_the_field_and_both_types() {
        let v = json!({"runAsUser": "0", "privileged": 1, "add": ["A", 2]});
        let map = v.as_object().unwrap();
        let path = Path::Root("spec.securityContext");
        let err = int_field(map, "runAsUser", &path).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read spec.securityContext.runAsUser: expected an integer, found a string"
        );
        let err = bool_field(map, "privileged", &path).unwrap_err();
        assert_eq!(err.path, "spec.securityContext.privileged");
        let err = str_list_field(map, "add", &path).unwrap_err();
        assert_eq!(err.path, "spec.securityContext.add[1]");
    }

    #[test]
    fn null_and_absent_read_as_unset() {
        let v = json!({"a": null});
        let map = v.as_object().unwrap();
        let path = Path::Root("");
        assert_eq!(bool_field(map, "a", &path).unwrap(), None);
        assert_eq!(int_field(map, "b", &path).unwrap(), None);
        assert!(list_field(map, "a", &path).unwrap().is_empty());
        assert!(object_field(map, "a", &path).unwrap().is_none());
    }

    #[test]
    fn integers_outside_int64_are_errors() {
        let v = json!({"runAsUser": 18446744073709551615u64, "f": 1.5});
        let map = v.as_object().unwrap();
        let path = Path::Root("");
        assert!(int_field(map, "runAsUser", &path).is_err());
        assert!(int_field(map, "f", &path).is_err());
    }
}
