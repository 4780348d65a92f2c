//! Typed views: a serde `Deserializer` over [`Node`], so k8s-openapi types
//! (PodSpec, Role, NetworkPolicy, ...) are read straight from the tree that
//! keeps the spans. An error carries the JSON pointer of the node at fault,
//! so a `containers` that is a string is reported at its own line.
//!
//! Scalars are read leniently where Kubernetes itself is lenient: a number is
//! accepted where a string is expected (quantities such as `cpu: 1`), and a
//! string of digits where a number is expected is not.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use crate::node::{escape, Entry, Node, Value};

/// Why a subtree could not be read as the type asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct DeError {
    /// The message.
    pub message: String,
    /// JSON pointer (relative to the node deserialized) of the node at fault.
    pub pointer: String,
    path_set: bool,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            pointer: String::new(),
            path_set: false,
        }
    }
}

impl DeError {
    fn within(mut self, token: &str) -> Self {
        // Errors bubble up from the innermost node; each level prepends its token.
        if !self.path_set {
            self.pointer = format!("/{}{}", escape(token), self.pointer);
        }
        self
    }
    fn fix(mut self) -> Self {
        self.path_set = true;
        self
    }
}

/// Deserializes `T` from a node.
pub fn from_node<'a, T: serde::Deserialize<'a>>(node: &'a Node) -> Result<T, DeError> {
    T::deserialize(NodeDe(node)).map_err(DeError::fix)
}

struct NodeDe<'a>(&'a Node);

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Str(_) => "a string",
        Value::Seq(_) => "a list",
        Value::Map(_) => "a mapping",
    }
}

fn invalid(v: &Value, expected: &str) -> DeError {
    de::Error::custom(format!("expected {expected}, found {}", kind(v)))
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => visitor.visit_seq(Seq { items, i: 0 }),
            Value::Map(entries) => visitor.visit_map(Map {
                entries,
                i: 0,
                key: String::new(),
            }),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                visitor.visit_string(self.0.scalar_text().unwrap_or_default())
            }
            other => Err(invalid(other, "a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            other => Err(invalid(other, "a boolean")),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) if f.fract() == 0.0 => visitor.visit_i64(*f as i64),
            other => Err(invalid(other, "an integer")),
        }
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Int(i) => visitor.visit_f64(*i as f64),
            Value::Float(f) => visitor.visit_f64(*f),
            other => Err(invalid(other, "a number")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Seq(items) => visitor.visit_seq(Seq { items, i: 0 }),
            Value::Null => visitor.visit_seq(Seq { items: &[], i: 0 }),
            other => Err(invalid(other, "a list")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Map(entries) => visitor.visit_map(Map {
                entries,
                i: 0,
                key: String::new(),
            }),
            Value::Null => visitor.visit_map(Map {
                entries: &[],
                i: 0,
                key: String::new(),
            }),
            other => Err(invalid(other, "a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(invalid(other, "a string")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 u8 u16 u32 i128 u128 f32 char bytes byte_buf unit unit_struct
        tuple tuple_struct identifier ignored_any
    }
}

struct Seq<'a> {
    items: &'a [Node],
    i: usize,
}

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(item) = self.items.get(self.i) else {
            return Ok(None);
        };
        let i = self.i;
        self.i += 1;
        seed.deserialize(NodeDe(item))
            .map(Some)
            .map_err(|e| e.within(&i.to_string()))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.i)
    }
}

struct Map<'a> {
    entries: &'a [Entry],
    i: usize,
    key: String,
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(e) = self.entries.get(self.i) else {
            return Ok(None);
        };
        self.key.clear();
        self.key.push_str(&e.key);
        seed.deserialize(de::value::BorrowedStrDeserializer::new(e.key.as_str()))
            .map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let e = &self.entries[self.i];
        self.i += 1;
        seed.deserialize(NodeDe(&e.value))
            .map_err(|err| err.within(&e.key))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() - self.i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{parse_stream, Limits};
    use k8s_openapi::api::core::v1::PodSpec;

    #[test]
    fn reads_pod_spec_and_points_at_bad_field() {
        let (docs, _) = parse_stream(
            "containers:\n- name: a\n  image: x\n  resources:\n    limits:\n      cpu: 1\n",
            Limits::default(),
        );
        let spec: PodSpec = from_node(&docs[0].root).unwrap();
        assert_eq!(spec.containers[0].name, "a");
        let (docs, _) = parse_stream(
            "containers:\n- name: a\n  ports:\n  - containerPort: abc\n",
            Limits::default(),
        );
        let err = from_node::<PodSpec>(&docs[0].root).unwrap_err();
        assert_eq!(err.pointer, "/containers/0/ports/0/containerPort");
    }
}
