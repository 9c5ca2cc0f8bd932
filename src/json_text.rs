//! Reading JSON objects key by key without building a `serde_json::Value` of them.
//!
//! A `Value` of a map is a B-tree of owned strings: on the fresh instance Kubewarden's
//! policy-server gives every request, building one costs page faults as well as time. The
//! settings are read from their text in one pass instead: each key borrowed from the text, each
//! value left as its JSON text (`&RawValue`) until the type it belongs to reads it.

use serde::de::value::{MapAccessDeserializer, MapDeserializer};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Reads a `T` from JSON bytes. Every JSON text the policy reads goes through `from_str`, so the
/// module carries one instantiation of serde_json's parser, not one for bytes and one for text.
pub fn from_bytes<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, serde_json::Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        <serde_json::Error as serde::de::Error>::custom(format!(
            "invalid UTF-8 at byte {}",
            e.valid_up_to()
        ))
    })?;
    serde_json::from_str(text)
}

/// A map key, borrowed from the text unless it has escapes.
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A JSON object as its keys, in order, each with its value's text.
pub struct Fields<'de>(pub Vec<(Cow<'de, str>, &'de RawValue)>);

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(Key(key)) = map.next_key()? {
                    fields.push((key, map.next_value::<&RawValue>()?));
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(FieldsVisitor)
    }
}

/// Reads a `T` from fields of an object, as if they were the whole object.
pub fn read_fields<'a, T: Deserialize<'a>>(
    fields: impl Iterator<Item = (Cow<'a, str>, &'a RawValue)>,
) -> Result<T, String> {
    let mut map = MapDeserializer::<_, serde_json::Error>::new(fields);
    let value = T::deserialize(MapAccessDeserializer::new(&mut map)).map_err(|e| message(&e))?;
    map.end().map_err(|e| message(&e))?;
    Ok(value)
}

/// The error's message without its position: an error inside a value read from its own text
/// would give a position in that text, not in the document.
pub fn message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    if error.line() == 0 {
        return text;
    }
    let position = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&position) {
        Some(message) => message.to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Pair {
        a: u8,
        #[serde(default)]
        b: Option<Vec<String>>,
    }

    #[test]
    fn bytes_are_read_as_text() {
        let fields: Fields = from_bytes(br#"{"a": [1]}"#).unwrap();
        assert_eq!(fields.0[0].1.get(), "[1]");
        let err = from_bytes::<Fields>(b"{\"a\xff\": 1}").err().unwrap();
        assert_eq!(err.to_string(), "invalid UTF-8 at byte 3");
    }

    #[test]
    fn fields_keep_order_and_borrow_plain_keys() {
        let text = r#"{"b": [1, {"x": 2}], "a\u0041": null, "c": "s"}"#;
        let fields: Fields = serde_json::from_str(text).unwrap();
        let keys: Vec<_> = fields.0.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["b", "aA", "c"]);
        assert!(matches!(fields.0[0].0, Cow::Borrowed(_)));
        assert_eq!(fields.0[0].1.get(), r#"[1, {"x": 2}]"#);
        assert!(serde_json::from_str::<Fields>("[1]")
            .err()
            .unwrap()
            .to_string()
            .contains("expected a JSON object"));
    }

    #[test]
    fn a_type_reads_from_fields_with_errors_without_positions() {
        let text = r#"{"a": 7, "b": ["x"], "c": 1}"#;
        let fields: Fields = serde_json::from_str(text).unwrap();
        let pair: Pair = read_fields(fields.0.iter().filter(|(k, _)| k != "c").cloned()).unwrap();
        assert_eq!(
            pair,
            Pair {
                a: 7,
                b: Some(vec!["x".into()])
            }
        );
        let bad: Fields = serde_json::from_str(r#"{"a": 7, "b": [1]}"#).unwrap();
        let err = read_fields::<Pair>(bad.0.into_iter()).unwrap_err();
        assert_eq!(err, "invalid type: integer `1`, expected a string");
        let unknown: Fields = serde_json::from_str(r#"{"a": 7, "z": 1}"#).unwrap();
        let err = read_fields::<Pair>(unknown.0.into_iter()).unwrap_err();
        assert!(err.starts_with("unknown field `z`"), "{err}");
        let twice: Fields = serde_json::from_str(r#"{"a": 7, "a": 8}"#).unwrap();
        let err = read_fields::<Pair>(twice.0.into_iter()).unwrap_err();
        assert_eq!(err, "duplicate field `a`");
    }
}
