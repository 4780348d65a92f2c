//! The binary tree encoding of ABI version 2 (`plugins/ABI.md`, "Input
//! encoding"): a tag byte per value, little-endian lengths, and the byte
//! size of every list and map, so that the guest reads what a rule asks for
//! in place and skips the rest without parsing it.

use std::borrow::Cow;

use ml_audit::{Node, Value};

pub(crate) const NULL: u8 = 0;
pub(crate) const FALSE: u8 = 1;
pub(crate) const TRUE: u8 = 2;
pub(crate) const INT: u8 = 3;
pub(crate) const FLOAT: u8 = 4;
pub(crate) const STR: u8 = 5;
pub(crate) const ARRAY: u8 = 6;
pub(crate) const OBJECT: u8 = 7;

/// The first token of a JSON pointer that is not empty, and the rest:
/// `/a/b` -> (`a`, `/b`).
fn split(p: &str) -> (&str, &str) {
    let p = p.strip_prefix('/').unwrap_or(p);
    match p.find('/') {
        Some(i) => (&p[..i], &p[i..]),
        None => (p, ""),
    }
}

/// A pointer token, unescaped (`~1` is `/`, `~0` is `~`).
fn unescape(token: &str) -> Cow<'_, str> {
    if token.contains('~') {
        Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(token)
    }
}

/// Appends values to a buffer.
pub(crate) struct Writer<'a>(pub(crate) &'a mut Vec<u8>);

/// An open list or map: its byte size is written when it is closed.
#[must_use]
pub(crate) struct Open(usize);

impl Writer<'_> {
    pub(crate) fn null(&mut self) {
        self.0.push(NULL);
    }

    pub(crate) fn bool(&mut self, b: bool) {
        self.0.push(if b { TRUE } else { FALSE });
    }

    pub(crate) fn int(&mut self, i: i64) {
        self.0.push(INT);
        self.0.extend_from_slice(&i.to_le_bytes());
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.0.push(STR);
        self.key(s);
    }

    /// A map key (a string without its tag).
    pub(crate) fn key(&mut self, s: &str) {
        self.0.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.0.extend_from_slice(s.as_bytes());
    }

    /// Opens a list (`ARRAY`) or map (`OBJECT`) of `count` items or entries.
    pub(crate) fn open(&mut self, tag: u8, count: usize) -> Open {
        self.0.push(tag);
        self.0.extend_from_slice(&(count as u32).to_le_bytes());
        let at = self.0.len();
        self.0.extend_from_slice(&[0; 4]);
        Open(at)
    }

    pub(crate) fn close(&mut self, open: Open) {
        let size = (self.0.len() - open.0 - 4) as u32;
        self.0[open.0..open.0 + 4].copy_from_slice(&size.to_le_bytes());
    }

    /// Only the sub-trees at `paths` (JSON pointers) of a tree, where they
    /// are: maps keep the keys on a path, lists keep their length (items on
    /// no path are null, so that indices and pointers stay right).
    pub(crate) fn sparse(&mut self, n: &Node, paths: &[&str]) {
        if paths.iter().any(|p| p.is_empty()) {
            return self.node(n);
        }
        // Each path's first token (once per level) and the rest.
        let heads: Vec<(Cow<'_, str>, &str)> = paths
            .iter()
            .map(|p| {
                let (t, rest) = split(p);
                (unescape(t), rest)
            })
            .collect();
        let below = |key: &str| -> Vec<&str> {
            heads
                .iter()
                .filter(|(t, _)| t == key)
                .map(|(_, rest)| *rest)
                .collect()
        };
        match &n.value {
            Value::Map(entries) => {
                let on = |k: &str| heads.iter().any(|(t, _)| t == k);
                let o = self.open(OBJECT, entries.iter().filter(|e| on(&e.key)).count());
                for e in entries.iter().filter(|e| on(&e.key)) {
                    self.key(&e.key);
                    self.sparse(&e.value, &below(&e.key));
                }
                self.close(o);
            }
            Value::Seq(items) => {
                let o = self.open(ARRAY, items.len());
                for (i, item) in items.iter().enumerate() {
                    let sub = below(&i.to_string());
                    if sub.is_empty() {
                        self.null();
                    } else {
                        self.sparse(item, &sub);
                    }
                }
                self.close(o);
            }
            // A scalar where a path goes on: nothing below it to pick.
            _ => self.node(n),
        }
    }

    /// A tree of the loader, written straight from its nodes.
    pub(crate) fn node(&mut self, n: &Node) {
        match &n.value {
            Value::Null => self.null(),
            Value::Bool(b) => self.bool(*b),
            Value::Int(i) => self.int(*i),
            Value::Float(f) if f.is_finite() => {
                self.0.push(FLOAT);
                self.0.extend_from_slice(&f.to_le_bytes());
            }
            // JSON has no NaN or infinity: the same `null` as ABI v1.
            Value::Float(_) => self.null(),
            Value::Str(s) => self.str(s),
            Value::Seq(items) => {
                let o = self.open(ARRAY, items.len());
                for i in items {
                    self.node(i);
                }
                self.close(o);
            }
            Value::Map(entries) => {
                let o = self.open(OBJECT, entries.len());
                for e in entries {
                    self.key(&e.key);
                    self.node(&e.value);
                }
                self.close(o);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ml_audit::{Input, Inventory, LoadOptions};

    fn encoded(yaml: &str, paths: Option<&[&str]>) -> Vec<u8> {
        let inv = Inventory::new(ml_audit::load(
            &[Input::Text {
                name: "t.yaml".into(),
                text: yaml.into(),
            }],
            &LoadOptions::default(),
        ));
        let mut buf = Vec::new();
        let mut w = Writer(&mut buf);
        match paths {
            None => w.node(&inv.objects[0].root),
            Some(ps) => w.sparse(&inv.objects[0].root, ps),
        }
        buf
    }

    #[test]
    fn sparse_keeps_only_the_paths_where_they_are() {
        let full = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {a: b}}\n\
                    spec: {containers: [{name: c, image: x}, {name: d, image: y}], volumes: []}\n";
        let want = "apiVersion: v1\nkind: Pod\nmetadata: {labels: {a: b}}\n\
                    spec: {containers: [null, {image: y}]}\n";
        let paths = [
            "/apiVersion",
            "/kind",
            "/metadata/labels",
            "/spec/containers/1/image",
        ];
        assert_eq!(encoded(full, Some(&paths)), encoded(want, None));
        assert_eq!(encoded(full, Some(&[""])), encoded(full, None));
        assert_eq!(split("/a~1b/~0c"), ("a~1b", "/~0c"));
        assert_eq!(unescape("a~1b~0c"), "a/b~c");
    }
}
