//! Building blocks for JSON documents that are mostly well-formed Kubernetes objects, with
//! absent fields, nulls and values of the wrong JSON type mixed in at every level.

use arbitrary::{Arbitrary, Result, Unstructured};
use serde_json::{json, Map, Value};

/// One optional field of an object. Mostly a value of the right shape; sometimes absent, null,
/// or a value of a wrong JSON type, so that every reader's type checks are exercised.
#[derive(Debug)]
pub enum Field<T> {
    Absent,
    Null,
    Present(T),
    WrongType(WrongJson),
}

impl<'a, T: Arbitrary<'a>> Arbitrary<'a> for Field<T> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        // Weighted so that a document with dozens of fields is still usually readable.
        Ok(match u.arbitrary::<u8>()? {
            0..=5 => Field::WrongType(u.arbitrary()?),
            6..=21 => Field::Null,
            22..=95 => Field::Absent,
            _ => Field::Present(u.arbitrary()?),
        })
    }
}

impl<T> Field<T> {
    /// Sets `key` in `map` according to this field, rendering a present value with `render`.
    pub fn put(&self, map: &mut Map<String, Value>, key: &str, render: impl FnOnce(&T) -> Value) {
        match self {
            Field::Absent => {}
            Field::Null => {
                map.insert(key.to_string(), Value::Null);
            }
            Field::Present(value) => {
                map.insert(key.to_string(), render(value));
            }
            Field::WrongType(wrong) => {
                map.insert(key.to_string(), wrong.render());
            }
        }
    }
}

impl Field<bool> {
    pub fn put_bool(&self, map: &mut Map<String, Value>, key: &str) {
        self.put(map, key, |b| Value::Bool(*b));
    }
}

/// A JSON value of some type, used where another type is expected.
#[derive(Debug, Arbitrary)]
pub enum WrongJson {
    Bool(bool),
    Integer(i64),
    Float(f64),
    BigUnsigned(u64),
    Text(String),
    EmptyList,
    ListOfNulls(u8),
    EmptyObject,
    NestedObject(String, bool),
}

impl WrongJson {
    pub fn render(&self) -> Value {
        match self {
            WrongJson::Bool(b) => json!(b),
            WrongJson::Integer(i) => json!(i),
            // NaN and infinities have no JSON form; serde_json renders them as null.
            WrongJson::Float(f) => json!(f),
            WrongJson::BigUnsigned(n) => json!(n),
            WrongJson::Text(s) => json!(s),
            WrongJson::EmptyList => json!([]),
            WrongJson::ListOfNulls(n) => Value::Array(vec![Value::Null; usize::from(*n % 4)]),
            WrongJson::EmptyObject => json!({}),
            WrongJson::NestedObject(key, b) => json!({ key: b }),
        }
    }
}

/// A string that is usually one of a vocabulary of values the policy gives meaning to, and
/// sometimes any string at all.
#[derive(Debug)]
pub enum Word {
    Known(usize),
    Free(String),
}

impl<'a> Arbitrary<'a> for Word {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.arbitrary::<u8>()? {
            0..=31 => Word::Free(u.arbitrary()?),
            _ => Word::Known(usize::from(u.arbitrary::<u8>()?)),
        })
    }
}

impl Word {
    pub fn pick(&self, vocabulary: &[&str]) -> String {
        match self {
            Word::Known(i) if !vocabulary.is_empty() => {
                vocabulary[i % vocabulary.len()].to_string()
            }
            Word::Known(_) => String::new(),
            Word::Free(s) => s.clone(),
        }
    }
}

/// A user or group id: mostly small or boundary values, sometimes anything representable.
#[derive(Debug, Arbitrary)]
pub enum Id {
    Root,
    Small(u16),
    Boundary(IdBoundary),
    Any(i64),
    BeyondInt64(u64),
}

#[derive(Debug, Arbitrary, Clone, Copy)]
pub enum IdBoundary {
    MinusOne,
    Nobody,
    Max32,
    Max64,
    Min64,
}

impl Id {
    pub fn render(&self) -> Value {
        match self {
            Id::Root => json!(0),
            Id::Small(n) => json!(n),
            Id::Boundary(IdBoundary::MinusOne) => json!(-1),
            Id::Boundary(IdBoundary::Nobody) => json!(65534),
            Id::Boundary(IdBoundary::Max32) => json!(u32::MAX),
            Id::Boundary(IdBoundary::Max64) => json!(i64::MAX),
            Id::Boundary(IdBoundary::Min64) => json!(i64::MIN),
            Id::Any(n) => json!(n),
            Id::BeyondInt64(n) => json!(n.saturating_add(1u64 << 63)),
        }
    }
}

/// A list field whose items may themselves be null or of the wrong type.
pub fn render_list<T>(items: &[Field<T>], render: impl Fn(&T) -> Value) -> Value {
    Value::Array(
        items
            .iter()
            .filter_map(|item| match item {
                Field::Absent => None,
                Field::Null => Some(Value::Null),
                Field::Present(value) => Some(render(value)),
                Field::WrongType(wrong) => Some(wrong.render()),
            })
            .collect(),
    )
}
