//! The binary tree encoding of ABI version 2 (`plugins/ABI.md`, "Input
//! encoding") and [`Node`], a read-only view over it: the guest reads the
//! fields a rule asks for where the host wrote them, without parsing or
//! copying the rest of the object.

use serde_json::{Map as JsonMap, Number, Value};

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const ARRAY: u8 = 6;
const OBJECT: u8 = 7;

fn u32_at(buf: &[u8], at: usize) -> Option<usize> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

fn u64_at(buf: &[u8], at: usize) -> Option<u64> {
    let b = buf.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

/// The string at `at` (length, bytes) and the offset after it.
fn str_at(buf: &[u8], at: usize) -> Option<(&str, usize)> {
    let len = u32_at(buf, at)?;
    let start = at + 4;
    let end = start.checked_add(len)?;
    let s = std::str::from_utf8(buf.get(start..end)?).ok()?;
    Some((s, end))
}

/// The offset just after the value whose tag is at `at`.
fn skip(buf: &[u8], at: usize) -> Option<usize> {
    match *buf.get(at)? {
        NULL | FALSE | TRUE => Some(at + 1),
        INT | FLOAT => Some(at + 9).filter(|&e| e <= buf.len()),
        STR => str_len_end(buf, at + 1),
        ARRAY | OBJECT => {
            let size = u32_at(buf, at + 5)?;
            Some(at + 9 + size).filter(|&e| e <= buf.len())
        }
        _ => None,
    }
}

/// Whether two byte strings are equal: short ones (keys, mostly) compared
/// as one or two integers, not through `memcmp` (a byte loop in wasm).
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 16 {
        return a == b;
    }
    let word = |s: &[u8]| {
        let mut w = [0u8; 16];
        w[..s.len()].copy_from_slice(s);
        u128::from_le_bytes(w)
    };
    word(a) == word(b)
}

fn str_len_end(buf: &[u8], at: usize) -> Option<usize> {
    let len = u32_at(buf, at)?;
    Some(at + 4 + len).filter(|&e| e <= buf.len())
}

/// One value of an object's tree (a JSON value, in the binary encoding the
/// host sends): a cheap, copyable view with the accessors of
/// `serde_json::Value`. `get` looks a key up in a map (or an index up in a
/// list), `pointer` follows a JSON pointer, `to_json` makes a
/// `serde_json::Value` of it when a rule wants one.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    buf: &'a [u8],
    at: usize,
}

/// What [`Node::get`] takes: a map key (`&str`) or a list index (`usize`).
pub trait Key {
    /// The value under this key or index, if `node` has one.
    fn find<'a>(&self, node: Node<'a>) -> Option<Node<'a>>;
}

impl Key for &String {
    fn find<'a>(&self, node: Node<'a>) -> Option<Node<'a>> {
        node.as_object()?.get(self)
    }
}

impl Key for &str {
    fn find<'a>(&self, node: Node<'a>) -> Option<Node<'a>> {
        node.as_object()?.get(self)
    }
}

impl Key for String {
    fn find<'a>(&self, node: Node<'a>) -> Option<Node<'a>> {
        node.as_object()?.get(self)
    }
}

impl Key for usize {
    fn find<'a>(&self, node: Node<'a>) -> Option<Node<'a>> {
        node.as_array()?.get(*self)
    }
}

impl<'a> Node<'a> {
    /// The value whose tag is at `at` in `buf` (`None` if it is malformed).
    pub(crate) fn new(buf: &'a [u8], at: usize) -> Option<Node<'a>> {
        skip(buf, at)?;
        Some(Node { buf, at })
    }

    /// `null`.
    pub(crate) fn null() -> Node<'a> {
        Node {
            buf: &[NULL],
            at: 0,
        }
    }

    /// Where its tag is in the input.
    pub(crate) fn at(&self) -> usize {
        self.at
    }

    fn tag(&self) -> u8 {
        self.buf[self.at]
    }

    /// `null`.
    pub fn is_null(&self) -> bool {
        self.tag() == NULL
    }
    /// A string.
    pub fn is_string(&self) -> bool {
        self.tag() == STR
    }
    /// A number (integer or float).
    pub fn is_number(&self) -> bool {
        matches!(self.tag(), INT | FLOAT)
    }
    /// A list.
    pub fn is_array(&self) -> bool {
        self.tag() == ARRAY
    }
    /// A map.
    pub fn is_object(&self) -> bool {
        self.tag() == OBJECT
    }

    /// The boolean, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.tag() {
            TRUE => Some(true),
            FALSE => Some(false),
            _ => None,
        }
    }
    /// The integer, if it is one.
    pub fn as_i64(&self) -> Option<i64> {
        (self.tag() == INT).then(|| u64_at(self.buf, self.at + 1).map(|v| v as i64))?
    }
    /// The integer, if it is a non-negative one.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i64().and_then(|i| u64::try_from(i).ok())
    }
    /// The number (an integer or a float) as a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self.tag() {
            INT => self.as_i64().map(|i| i as f64),
            FLOAT => u64_at(self.buf, self.at + 1).map(f64::from_bits),
            _ => None,
        }
    }
    /// The string, if it is one.
    pub fn as_str(&self) -> Option<&'a str> {
        (self.tag() == STR).then(|| str_at(self.buf, self.at + 1).map(|(s, _)| s))?
    }
    /// The list, if it is one.
    pub fn as_array(&self) -> Option<Array<'a>> {
        (self.tag() == ARRAY).then(|| Array {
            node: *self,
            len: u32_at(self.buf, self.at + 1).unwrap_or(0),
        })
    }
    /// The map, if it is one.
    pub fn as_object(&self) -> Option<Map<'a>> {
        (self.tag() == OBJECT).then(|| Map {
            node: *self,
            len: u32_at(self.buf, self.at + 1).unwrap_or(0),
        })
    }

    /// The value under a map key (`node.get("image")`) or at a list index
    /// (`node.get(0)`).
    pub fn get<K: Key>(&self, key: K) -> Option<Node<'a>> {
        key.find(*self)
    }

    /// The value at a JSON pointer (RFC 6901) below this one: `""` is this
    /// value, `/spec/containers/0/image` goes down three levels.
    pub fn pointer(&self, pointer: &str) -> Option<Node<'a>> {
        if pointer.is_empty() {
            return Some(*self);
        }
        let rest = pointer.strip_prefix('/')?.as_bytes();
        let mut node = *self;
        // Tokens split by hand: `split` and `contains` go through `memchr`,
        // slow in wasm for such short strings.
        for token in rest.split(|&b| b == b'/') {
            let owned;
            #[allow(clippy::manual_contains)] // `contains` is `memchr`
            let token = if token.iter().any(|&b| b == b'~') {
                owned = std::str::from_utf8(token)
                    .ok()?
                    .replace("~1", "/")
                    .replace("~0", "~");
                owned.as_bytes()
            } else {
                token
            };
            node = match node.tag() {
                OBJECT => node.as_object()?.get_bytes(token)?,
                ARRAY => {
                    if token.len() > 1 && token[0] == b'0' {
                        return None;
                    }
                    let index = std::str::from_utf8(token).ok()?.parse().ok()?;
                    node.as_array()?.get(index)?
                }
                _ => return None,
            };
        }
        Some(node)
    }

    /// The value as a `serde_json::Value` (a copy: prefer the accessors in
    /// a rule that runs on every object).
    pub fn to_json(&self) -> Value {
        match self.tag() {
            NULL => Value::Null,
            TRUE => Value::Bool(true),
            FALSE => Value::Bool(false),
            INT => Value::from(self.as_i64().unwrap_or_default()),
            FLOAT => self
                .as_f64()
                .and_then(Number::from_f64)
                .map_or(Value::Null, Value::Number),
            STR => Value::String(self.as_str().unwrap_or_default().to_string()),
            ARRAY => Value::Array(
                self.as_array()
                    .into_iter()
                    .flatten()
                    .map(|n| n.to_json())
                    .collect(),
            ),
            _ => Value::Object(
                self.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect::<JsonMap<_, _>>(),
            ),
        }
    }
}

impl std::fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

impl std::fmt::Display for Node<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

/// A list ([`Node::as_array`]).
#[derive(Clone, Copy, Debug)]
pub struct Array<'a> {
    node: Node<'a>,
    len: usize,
}

impl<'a> Array<'a> {
    /// Its length.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Its items.
    pub fn iter(&self) -> ArrayIter<'a> {
        ArrayIter {
            buf: self.node.buf,
            at: self.node.at + 9,
            left: self.len,
        }
    }
    /// The item at `index`.
    pub fn get(&self, index: usize) -> Option<Node<'a>> {
        self.iter().nth(index)
    }
}

impl<'a> IntoIterator for Array<'a> {
    type Item = Node<'a>;
    type IntoIter = ArrayIter<'a>;
    fn into_iter(self) -> ArrayIter<'a> {
        self.iter()
    }
}

/// The items of an [`Array`].
#[derive(Clone, Debug)]
pub struct ArrayIter<'a> {
    buf: &'a [u8],
    at: usize,
    left: usize,
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = Node<'a>;
    fn next(&mut self) -> Option<Node<'a>> {
        if self.left == 0 {
            return None;
        }
        let end = match skip(self.buf, self.at) {
            Some(e) => e,
            None => {
                self.left = 0;
                return None;
            }
        };
        let node = Node {
            buf: self.buf,
            at: self.at,
        };
        self.at = end;
        self.left -= 1;
        Some(node)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// A map ([`Node::as_object`]), in the order of the source.
#[derive(Clone, Copy, Debug)]
pub struct Map<'a> {
    node: Node<'a>,
    len: usize,
}

impl<'a> Map<'a> {
    /// Its number of entries.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Its entries, key and value.
    pub fn iter(&self) -> MapIter<'a> {
        MapIter {
            buf: self.node.buf,
            at: self.node.at + 9,
            left: self.len,
        }
    }
    /// The value under `key` (the first, if a source repeats a key).
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        self.get_bytes(key.as_bytes())
    }

    /// [`Map::get`] with the key as bytes: no UTF-8 check of the keys it
    /// passes over, and a key of another length is not compared.
    pub(crate) fn get_bytes(&self, key: &[u8]) -> Option<Node<'a>> {
        let buf = self.node.buf;
        let mut at = self.node.at + 9;
        for _ in 0..self.len {
            let len = u32_at(buf, at)?;
            let start = at + 4;
            let value_at = start.checked_add(len)?;
            let end = skip(buf, value_at)?;
            if len == key.len() && same(buf.get(start..value_at)?, key) {
                return Some(Node { buf, at: value_at });
            }
            at = end;
        }
        None
    }

    /// Its entries with their keys as bytes (no UTF-8 check).
    pub(crate) fn raw_entries(&self) -> impl Iterator<Item = (&'a [u8], Node<'a>)> {
        let buf = self.node.buf;
        let mut at = self.node.at + 9;
        let mut left = self.len;
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            left -= 1;
            let len = u32_at(buf, at)?;
            let start = at + 4;
            let value_at = start.checked_add(len)?;
            let key = buf.get(start..value_at)?;
            let end = skip(buf, value_at)?;
            at = end;
            Some((key, Node { buf, at: value_at }))
        })
    }

    /// Whether it has `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// Its keys.
    pub fn keys(&self) -> impl Iterator<Item = &'a str> {
        self.iter().map(|(k, _)| k)
    }
    /// Its values.
    pub fn values(&self) -> impl Iterator<Item = Node<'a>> {
        self.iter().map(|(_, v)| v)
    }
}

impl<'a> IntoIterator for Map<'a> {
    type Item = (&'a str, Node<'a>);
    type IntoIter = MapIter<'a>;
    fn into_iter(self) -> MapIter<'a> {
        self.iter()
    }
}

/// The entries of a [`Map`].
#[derive(Clone, Debug)]
pub struct MapIter<'a> {
    buf: &'a [u8],
    at: usize,
    left: usize,
}

impl<'a> Iterator for MapIter<'a> {
    type Item = (&'a str, Node<'a>);
    fn next(&mut self) -> Option<(&'a str, Node<'a>)> {
        if self.left == 0 {
            return None;
        }
        let entry = str_at(self.buf, self.at).and_then(|(key, value_at)| {
            let end = skip(self.buf, value_at)?;
            Some((key, value_at, end))
        });
        let Some((key, value_at, end)) = entry else {
            self.left = 0;
            return None;
        };
        self.at = end;
        self.left -= 1;
        Some((
            key,
            Node {
                buf: self.buf,
                at: value_at,
            },
        ))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// Encodes a JSON value (for [`crate::Object::from_json`] in native tests;
/// the host has its own encoder).
pub(crate) fn encode(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => match n.as_i64() {
            Some(i) => {
                out.push(INT);
                out.extend_from_slice(&i.to_le_bytes());
            }
            None => {
                out.push(FLOAT);
                out.extend_from_slice(&n.as_f64().unwrap_or_default().to_le_bytes());
            }
        },
        Value::String(s) => {
            out.push(STR);
            put_str(s, out);
        }
        Value::Array(items) => container(ARRAY, items.len(), out, |out| {
            for i in items {
                encode(i, out);
            }
        }),
        Value::Object(map) => container(OBJECT, map.len(), out, |out| {
            for (k, v) in map {
                put_str(k, out);
                encode(v, out);
            }
        }),
    }
}

/// The reply of `mla_check` (`{"findings": [...]}`), in the binary
/// encoding (ABI version 3).
pub(crate) fn encode_findings(findings: &[crate::Finding], out: &mut Vec<u8>) {
    container(OBJECT, 1, out, |out| {
        put_str("findings", out);
        container(ARRAY, findings.len(), out, |out| {
            for f in findings {
                let n = 3 + usize::from(f.help.is_some()) + usize::from(f.severity.is_some());
                container(OBJECT, n, out, |out| {
                    put_str("object", out);
                    out.push(INT);
                    out.extend_from_slice(&(f.object as i64).to_le_bytes());
                    put_str("pointer", out);
                    out.push(STR);
                    put_str(&f.pointer, out);
                    put_str("message", out);
                    out.push(STR);
                    put_str(&f.message, out);
                    if let Some(h) = &f.help {
                        put_str("help", out);
                        out.push(STR);
                        put_str(h, out);
                    }
                    if let Some(s) = f.severity {
                        put_str("severity", out);
                        out.push(STR);
                        put_str(s.as_str(), out);
                    }
                });
            }
        });
    });
}

fn put_str(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn container(tag: u8, count: usize, out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    out.push(tag);
    out.extend_from_slice(&(count as u32).to_le_bytes());
    let size_at = out.len();
    out.extend_from_slice(&[0; 4]);
    body(out);
    let size = (out.len() - size_at - 4) as u32;
    out[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_and_lookups() {
        let v =
            json!({"a": [1, -2.5, "x", null, true, false, {"b~/c": {}}], "d": {"e": "f"}, "": 3});
        let mut buf = Vec::new();
        encode(&v, &mut buf);
        let n = Node::new(&buf, 0).unwrap();
        assert_eq!(n.to_json(), v);
        assert_eq!(
            n.get("d").and_then(|d| d.get("e")).and_then(|e| e.as_str()),
            Some("f")
        );
        assert_eq!(n.pointer("/a/0").and_then(|x| x.as_i64()), Some(1));
        assert_eq!(n.pointer("/a/1").and_then(|x| x.as_f64()), Some(-2.5));
        assert!(n.pointer("/a/6/b~0~1c").is_some_and(|x| x.is_object()));
        assert!(n.pointer("/a/01").is_none());
        assert!(n.pointer("/a/7").is_none());
        assert_eq!(n.pointer("/").and_then(|x| x.as_i64()), Some(3));
        assert_eq!(
            n.get("a").and_then(|a| a.get(2)).and_then(|x| x.as_str()),
            Some("x")
        );
        assert_eq!(n.as_object().map(|m| m.len()), Some(3));
        assert!(same(b"", b"") && same(b"kind", b"kind") && !same(b"kind", b"name"));
        assert!(same(&[7; 16], &[7; 16]) && !same(&[7; 17], &[8; 17]) && !same(b"a", b"ab"));
    }

    #[test]
    fn findings_reply_in_the_binary_encoding() {
        let f = crate::Finding {
            object: 7,
            pointer: "/a".into(),
            message: "m".into(),
            help: None,
            severity: Some(crate::Severity::High),
        };
        let mut buf = Vec::new();
        encode_findings(&[f], &mut buf);
        assert_eq!(
            Node::new(&buf, 0).unwrap().to_json(),
            json!({"findings": [{"object": 7, "pointer": "/a", "message": "m", "severity": "high"}]})
        );
    }

    #[test]
    fn malformed_input_gives_none_not_a_panic() {
        let v = json!({"a": ["xyz", {"k": 1}]});
        let mut buf = Vec::new();
        encode(&v, &mut buf);
        for cut in 0..buf.len() {
            let short = &buf[..cut];
            if let Some(n) = Node::new(short, 0) {
                let _ = n.to_json();
            }
        }
        let mut bad = buf.clone();
        bad[0] = 99;
        assert!(Node::new(&bad, 0).is_none());
    }
}
