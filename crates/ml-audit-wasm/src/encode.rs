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

/// Loads the scattered memory of a few trees (their maps, lists, keys and
/// strings) level by level, all trees at once: the loads of one level do
/// not depend on each other, so the processor has many cache misses in
/// flight instead of one at a time, as a depth-first walk (the encoder)
/// would. The encoder then finds them in the cache; `strings` (the
/// objects' names, kinds, pod pointers...) too. Gives a value only so that
/// the loads are not optimised away.
pub(crate) fn warm<'a>(
    roots: impl IntoIterator<Item = &'a Node>,
    strings: impl IntoIterator<Item = &'a str>,
    scratch: &mut Vec<&'a Node>,
) -> u8 {
    let first = |s: &str| s.as_bytes().first().copied().unwrap_or(0);
    let mut acc = strings.into_iter().fold(0, |a, s| a ^ first(s));
    let mut level: Vec<&Node> = roots.into_iter().collect();
    while !level.is_empty() {
        scratch.clear();
        for n in &level {
            match &n.value {
                Value::Str(s) => acc ^= first(s),
                Value::Seq(items) => scratch.extend(items.iter()),
                Value::Map(entries) => {
                    for e in entries {
                        acc ^= first(&e.key);
                        scratch.push(&e.value);
                    }
                }
                _ => {}
            }
        }
        std::mem::swap(&mut level, scratch);
    }
    acc
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

/// A value of a reply in the binary encoding (ABI 3), read in place.
#[derive(Clone, Copy)]
pub(crate) struct Val<'a> {
    buf: &'a [u8],
    at: usize,
}

fn u32_at(buf: &[u8], at: usize) -> Option<usize> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// The offset just after the value whose tag is at `at`.
fn skip(buf: &[u8], at: usize) -> Option<usize> {
    let end = match *buf.get(at)? {
        NULL | FALSE | TRUE => at + 1,
        INT | FLOAT => at + 9,
        STR => at.checked_add(5)?.checked_add(u32_at(buf, at + 1)?)?,
        ARRAY | OBJECT => at.checked_add(9)?.checked_add(u32_at(buf, at + 5)?)?,
        _ => return None,
    };
    (end <= buf.len()).then_some(end)
}

/// The UTF-8 string of `len` bytes at `at`, and the offset after it.
fn text_at(buf: &[u8], at: usize) -> Option<(&str, usize)> {
    let len = u32_at(buf, at)?;
    let end = at.checked_add(4)?.checked_add(len)?;
    let s = std::str::from_utf8(buf.get(at + 4..end)?).ok()?;
    Some((s, end))
}

impl<'a> Val<'a> {
    /// The value whose tag is at `at`, if it is well formed.
    pub(crate) fn new(buf: &'a [u8], at: usize) -> Option<Val<'a>> {
        skip(buf, at)?;
        Some(Val { buf, at })
    }

    fn tag(&self) -> u8 {
        self.buf[self.at]
    }

    pub(crate) fn is_null(&self) -> bool {
        self.tag() == NULL
    }

    pub(crate) fn as_str(&self) -> Option<&'a str> {
        (self.tag() == STR).then(|| text_at(self.buf, self.at + 1).map(|(s, _)| s))?
    }

    pub(crate) fn as_i64(&self) -> Option<i64> {
        let b = self.buf.get(self.at + 1..self.at + 9)?;
        (self.tag() == INT).then(|| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    }

    /// Calls `f` on each item of a list, without collecting them; `None`
    /// if it is not a list or is malformed (after the items before the
    /// fault), else what `f` returned first as an error, if anything.
    pub(crate) fn each_item<E>(
        &self,
        mut f: impl FnMut(Val<'a>) -> Result<(), E>,
    ) -> Option<Result<(), E>> {
        if self.tag() != ARRAY {
            return None;
        }
        let count = u32_at(self.buf, self.at + 1)?;
        let end = skip(self.buf, self.at)?;
        let mut at = self.at + 9;
        for _ in 0..count {
            let next = skip(self.buf, at).filter(|&n| n <= end)?;
            if let Err(e) = f(Val { buf: self.buf, at }) {
                return Some(Err(e));
            }
            at = next;
        }
        Some(Ok(()))
    }

    /// The same over the entries of a map.
    pub(crate) fn each_entry<E>(
        &self,
        mut f: impl FnMut(&'a str, Val<'a>) -> Result<(), E>,
    ) -> Option<Result<(), E>> {
        if self.tag() != OBJECT {
            return None;
        }
        let count = u32_at(self.buf, self.at + 1)?;
        let end = skip(self.buf, self.at)?;
        let mut at = self.at + 9;
        for _ in 0..count {
            let (key, value_at) = text_at(self.buf, at)?;
            let next = skip(self.buf, value_at).filter(|&n| n <= end)?;
            let value = Val {
                buf: self.buf,
                at: value_at,
            };
            if let Err(e) = f(key, value) {
                return Some(Err(e));
            }
            at = next;
        }
        Some(Ok(()))
    }

    /// The value under `key` in a map (the first, if a key repeats).
    #[cfg(test)]
    pub(crate) fn get(&self, key: &str) -> Option<Val<'a>> {
        self.each_entry(|k, v| if k == key { Err(v) } else { Ok(()) })?
            .err()
    }

    /// A short description, for errors.
    pub(crate) fn describe(&self) -> String {
        match self.tag() {
            NULL => "null".into(),
            FALSE => "false".into(),
            TRUE => "true".into(),
            INT => self.as_i64().unwrap_or_default().to_string(),
            FLOAT => "a float".into(),
            STR => format!("{:?}", self.as_str().unwrap_or_default()),
            ARRAY => "a list".into(),
            _ => "a map".into(),
        }
    }
}

/// A reply document in the binary encoding, checked at the top.
pub(crate) enum ReplyDoc {
    /// `{"findings": [...]}`: how many, and where the list is.
    Findings { count: usize, list: usize },
    /// `{"error": "..."}`.
    Error(String),
}

/// Checks a reply in the binary encoding: one map, with a list of
/// `findings` or an `error` string, and nothing after it. Nothing is
/// collected: the findings are then read in place ([`reply_findings`]).
pub(crate) fn reply(buf: &[u8]) -> Result<ReplyDoc, String> {
    let bad = |what: &str| format!("not a valid reply in the binary encoding: {what}");
    let top = Val::new(buf, 0).ok_or_else(|| bad("truncated or unknown tag"))?;
    if skip(buf, 0) != Some(buf.len()) {
        return Err(bad("bytes after the reply"));
    }
    // Every entry well formed, then the first `error` or `findings` (an
    // `Err` stops that walk).
    top.each_entry(|_, _| Ok::<(), ()>(()))
        .ok_or_else(|| bad("not a map"))?
        .ok();
    let found = top.each_entry(|k, v| match k {
        "error" => Err(Ok(ReplyDoc::Error(
            v.as_str().map_or_else(|| v.describe(), str::to_string),
        ))),
        "findings" => {
            let mut count = 0;
            match v.each_item(|_| {
                count += 1;
                Ok::<(), ()>(())
            }) {
                Some(_) => Err(Ok(ReplyDoc::Findings { count, list: v.at })),
                None => Err(Err(bad("`findings` is not a list"))),
            }
        }
        _ => Ok(()),
    });
    match found {
        None => Err(bad("not a map")),
        Some(Err(doc)) => doc,
        Some(Ok(())) => Err(bad("expected `findings` or `error`")),
    }
}

/// Calls `f` on each finding of a reply that [`reply`] checked (its list
/// at `list`).
pub(crate) fn reply_findings<'a>(
    buf: &'a [u8],
    list: usize,
    f: impl FnMut(Val<'a>) -> Result<(), String>,
) -> Result<(), String> {
    Val { buf, at: list }
        .each_item(f)
        .unwrap_or_else(|| Err("the findings are malformed".into()))
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
    fn replies_in_the_binary_encoding() {
        let mut buf = Vec::new();
        let mut w = Writer(&mut buf);
        let top = w.open(OBJECT, 1);
        w.key("findings");
        let a = w.open(ARRAY, 1);
        let f = w.open(OBJECT, 2);
        w.key("object");
        w.int(3);
        w.key("message");
        w.str("m");
        w.close(f);
        w.close(a);
        w.close(top);
        let Ok(ReplyDoc::Findings { count: 1, list }) = reply(&buf) else {
            panic!("not one finding")
        };
        let mut fs = Vec::new();
        reply_findings(&buf, list, |v| {
            fs.push(v);
            Ok(())
        })
        .unwrap();
        assert_eq!(fs[0].get("object").and_then(|o| o.as_i64()), Some(3));
        assert_eq!(fs[0].get("message").and_then(|o| o.as_str()), Some("m"));
        // Every truncation, and junk after it, is an error, not a panic.
        for cut in 0..buf.len() {
            assert!(reply(&buf[..cut]).is_err(), "{cut}");
        }
        let mut long = buf.clone();
        long.push(0);
        assert!(reply(&long).is_err());
        // A count larger than the bytes hold.
        let mut lying = buf.clone();
        lying[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(reply(&lying).is_err());
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
