//! The YAML/JSON tree every object is kept as, with a source span on every node.

use std::fmt;

pub use compact_str::CompactString;

/// A position range in a source file. Lines and columns are 1-based; columns
/// count characters (not bytes), as editors do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    /// Line of the first character.
    pub line: u32,
    /// Column of the first character.
    pub col: u32,
    /// Line just after the node ends.
    pub end_line: u32,
    /// Column just after the node ends (exclusive).
    pub end_col: u32,
}

impl Span {
    /// A span of one point.
    pub fn point(line: u32, col: u32) -> Span {
        Span {
            line,
            col,
            end_line: line,
            end_col: col,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A node of the document tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value is written.
    pub span: Span,
}

/// A mapping entry: the key (with its own span) and the value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key, as a string (non-string keys are written as their text).
    /// Short strings are stored inline (see [`CompactString`]).
    pub key: CompactString,
    /// Where the key is written.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

/// The value of a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(CompactString),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<Entry>),
}

static NULL: Node = Node {
    value: Value::Null,
    span: Span {
        line: 0,
        col: 0,
        end_line: 0,
        end_col: 0,
    },
};

impl Node {
    /// A node with no location (used for values the tool makes up).
    pub fn new(value: Value) -> Node {
        Node {
            value,
            span: Span::default(),
        }
    }

    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    /// The entry for `key`, if this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The value under `key`, or a null node.
    pub fn field(&self, key: &str) -> &Node {
        self.get(key).unwrap_or(&NULL)
    }

    /// The item at `index`, if this is a sequence long enough.
    pub fn index(&self, index: usize) -> Option<&Node> {
        match &self.value {
            Value::Seq(items) => items.get(index),
            _ => None,
        }
    }

    /// The node a JSON pointer (`/spec/containers/0/image`) names.
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        let mut node = self;
        if pointer.is_empty() {
            return Some(node);
        }
        for token in pointer.strip_prefix('/')?.split('/') {
            let token = unescape(token);
            node = match &node.value {
                Value::Map(_) => node.get(&token)?,
                Value::Seq(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The span that best points at what a JSON pointer names: the key line of
    /// a mapping entry when the value spans several lines, else the value; for
    /// a pointer that does not resolve, the deepest existing ancestor.
    pub fn locate(&self, pointer: &str) -> Span {
        self.locate_prefix(pointer).0
    }

    /// [`Node::locate`], and the length of the prefix of `pointer` that was
    /// found (the whole pointer when every step exists): the node whose
    /// span is returned is the one at `&pointer[..len]`.
    pub fn locate_prefix(&self, pointer: &str) -> (Span, usize) {
        let mut node = self;
        let mut best = self.span;
        let Some(rest) = pointer.strip_prefix('/') else {
            return (best, 0);
        };
        let mut len = 0;
        for raw in rest.split('/') {
            let token = unescape(raw);
            match &node.value {
                Value::Map(entries) => match entries.iter().find(|e| e.key == token) {
                    Some(e) => {
                        node = &e.value;
                        best = if is_block(&e.value) || e.value.span.line == 0 {
                            e.key_span
                        } else {
                            Span {
                                end_line: e.value.span.end_line,
                                end_col: e.value.span.end_col,
                                ..e.key_span
                            }
                        };
                    }
                    None => return (best, len),
                },
                Value::Seq(items) => match raw.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(item) => {
                        node = item;
                        best = if is_block(item) {
                            first_line(item)
                        } else {
                            item.span
                        };
                    }
                    None => return (best, len),
                },
                _ => return (best, len),
            }
            len += 1 + raw.len();
        }
        (best, len)
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The integer, if this is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The items, if this is a sequence (else an empty slice).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// The entries, if this is a mapping (else an empty slice).
    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The scalar as text (strings, numbers, booleans), for lenient reads.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Converts to a `serde_json::Value` (for plugins and JSON output).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.to_string()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| (e.key.to_string(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Number of nodes in this tree (this one included).
    pub fn count(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::count).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.count()).sum(),
            _ => 0,
        }
    }
}

fn is_block(node: &Node) -> bool {
    matches!(node.value, Value::Map(_) | Value::Seq(_)) && node.span.end_line > node.span.line
}

fn first_line(node: &Node) -> Span {
    match &node.value {
        Value::Map(entries) => entries.first().map_or(node.span, |e| e.key_span),
        _ => Span::point(node.span.line, node.span.col),
    }
}

/// Decodes one JSON-pointer reference token (`~1` is `/`, `~0` is `~`).
pub fn unescape(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~").into()
    } else {
        token.into()
    }
}

/// Encodes a key as a JSON-pointer reference token.
pub fn escape(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

/// A JSON pointer under construction.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pointer(String);

impl Pointer {
    /// The empty pointer (the whole document).
    pub fn root() -> Pointer {
        Pointer(String::new())
    }

    /// A pointer from its text.
    pub fn parse(s: &str) -> Pointer {
        Pointer(s.to_string())
    }

    /// This pointer with a key appended.
    pub fn key(&self, key: &str) -> Pointer {
        let mut s = String::with_capacity(self.0.len() + key.len() + 1);
        s.push_str(&self.0);
        s.push('/');
        s.push_str(&escape(key));
        Pointer(s)
    }

    /// This pointer with several keys appended.
    pub fn keys(&self, keys: &[&str]) -> Pointer {
        // One allocation, not one per key.
        let len = keys.iter().map(|k| k.len() + 1).sum::<usize>();
        let mut s = String::with_capacity(self.0.len() + len);
        s.push_str(&self.0);
        for k in keys {
            s.push('/');
            s.push_str(&escape(k));
        }
        Pointer(s)
    }

    /// This pointer with an index appended.
    pub fn idx(&self, index: usize) -> Pointer {
        use std::fmt::Write;
        let mut s = String::with_capacity(self.0.len() + 4);
        s.push_str(&self.0);
        let _ = write!(s, "/{index}");
        Pointer(s)
    }

    /// The pointer text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod pointer_tests {
    use super::*;

    #[test]
    fn pointers_escape_keys_and_append_indices() {
        let p = Pointer::root().keys(&["spec", "a/b"]).idx(12).key("x~y");
        assert_eq!(p.as_str(), "/spec/a~1b/12/x~0y");
        assert_eq!(Pointer::parse("/a").keys(&[]).as_str(), "/a");
        let mut doc = Node::new(Value::Map(vec![Entry {
            key: "a/b".into(),
            key_span: Span::default(),
            value: Node::new(Value::Seq(vec![Node::new(Value::Int(7))])),
        }]));
        doc.span = Span::point(1, 1);
        let at = Pointer::root().keys(&["a/b"]).idx(0);
        assert_eq!(
            doc.pointer(at.as_str()).map(|n| &n.value),
            Some(&Value::Int(7))
        );
    }
}
