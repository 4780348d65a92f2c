//! YAML (and JSON) text to [`Node`] trees with spans, on `saphyr-parser`'s
//! event stream: every node keeps its line and column, aliases are expanded
//! within a budget (so an alias bomb is an error, not an out-of-memory kill),
//! nesting depth is bounded, and YAML 1.1 merge keys (`<<`) are honoured as
//! Kubernetes' own YAML reader does.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};

mod fast;

use crate::node::{CompactString, Entry, Node, Span, Value};

/// Limits on what one YAML stream may expand to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Nodes that aliases may add to one document, in all.
    pub alias_nodes: usize,
    /// Deepest nesting of mappings and sequences.
    pub depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            alias_nodes: 100_000,
            depth: 200,
        }
    }
}

/// A document parsed from a stream.
#[derive(Clone, Debug)]
pub struct Document {
    /// The root node.
    pub root: Node,
    /// Index of the document in its stream (0-based).
    pub index: usize,
    /// What was read but is suspect: keys written twice in one mapping
    /// (each at the occurrence that is ignored). The first
    /// [`KEPT_WARNINGS`] only: the others are counted in `more_warnings`,
    /// so that 200,000 repeated keys cost a count, not 200,000 messages.
    pub warnings: Vec<SyntaxError>,
    /// Warnings past the first [`KEPT_WARNINGS`], counted.
    pub more_warnings: usize,
}

/// How many warnings a document keeps one by one.
pub const KEPT_WARNINGS: usize = 5;

/// A syntax error, or a limit hit, at a place in the text.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    /// What went wrong.
    pub message: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

fn span(s: &YSpan) -> Span {
    Span {
        line: s.start.line() as u32,
        col: s.start.col() as u32 + 1,
        end_line: s.end.line() as u32,
        end_col: s.end.col() as u32 + 1,
    }
}

/// An open collection: where its children start on the shared scratch stack
/// (so that each finished collection is allocated once, at its exact size),
/// its span and its anchor.
enum Frame {
    Seq(usize, Span, usize),
    Map(usize, Span, usize, Option<(CompactString, Span)>),
}

/// Parses every document of a stream. Documents before a syntax error are
/// returned; the error ends the stream (YAML cannot be resynchronised).
///
/// Most manifests are read by a fast line-by-line parser (`fast`); a
/// stream it does not take (anchors, tags, multi-line scalars, any error...)
/// is read by [`parse_stream_events`], which gives the same trees.
pub fn parse_stream(text: &str, limits: Limits) -> (Vec<Document>, Option<SyntaxError>) {
    match fast::parse(text, limits) {
        Some(docs) => (docs, None),
        None => parse_stream_events(text, limits),
    }
}

/// The fast parser alone: `None` where it leaves the stream to
/// [`parse_stream_events`]. For differential tests and fuzzing.
#[doc(hidden)]
pub fn parse_stream_fast(text: &str, limits: Limits) -> Option<Vec<Document>> {
    fast::parse(text, limits)
}

/// Where the fast parser gave up on a stream (line and column, 1-based;
/// 0 for the whole text), or `None` if it took it. For finding what it
/// should learn next.
#[doc(hidden)]
pub fn fast_parser_stop(text: &str, limits: Limits) -> Option<(u32, u32)> {
    fast::parse_or_stop(text, limits).err()
}

/// A whole-stream parser: the documents, and the first syntax error.
pub type StreamParser = fn(&str, Limits) -> (Vec<Document>, Option<SyntaxError>);

/// The two ways a stream is parsed, by name, for benchmarks and throughput
/// checks: the event parser alone, and [`parse_stream`] (the fast parser
/// first).
#[doc(hidden)]
pub const PARSERS: [(&str, StreamParser); 2] = [
    ("events", parse_stream_events),
    ("fast-first", parse_stream),
];

/// Every `*.yaml` and `*.yml` file under a directory (walked as `load`
/// walks, `.gitignore` aware) with its text; unreadable files are left
/// out. For the parser examples and the corpus tests.
#[doc(hidden)]
pub fn yaml_texts(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    ignore::WalkBuilder::new(dir)
        .build()
        .flatten()
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml")
        })
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            Some((e.into_path(), text))
        })
        .collect()
}

/// A stream parsed with the places of its comments.
#[derive(Debug)]
pub struct Parsed {
    /// The documents before the first syntax error.
    pub docs: Vec<Document>,
    /// The first syntax error.
    pub error: Option<SyntaxError>,
    /// The byte offset of the `#` of every comment, in order. Only real
    /// comments: a `#` inside a scalar (a quoted or block string, a plain
    /// scalar) is not one. In the document a syntax error breaks, and
    /// after it, nothing counts as a comment.
    pub comments: Vec<usize>,
}

/// [`parse_stream`], with the places of the comments. The fast parser
/// records the comments it skips; for the streams it leaves to the event
/// parser, a comment is a `#` at the start of a line or after a blank that
/// no scalar of the event stream covers (a quoted scalar covering up to
/// its closing quote). The two agree (tests and the `yaml` fuzz target).
pub fn parse_stream_with_comments(text: &str, limits: Limits) -> Parsed {
    if let Ok((docs, comments)) = fast::parse_with_comments(text, limits) {
        return Parsed {
            docs,
            error: None,
            comments,
        };
    }
    parse_events_with_comments(text, limits)
}

/// The event parser's half of [`parse_stream_with_comments`].
#[doc(hidden)]
pub fn parse_events_with_comments(text: &str, limits: Limits) -> Parsed {
    let mut scalars = Vec::new();
    let (docs, error) = events(text, limits, Some(&mut scalars));
    // A syntax error breaks its whole document: only the comments of the
    // documents before it count.
    let limit = error.as_ref().map(|_| {
        docs.last()
            .map_or((1, 0), |d| (d.root.span.end_line as usize + 1, 0))
    });
    let comments = comments_outside(text, &scalars, limit);
    Parsed {
        docs,
        error,
        comments,
    }
}

/// The fast parser's half of [`parse_stream_with_comments`]: `None` where
/// it leaves the stream to the event parser.
#[doc(hidden)]
pub fn parse_fast_with_comments(text: &str, limits: Limits) -> Option<Parsed> {
    fast::parse_with_comments(text, limits)
        .ok()
        .map(|(docs, comments)| Parsed {
            docs,
            error: None,
            comments,
        })
}

/// A scalar of the event stream: where it starts and ends (line 1-based,
/// column 0-based in characters) and whether it is quoted.
struct ScalarAt {
    start: (usize, usize),
    end: (usize, usize),
    quoted: bool,
}

/// Byte offsets of lines, to turn (line, column in characters) into bytes.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines { text, starts }
    }

    fn byte(&self, (line, col): (usize, usize)) -> usize {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        rest.char_indices()
            .nth(col)
            .map_or(self.text.len(), |(i, _)| start + i)
    }
}

/// Where a quoted scalar whose event starts at `from` (at its quote, or at
/// an anchor or tag before it) ends: after its closing quote.
fn quoted_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        match *b.get(i)? {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'&' | b'!' => {
                while !matches!(b.get(i), None | Some(b' ' | b'\t' | b'\n' | b'\r')) {
                    i += 1;
                }
            }
            b'"' | b'\'' => break,
            _ => return None,
        }
    }
    let q = b[i];
    i += 1;
    loop {
        match *b.get(i)? {
            b'\\' if q == b'"' => i += 2,
            b'\'' if q == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 2,
            c if c == q => return Some(i + 1),
            _ => i += 1,
        }
    }
}

fn comments_outside(text: &str, scalars: &[ScalarAt], limit: Option<(usize, usize)>) -> Vec<usize> {
    let b = text.as_bytes();
    if !b.contains(&b'#') {
        return Vec::new();
    }
    let lines = Lines::new(text);
    let mut covered: Vec<(usize, usize)> = scalars
        .iter()
        .map(|s| {
            let start = lines.byte(s.start);
            let end = if s.quoted {
                quoted_end(b, start).unwrap_or_else(|| lines.byte(s.end))
            } else {
                lines.byte(s.end)
            };
            (start, end.max(start))
        })
        .collect();
    covered.sort_unstable();
    let limit = limit.map_or(b.len(), |at| lines.byte(at));
    let mut out = Vec::new();
    let mut k = 0;
    // The furthest end of the scalars that start before the candidate.
    let mut reach = 0;
    // The end of the line of the last comment: a `#` before it is part of
    // that comment.
    let mut in_comment = 0;
    for (i, _) in b[..limit].iter().enumerate().filter(|(_, c)| **c == b'#') {
        if i < in_comment || i > 0 && !matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'\r') {
            continue;
        }
        while k < covered.len() && covered[k].0 <= i {
            reach = reach.max(covered[k].1);
            k += 1;
        }
        if i >= reach {
            out.push(i);
            in_comment = b[i..]
                .iter()
                .position(|c| *c == b'\n')
                .map_or(b.len(), |n| i + n);
        }
    }
    out
}

/// [`parse_stream`] on `saphyr-parser`'s event stream: all of YAML 1.2, with
/// its error messages.
pub fn parse_stream_events(text: &str, limits: Limits) -> (Vec<Document>, Option<SyntaxError>) {
    events(text, limits, None)
}

/// [`parse_stream_events`], noting every scalar event's place in `scalars`
/// when asked (keys and the values of keys written twice included).
/// The event parser reads the end of the stream as a line break: a block
/// scalar that runs to the end of a text without a final line break gets
/// line breaks that are not there. YAML 1.2 (and go-yaml) keep, under clip
/// chomping (`|`), the final line break only if the text has one, and
/// under keep chomping (`|+`) exactly the breaks the text has: the value's
/// trailing breaks are recounted from the text. `start` and `end` are the
/// character indices of the scalar's content; `chars` caches the number of
/// characters of the text (counted once per stream, not per scalar).
fn chomp_at_end<'a>(
    value: Cow<'a, str>,
    src: &str,
    start: usize,
    end: usize,
    chars: &mut Option<usize>,
) -> Cow<'a, str> {
    if src.ends_with('\n') || !value.ends_with('\n') {
        return value;
    }
    // The scalar must run to the end of the text (a comment after it ends
    // it earlier).
    let len = *chars.get_or_insert_with(|| src.chars().count());
    if end < len {
        return value;
    }
    // The header is the last line before the first content line (the
    // lines between are empty); its indicators follow the `|` or `>`.
    let before: String = src.chars().take(start).collect();
    let header = before
        .trim_end_matches([' ', '\n'])
        .rsplit('\n')
        .next()
        .unwrap_or("");
    let header = header.split(" #").next().unwrap_or(header);
    let keep = header
        .rfind(['|', '>'])
        .is_some_and(|i| header[i..].contains('+'));
    let tail = src.trim_end_matches([' ', '\n']);
    let breaks = src[tail.len()..].matches('\n').count();
    let want = if keep { breaks } else { breaks.min(1) };
    let content = value.trim_end_matches('\n');
    let mut out = String::with_capacity(content.len() + want);
    out.push_str(content);
    out.extend(std::iter::repeat_n('\n', want));
    Cow::Owned(out)
}

fn events(
    text: &str,
    limits: Limits,
    mut scalars: Option<&mut Vec<ScalarAt>>,
) -> (Vec<Document>, Option<SyntaxError>) {
    let mut docs = Vec::new();
    let src = text;
    let mut src_chars = None;
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut seq_items: Vec<Node> = Vec::new();
    let mut map_entries: Vec<Entry> = Vec::new();
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut alias_budget = limits.alias_nodes;
    let mut root: Option<Node> = None;
    let mut index = 0usize;
    let mut warnings: Vec<SyntaxError> = Vec::new();
    let mut more_warnings = 0usize;

    let err = |message: String, s: &YSpan| SyntaxError {
        message,
        line: s.start.line() as u32,
        col: s.start.col() as u32 + 1,
    };

    while let Some(next) = parser.next_event() {
        let (event, ys) = match next {
            Ok(ev) => ev,
            Err(e) => {
                return (
                    docs,
                    Some(SyntaxError {
                        message: if e.info().contains("recursion limit") {
                            format!("nesting too deep ({})", e.info())
                        } else {
                            e.info().to_string()
                        },
                        line: e.marker().line() as u32,
                        col: e.marker().col() as u32 + 1,
                    }),
                )
            }
        };
        let completed: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                stack.clear();
                seq_items.clear();
                map_entries.clear();
                warnings.clear();
                more_warnings = 0;
                anchors.clear();
                alias_budget = limits.alias_nodes;
                root = None;
                None
            }
            Event::DocumentEnd => {
                if let Some(node) = root.take() {
                    docs.push(Document {
                        root: node,
                        index,
                        warnings: std::mem::take(&mut warnings),
                        more_warnings: std::mem::take(&mut more_warnings),
                    });
                }
                index += 1;
                None
            }
            Event::Scalar(text, style, anchor, tag) => {
                let sp = span(&ys);
                if let Some(list) = scalars.as_deref_mut() {
                    list.push(ScalarAt {
                        start: (ys.start.line(), ys.start.col()),
                        end: (ys.end.line(), ys.end.col()),
                        quoted: matches!(
                            style,
                            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
                        ),
                    });
                }
                let text = if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    chomp_at_end(text, src, ys.start.index(), ys.end.index(), &mut src_chars)
                } else {
                    text
                };
                let value = if style == ScalarStyle::Plain && tag.is_none() {
                    resolve_plain(&text)
                } else {
                    match tag.as_deref() {
                        Some(t) if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" => {
                            match t.suffix.as_str() {
                                "int" | "float" | "bool" | "null" => resolve_plain(&text),
                                _ => Value::Str(CompactString::new(&text)),
                            }
                        }
                        _ => Value::Str(CompactString::new(&text)),
                    }
                };
                Some((Node { value, span: sp }, anchor))
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some((node, count)) => {
                    if *count > alias_budget {
                        return (
                            docs,
                            Some(err(
                                format!(
                                    "aliases expand to more than {} nodes (a YAML alias bomb?)",
                                    limits.alias_nodes
                                ),
                                &ys,
                            )),
                        );
                    }
                    alias_budget -= count;
                    let mut n = node.clone();
                    n.span = span(&ys);
                    Some((n, 0))
                }
                None => return (docs, Some(err("unknown alias".into(), &ys))),
            },
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= limits.depth => {
                return (
                    docs,
                    Some(err(
                        format!("nesting deeper than {} levels", limits.depth),
                        &ys,
                    )),
                );
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(seq_items.len(), span(&ys), anchor));
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(map_entries.len(), span(&ys), anchor, None));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(start, mut sp, anchor)) => {
                    let items: Vec<Node> = seq_items.drain(start..).collect();
                    let end = span(&ys);
                    sp.end_line = end.end_line;
                    sp.end_col = end.end_col;
                    if let Some(last) = items.last() {
                        if (last.span.end_line, last.span.end_col) > (sp.end_line, sp.end_col) {
                            sp.end_line = last.span.end_line;
                            sp.end_col = last.span.end_col;
                        }
                    }
                    Some((
                        Node {
                            value: Value::Seq(items),
                            span: sp,
                        },
                        anchor,
                    ))
                }
                _ => return (docs, Some(err("unbalanced sequence".into(), &ys))),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(start, mut sp, anchor, _)) => {
                    let entries: Vec<Entry> = map_entries.drain(start..).collect();
                    let end = span(&ys);
                    sp.end_line = end.end_line;
                    sp.end_col = end.end_col;
                    if let Some(last) = entries.last() {
                        let l = &last.value.span;
                        if (l.end_line, l.end_col) > (sp.end_line, sp.end_col) {
                            sp.end_line = l.end_line;
                            sp.end_col = l.end_col;
                        }
                    }
                    Some((
                        Node {
                            value: Value::Map(merge_keys(last_key_wins(
                                entries,
                                &mut warnings,
                                &mut more_warnings,
                            ))),
                            span: sp,
                        },
                        anchor,
                    ))
                }
                _ => return (docs, Some(err("unbalanced mapping".into(), &ys))),
            },
        };
        if let Some((node, anchor)) = completed {
            if anchor != 0 {
                let count = node.count();
                anchors.insert(anchor, (node.clone(), count));
            }
            match stack.last_mut() {
                None => root = Some(node),
                Some(Frame::Seq(..)) => seq_items.push(node),
                Some(Frame::Map(_, _, _, pending)) => match pending.take() {
                    None => {
                        let key = key_of(node.value);
                        *pending = Some((key, node.span));
                    }
                    Some((key, key_span)) => map_entries.push(Entry {
                        key,
                        key_span,
                        value: node,
                    }),
                },
            }
        }
    }
    if let Some(node) = root.take() {
        docs.push(Document {
            root: node,
            index,
            warnings,
            more_warnings,
        });
    }
    (docs, None)
}

/// A mapping key as text: non-string scalar keys are written as their
/// value's text.
fn key_of(v: Value) -> CompactString {
    match v {
        Value::Str(s) => s,
        Value::Null => CompactString::const_new("null"),
        other => scalar_key(&other),
    }
}

fn scalar_key(v: &Value) -> CompactString {
    use compact_str::ToCompactString;
    match v {
        Value::Bool(b) => b.to_compact_string(),
        Value::Int(i) => i.to_compact_string(),
        Value::Float(f) => f.to_compact_string(),
        Value::Str(s) => s.clone(),
        _ => CompactString::const_new("<complex key>"),
    }
}

/// A key written twice in one mapping: the last one wins, as in the API
/// server's JSON decoding and in the typed views (serde), so that a pointer
/// and a typed view read the same value (a workload's container pointers
/// resolved into the first `containers` while its typed spec held the last).
fn last_key_wins(
    mut entries: Vec<Entry>,
    warnings: &mut Vec<SyntaxError>,
    more_warnings: &mut usize,
) -> Vec<Entry> {
    let dup = if entries.len() <= 16 {
        // Most mappings are small: compare pairwise, without allocating.
        entries
            .iter()
            .enumerate()
            .any(|(i, e)| e.key != "<<" && entries[i + 1..].iter().any(|later| later.key == e.key))
    } else {
        let mut seen = std::collections::HashSet::with_capacity(entries.len());
        !entries
            .iter()
            .filter(|e| e.key != "<<")
            .all(|e| seen.insert(e.key.as_str()))
    };
    if !dup {
        return entries;
    }
    // Where each key is written last: that entry is kept.
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if e.key != "<<" {
            last.insert(e.key.as_str(), i);
        }
    }
    let keep: Vec<bool> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| e.key == "<<" || last[e.key.as_str()] == i)
        .collect();
    for (e, _) in entries.iter().zip(&keep).filter(|(_, k)| !**k) {
        if warnings.len() >= KEPT_WARNINGS {
            *more_warnings += 1;
            continue;
        }
        let kept = &entries[last[e.key.as_str()]];
        warnings.push(SyntaxError {
            message: format!(
                "key `{}` is written again on line {}: that value is used and this one ignored (with strict field validation, kubectl's default, the API server rejects a duplicate field)",
                e.key, kept.key_span.line
            ),
            line: e.key_span.line,
            col: e.key_span.col,
        });
    }
    drop(last);
    let mut keep = keep.into_iter();
    entries.retain(|_| keep.next().unwrap_or(true));
    entries
}

/// Applies YAML 1.1 merge keys: entries of `<<: *a` (or `<<: [*a, *b]`) are
/// added where the mapping does not set the key itself.
fn merge_keys(entries: Vec<Entry>) -> Vec<Entry> {
    if !entries.iter().any(|e| e.key == "<<") {
        return entries;
    }
    let mut own: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut merged: Vec<Entry> = Vec::new();
    for e in entries {
        if e.key == "<<" {
            match e.value.value {
                Value::Map(m) => merged.extend(m),
                Value::Seq(items) => {
                    for item in items {
                        if let Value::Map(m) = item.value {
                            merged.extend(m);
                        }
                    }
                }
                _ => {}
            }
        } else {
            own.push(e);
        }
    }
    for m in merged {
        if !own.iter().any(|e| e.key == m.key) {
            own.push(m);
        }
    }
    own
}

/// Resolves a plain scalar with the YAML 1.2 core schema.
pub fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let b = text.as_bytes();
    let first = b[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return Value::Str(CompactString::new(text));
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Int(i);
        }
    }
    if b.iter()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || (i == 0 && (*c == b'-' || *c == b'+')))
    {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
    }
    let numeric = b
        .iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
        && b.iter().any(|c| c.is_ascii_digit());
    if numeric {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(CompactString::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_types() {
        let (docs, err) = parse_stream(
            "a: 1\nb:\n  - x\n  - \"2\"\nc: true\n---\nd: ~\n",
            Limits::default(),
        );
        assert!(err.is_none());
        assert_eq!(docs.len(), 2);
        let r = &docs[0].root;
        assert_eq!(r.get("a").unwrap().value, Value::Int(1));
        assert_eq!(r.get("c").unwrap().value, Value::Bool(true));
        let b = r.get("b").unwrap();
        assert_eq!(b.items()[1].value, Value::Str("2".into()));
        assert_eq!(b.items()[1].span.line, 4);
        assert_eq!(b.items()[1].span.col, 5);
        assert_eq!(r.entry("c").unwrap().key_span.line, 5);
        assert!(docs[1].root.get("d").unwrap().is_null());
    }

    #[test]
    fn alias_bomb_is_an_error() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let (_, err) = parse_stream(&s, Limits::default());
        assert!(err.unwrap().message.contains("alias"));
    }

    #[test]
    fn merge_keys_apply() {
        let (docs, _) = parse_stream(
            "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n",
            Limits::default(),
        );
        let d = docs[0].root.get("d").unwrap();
        assert_eq!(d.get("x").unwrap().value, Value::Int(1));
        assert_eq!(d.get("y").unwrap().value, Value::Int(3));
    }

    /// The fast parser, where it takes a stream, gives exactly what the
    /// event parser gives: trees, spans, document indexes and warnings.
    fn same_as_events(text: &str) -> bool {
        let Some(fast) = parse_stream_fast(text, Limits::default()) else {
            return false;
        };
        let (slow, err) = parse_stream_events(text, Limits::default());
        assert!(
            err.is_none(),
            "fast parser took a stream with an error: {err:?}\n{text}"
        );
        let fast_comments = parse_fast_with_comments(text, Limits::default())
            .map(|p| p.comments)
            .unwrap_or_default();
        let slow_comments = parse_events_with_comments(text, Limits::default()).comments;
        assert_eq!(
            fast_comments, slow_comments,
            "the parsers find different comments in:\n{text}"
        );
        let same = fast.len() == slow.len()
            && fast.iter().zip(&slow).all(|(f, s)| {
                f.root == s.root
                    && f.index == s.index
                    && f.warnings == s.warnings
                    && f.more_warnings == s.more_warnings
            });
        let (f, s) = if same {
            Default::default()
        } else {
            (format!("{fast:#?}"), format!("{slow:#?}"))
        };
        if f != s {
            let (fl, sl): (Vec<&str>, Vec<&str>) = (f.lines().collect(), s.lines().collect());
            let i = fl
                .iter()
                .zip(&sl)
                .position(|(a, b)| a != b)
                .unwrap_or(fl.len().min(sl.len()));
            let lo = i.saturating_sub(12);
            panic!(
                "fast and event parsers differ at line {i} of their trees:\nfast:\n{}\nevents:\n{}\ntext:\n{text}",
                fl[lo..(i + 3).min(fl.len())].join("\n"),
                sl[lo..(i + 3).min(sl.len())].join("\n")
            );
        }
        true
    }

    #[test]
    fn the_fast_parser_agrees_with_the_event_parser() {
        let taken = [
            "a: 1\nb:\n  c: \"x\"   # com\n  d:\n  - p\n  - q: 1\n    r: 2\n\n# trailing\ne: |\n  lit\n  two\n\nf: >-\n  fold\n  ed\ng: [1, \"a\", {k: v}]\nh: {}\n---\n- x\n- - y\n",
            "a: \"x\"\nb: \"x\"  \nc: \"x\" # c\nd: 'y'  # zz\ne: \"a\\\"b\"\nf: plain  # c\ng: plain x  \nh: \"\u{e9}x\"  # c\n",
            "# c\n---\na:\nb:   # x\n  # y\nc:\n- \n-\n- a: \n  b: x\nd: \"k\"\n\"q\" : 1\n---\n---\n# only\n---\nz\n",
            "a: 1\n---\n",
            "k: |+\n  keep\n\n\nl: >\n  a\n  b\n\n  c\n   more\n  d\nm: |-\n  x\n    y\n  # not a comment\n# a comment\nn: 'it''s'\n",
            "\u{e9}t\u{e9}: caf\u{e9} # \u{e9}\nlist: [\"\u{e9}\", b]\n",
            "a:\n- x\n-\n  b: 1\n- # c\n  - y\nc: 1.0\n1: one\ntrue: t\n~: n\n\"0x10\": 0x10\nd: -1\ne: .inf\n",
            "a: 1\na: 2\nb: {x: 1, x: 2}\n",
            "",
            "# nothing\n",
            "---\n",
            "x\n",
            "a: b\n",
            "d: plain that\n  goes on\n\n  and on\nl:\n- item\n  more\n- x\ne: :8081\n",
            "d: 'single that\n   goes on '' here\n\n\n   and on'\nq: \"a \\t\n  b\"  # c\n",
            "args: [\"--a=1\",\n  \"--b\",  # why\n  c, {k: v}\n  ]\nn: 1\n",
            "a: [[x] , y]\nb: 1\nc: [x, y , ]\n",
            "a: b\n  c\n",
            "\u{e9}: [\"\u{e9}\", \u{e9}, {k: \u{e9}\u{e9}}, x]  # \u{e9}\nb: '\u{e9}\n  \u{e9}' # \u{e9}\nc: \u{e9} \u{e9}\n  \u{e9}\n",
            // Anchored scalars and their aliases (KubeRay's history server
            // samples name a path once so).
            "a: &x /tmp/ray\nb: *x\nc:\n  - &y 'q'  # c\n  - *y\n  - *x   \nd: &z   \"w\" \ne: *z # k\n",
            "a: &n 1\nb: *n\nc: &n two\nd: *n\n---\ne: &n 3\nf: *n\n",
            "- &a b\n- *a\n-\n  *a\n",
            "k:\n  &p plain\n  folded\nl: *p\nm:\n- &q \"x\"\n- *p\n",
            "\u{e9}: &x \u{e9}\u{e9} # \u{e9}\nb: *x\n",
        ];
        for text in taken {
            assert!(same_as_events(text), "the fast parser gave up on:\n{text}");
        }
        // Left to the event parser (errors among them).
        let left = [
            "a: &x\n  b: 1\nc: *x\n",
            "a: &x [1]\nb: *x\n",
            "- &x\n  - 1\n",
            "&k a: 1\n",
            "- &k a: 1\n",
            "a: &x 1\nb: [*x]\n",
            "a: &x 1\n*x : 2\n",
            "a: *x\n",
            "a: &x 1\n---\nb: *x\n",
            "a: &x 1\nb: *x c\n",
            "a: &x|y 1\n",
            "a: &\u{e9} 1\n",
            "a: &x\n",
            "a: !!str 1\n",
            "a: b: c\n",
            "a:\tb\n",
            "a: \"x\ny\"\n",
            "a: [1,\n2]\n",
            "a: b # c\n  d\n",
            "a: b\n  c: d\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n...\n",
            "a: |2\n   x\n",
            "a: |\nb: 1\n",
            "? a\n: b\n",
            "- a\nb: 1\n",
            "a:\n  - x\n - y\n",
            "a: 1\r\n",
            // Found by the yaml fuzz target: the event parser ends this
            // mapping at its trailing comma.
            "b: {k: v,}\n",
            "[G|- -,]\n",
            "a: [x -]\n",
            // A simple key is at most 1,024 characters long (fuzz).
            &format!("\"{}\": 1\n", "k".repeat(1100)),
            &format!("{{\"{}\": 1}}\n", "k".repeat(1100)),
        ];
        for text in left {
            assert!(
                parse_stream_fast(text, Limits::default()).is_none(),
                "{text}"
            );
        }
    }

    /// Every corpus file: the same trees from both parsers, and how many
    /// the fast one takes.
    #[test]
    fn the_fast_parser_agrees_on_the_corpus() {
        let corpus =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
        if !corpus.is_dir() {
            eprintln!("skipped: {} is absent", corpus.display());
            return;
        }
        let (mut files, mut taken) = (0, 0);
        for (p, text) in yaml_texts(&corpus) {
            files += 1;
            if same_as_events(&text) {
                taken += 1;
            } else if std::env::var_os("ML_AUDIT_SHOW_REFUSED").is_some() {
                eprintln!("refused: {}", p.display());
            }
        }
        eprintln!("fast parser took {taken} of {files} corpus files");
        assert!(taken * 10 >= files * 9, "{taken} of {files}");
    }

    /// Block scalars at the end of a stream chomp as go-yaml (YAML 1.2)
    /// does: clip (`|`) keeps the final line break only if the text has
    /// one, strip (`|-`) never, keep (`|+`) every trailing break there is.
    #[test]
    fn block_scalar_chomping_at_the_end_of_the_stream() {
        let cases = [
            ("a: |\n  x", "x"),
            ("a: |\n  x\n", "x\n"),
            ("a: |\n  x\n\n", "x\n"),
            ("a: |\n  x\n  y", "x\ny"),
            ("a: |-\n  x", "x"),
            ("a: |-\n  x\n", "x"),
            ("a: |+\n  x", "x"),
            ("a: |+\n  x\n", "x\n"),
            ("a: |+\n  x\n\n", "x\n\n"),
            ("a: >\n  x\n  y", "x y"),
            ("a: >\n  x\n  y\n", "x y\n"),
            ("a: |\n  x\n  ", "x\n"),
            ("a: |\n  x\n\n  ", "x\n"),
            ("a: |+\n  x\n\n  ", "x\n\n"),
            ("- |\n  x", "x"),
            ("a:\n  b: |\n    x\n    y", "x\ny"),
            ("a: |\n  x\n  # y", "x\n# y"),
            ("a: |\n  x\n# y", "x\n"),
            ("a: |+\n  x\n\n# y", "x\n\n"),
            ("a: |\n  \u{e9}\n  \u{e9}", "\u{e9}\n\u{e9}"),
        ];
        for (text, want) in cases {
            for (name, parse) in PARSERS {
                let (docs, err) = parse(text, Limits::default());
                assert!(err.is_none(), "{name}: {text:?}: {err:?}");
                fn first_str(n: &Node) -> Option<&str> {
                    match &n.value {
                        Value::Str(s) => Some(s.as_str()),
                        Value::Seq(items) => items.iter().find_map(first_str),
                        Value::Map(es) => es.iter().find_map(|e| first_str(&e.value)),
                        _ => None,
                    }
                }
                let got = first_str(&docs[0].root);
                assert_eq!(got, Some(want), "{name}: {text:?}");
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let s = "[".repeat(5000) + &"]".repeat(5000);
        let (_, err) = parse_stream(&s, Limits::default());
        assert!(err.unwrap().message.contains("nesting"));
    }
}
