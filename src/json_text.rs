//! Reading JSON objects key by key without building a `serde_json::Value` of them.
//!
//! A `Value` of a map is a B-tree of owned strings: on the fresh instance Kubewarden's
//! policy-server gives every request, building one costs page faults as well as time. The
//! settings are read from their text in one pass instead: each key borrowed from the text, each
//! value left as its JSON text (`&RawValue`) until the type it belongs to reads it.

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
        deserializer.deserialize_map(FieldsVisitor("a JSON object"))
    }
}

/// Reads an object's fields; the text names what the object is in a type error.
struct FieldsVisitor(&'static str);

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        // serde_json gives no size hint; most objects here have a few keys.
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(Key(key)) = map.next_key()? {
            fields.push((key, map.next_value::<&RawValue>()?));
        }
        Ok(Fields(fields))
    }
}

/// How `read_object` stores one key's value (its JSON text) into a `T`.
pub type Setter<T> = fn(&mut T, &RawValue) -> Result<(), String>;

/// A settings struct as `read_object` reads it: what serde derives for a struct with
/// `deny_unknown_fields`, as a table. The derived readers, each with its field visitor, its map
/// and sequence visitors and every field's reader inlined, were about 60 KB of the module; a table
/// per struct and one reader per field type do the same in a fraction of the code.
pub struct ObjectShape<T: 'static> {
    /// What the value must be, for "invalid type: ..., expected {expecting}".
    pub expecting: &'static str,
    /// Every key, in serde's order for the unknown-field message, with its setter.
    pub fields: &'static [(&'static str, Setter<T>)],
    /// The keys without a default.
    pub required: &'static [&'static str],
}

impl<T> ObjectShape<T> {
    /// The keys, as written.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields.iter().map(|(name, _)| *name)
    }

    /// Whether `key` is one of them.
    pub fn has(&self, key: &str) -> bool {
        self.keys().any(|name| name == key)
    }
}

/// Reads a `T` from a JSON object by its shape, with the messages serde's derived reader gives:
/// unknown, duplicate and missing fields, and each field's own errors.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn read_object<'de, D: Deserializer<'de>, T: Default>(
    deserializer: D,
    shape: &ObjectShape<T>,
) -> Result<T, D::Error> {
    let Fields(given) = deserializer.deserialize_map(FieldsVisitor(shape.expecting))?;
    let mut out = T::default();
    fill(&mut out, &given, shape).map_err(serde::de::Error::custom)?;
    Ok(out)
}

/// Sets the fields of `out` that `given` names, by `shape`, with serde's messages for unknown,
/// duplicate and missing fields.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn fill<T>(
    out: &mut T,
    given: &[(Cow<'_, str>, &RawValue)],
    shape: &ObjectShape<T>,
) -> Result<(), String> {
    for (i, (key, text)) in given.iter().enumerate() {
        let Some((_, set)) = shape.fields.iter().find(|(name, _)| name == key) else {
            return Err(unknown_field(key, shape.keys()));
        };
        if given[..i].iter().any(|(k, _)| k == key) {
            return Err(format!("duplicate field `{key}`"));
        }
        set(out, text)?;
    }
    match shape
        .required
        .iter()
        .find(|name| !given.iter().any(|(k, _)| k == *name))
    {
        Some(name) => Err(format!("missing field `{name}`")),
        None => Ok(()),
    }
}

/// serde's message for an unknown field.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn unknown_field<'a>(key: &str, expected: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = expected.map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [] => format!("unknown field `{key}`, there are no fields"),
        [one] => format!("unknown field `{key}`, expected {one}"),
        [a, b] => format!("unknown field `{key}`, expected {a} or {b}"),
        all => format!("unknown field `{key}`, expected one of {}", all.join(", ")),
    }
}

/// The `ObjectShape` of a struct from its keys and fields:
/// `object_shape!(PortRange { "min" => min, "max" => max } required ["min", "max"])`.
macro_rules! object_shape {
    ($ty:ident { $($key:literal => $field:ident),* $(,)? } $(required [$($req:literal),*])?) => {
        $crate::json_text::ObjectShape::<$ty> {
            expecting: concat!("struct ", stringify!($ty)),
            fields: &[$((
                $key,
                |out: &mut $ty, text: &serde_json::value::RawValue| {
                    $crate::json_text::set(&mut out.$field, text)
                },
            )),*],
            required: &[$($($req),*)?],
        }
    };
}
pub(crate) use object_shape;

/// Implements `Deserialize` for a struct by `read_object`, with `object_shape!`'s arguments.
/// The struct needs `Default`, its starting point; required keys are checked to be given.
macro_rules! deserialize_by_shape {
    ($ty:ident $($shape:tt)+) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                const SHAPE: $crate::json_text::ObjectShape<$ty> =
                    $crate::json_text::object_shape!($ty $($shape)+);
                $crate::json_text::read_object(deserializer, &SHAPE)
            }
        }
        $crate::json_text::from_text_by_serde!($ty);
    };
}
pub(crate) use deserialize_by_shape;

/// `read_object`'s setter of a field: the value read from its text.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn set<T: FromText>(slot: &mut T, text: &RawValue) -> Result<(), String> {
    *slot = T::from_text(text)?;
    Ok(())
}

/// A settings value read from its JSON text: a leaf or a list by serde, a struct by
/// `read_object` (`deserialize_by_shape!`), an optional value by its text.
pub trait FromText: Sized {
    fn from_text(text: &RawValue) -> Result<Self, String>;
}

impl<T: for<'a> Deserialize<'a>> FromText for Vec<T> {
    fn from_text(text: &RawValue) -> Result<Self, String> {
        read_value(text)
    }
}

impl<T: FromText> FromText for Option<T> {
    #[cfg_attr(scp_optimize_size, optimize(size))]
    fn from_text(text: &RawValue) -> Result<Self, String> {
        // A raw value's text has no surrounding whitespace.
        if text.get() == "null" {
            Ok(None)
        } else {
            T::from_text(text).map(Some)
        }
    }
}

/// `FromText` for types serde reads.
macro_rules! from_text_by_serde {
    ($($ty:ty),* $(,)?) => {
        $(impl $crate::json_text::FromText for $ty {
            #[cfg_attr(scp_optimize_size, optimize(size))]
            fn from_text(text: &serde_json::value::RawValue) -> Result<Self, String> {
                $crate::json_text::read_value(text)
            }
        })*
    };
}
pub(crate) use from_text_by_serde;

from_text_by_serde!(
    String,
    bool,
    i64,
    std::collections::BTreeMap<String, Vec<String>>,
);

/// Reads a `T` from one value's text, the error without a position (as `message`). Not
/// inlined: each settings field of a type shares one reader of it.
#[inline(never)]
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn read_value<'a, T: Deserialize<'a>>(text: &'a RawValue) -> Result<T, String> {
    serde_json::from_str(text.get()).map_err(|e| message(&e))
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
    fn a_value_reads_from_its_text_with_errors_without_positions() {
        let text = r#"{"a": 7, "b": ["x"], "c": {"a": 1,
            "b": [1]}}"#;
        let fields: Fields = serde_json::from_str(text).unwrap();
        let b: Option<Vec<String>> = read_value(fields.0[1].1).unwrap();
        assert_eq!(b, Some(vec!["x".to_string()]));
        // The error inside the value is on its second line: no position is given.
        let err = read_value::<Pair>(fields.0[2].1).unwrap_err();
        assert_eq!(err, "invalid type: integer `1`, expected a string");
        let unknown: Fields = serde_json::from_str(r#"{"p": {"a": 7, "z": 1}}"#).unwrap();
        let err = read_value::<Pair>(unknown.0[0].1).unwrap_err();
        assert!(err.starts_with("unknown field `z`"), "{err}");
    }

    /// A struct read by its shape, as the settings structs are.
    #[derive(Debug, Default, PartialEq)]
    struct Shaped {
        name: String,
        count: i64,
        tags: Option<Vec<String>>,
    }
    deserialize_by_shape!(Shaped { "name" => name, "count" => count, "tags" => tags } required ["name"]);

    #[derive(Debug, Default, PartialEq)]
    struct One {
        only: bool,
    }
    deserialize_by_shape!(One { "only" => only });

    #[test]
    fn a_shaped_struct_reads_like_a_derived_one() {
        let read = |text: &str| serde_json::from_str::<Shaped>(text).map_err(|e| message(&e));
        assert_eq!(
            read(r#"{"count": 2, "name": "a", "tags": null}"#).unwrap(),
            Shaped {
                name: "a".into(),
                count: 2,
                tags: None
            }
        );
        assert_eq!(read(r#"{"name": "a"}"#).unwrap().tags, None);
        assert_eq!(
            read(r#"{"name": "a", "tags": ["x"]}"#).unwrap().tags,
            Some(vec!["x".to_string()])
        );
        // serde's messages, without positions.
        assert_eq!(read(r#"{"count": 2}"#).unwrap_err(), "missing field `name`");
        assert_eq!(
            read(r#"{"name": "a", "name": "b"}"#).unwrap_err(),
            "duplicate field `name`"
        );
        assert_eq!(
            read(r#"{"name": "a", "colour": 1}"#).unwrap_err(),
            "unknown field `colour`, expected one of `name`, `count`, `tags`"
        );
        assert_eq!(
            read(r#"{"name": "a", "count": "2"}"#).unwrap_err(),
            "invalid type: string \"2\", expected i64"
        );
        assert_eq!(
            read(r#"{"name": "a", "tags": [1]}"#).unwrap_err(),
            "invalid type: integer `1`, expected a string"
        );
        assert_eq!(
            read("[1]").unwrap_err(),
            "invalid type: sequence, expected struct Shaped"
        );
        let one = |text: &str| serde_json::from_str::<One>(text).map_err(|e| message(&e));
        assert_eq!(
            one(r#"{"x": 1}"#).unwrap_err(),
            "unknown field `x`, expected `only`"
        );
        assert_eq!(one("{}").unwrap(), One::default());
    }

    #[test]
    fn unknown_field_messages_follow_serde() {
        let m = |names: &[&str]| unknown_field("k", names.iter().copied());
        assert_eq!(m(&[]), "unknown field `k`, there are no fields");
        assert_eq!(m(&["a"]), "unknown field `k`, expected `a`");
        assert_eq!(m(&["a", "b"]), "unknown field `k`, expected `a` or `b`");
        assert_eq!(
            m(&["a", "b", "c"]),
            "unknown field `k`, expected one of `a`, `b`, `c`"
        );
    }
}
