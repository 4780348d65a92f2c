//! A fast path for the YAML that manifests are written in: block mappings and
//! sequences, plain and quoted one-line scalars, literal and folded block
//! scalars, one-line flow collections, comments, and anchored scalars with
//! their aliases. It builds the same [`Node`] trees, spans included, as the
//! event parser in the parent module, several times faster, because it
//! reads the text once, line by line, instead of scanning tokens, then
//! events, then building.
//!
//! It gives up (returns `None`) on everything else, and on every error, so
//! that the event parser reads those streams and reports their errors: tabs,
//! carriage returns, anchored collections and keys, aliases as keys or in
//! flow collections, tags, directives, `?` keys, multi-line plain or quoted
//! scalars, multi-line flow collections, explicit indentation indicators,
//! empty block scalars and `...`. Where it accepts a stream, it
//! gives what the event parser gives; the tests and the `yaml` fuzz target
//! compare the two.

use std::collections::HashMap;

use super::{key_of, last_key_wins, merge_keys, resolve_plain, Document, Limits, SyntaxError};
use crate::node::{CompactString, Entry, Node, Span, Value};

/// Parses a stream, or returns `None` where the event parser must.
pub(super) fn parse(text: &str, limits: Limits) -> Option<Vec<Document>> {
    parse_or_stop(text, limits).ok()
}

/// [`parse`], or the line and column where it gave up (1-based).
pub(super) fn parse_or_stop(text: &str, limits: Limits) -> Result<Vec<Document>, (u32, u32)> {
    parse_with_comments(text, limits).map(|(docs, _)| docs)
}

/// [`parse_or_stop`], with the byte offset of the `#` of every comment
/// (in order): the comments are exactly what the parser skipped as such,
/// never a `#` inside a scalar.
pub(super) fn parse_with_comments(
    text: &str,
    limits: Limits,
) -> Result<(Vec<Document>, Vec<usize>), (u32, u32)> {
    // One pass over the text, 64 bytes at a time without a branch per byte
    // (so that it vectorizes): a byte the fast path leaves to the event
    // parser, and whether every byte is ASCII.
    let mut ascii = true;
    for chunk in text.as_bytes().chunks(64) {
        let (mut refused, mut high) = (0u8, 0u8);
        for &c in chunk {
            // Bytes, not bools: LLVM vectorizes this form (about 4x faster
            // than `any` then `is_ascii` on 138 MB; with bools it did not).
            refused |= u8::from(c == b'\t')
                | u8::from(c == b'\r')
                | u8::from(c == 0)
                | u8::from(c == 0xEF);
            high |= c;
        }
        if refused != 0 {
            // 0xEF: the first byte of a byte-order mark (and of some other
            // characters, which are rare enough to leave to the event parser).
            return Err((0, 0));
        }
        ascii &= high < 0x80;
    }
    if let Some(last) = text.rsplit('\n').next().map(str::trim_start) {
        if text.len() > last.len()
            && (last.is_empty() || last.starts_with('#'))
            && !text.ends_with('\n')
        {
            // Blanks or a comment after the last line break: the event
            // parser ends the blocks indented deeper than them there, the
            // others on the line after.
            return Err((0, 0));
        }
    }
    let mut p = P {
        b: text.as_bytes(),
        text,
        pos: 0,
        line: 1,
        line_start: 0,
        ascii,
        col_cache: std::cell::Cell::new((usize::MAX, 0, 0)),
        depth: 0,
        flow_level: 0,
        max_depth: limits.depth,
        items: Vec::new(),
        entries: Vec::new(),
        warnings: Vec::new(),
        more_warnings: 0,
        anchors: HashMap::new(),
        alias_budget: limits.alias_nodes,
        alias_nodes: limits.alias_nodes,
        comments: Vec::new(),
    };
    match p.stream() {
        Some(docs) => {
            let mut comments = std::mem::take(&mut p.comments);
            comments.sort_unstable();
            comments.dedup();
            Ok((docs, comments))
        }
        None => {
            let at = p.mark();
            Err((at.0, at.1 + 1))
        }
    }
}

/// A position as the event parser gives it: 1-based line, 0-based column.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
struct Mark(u32, u32);

fn span(start: Mark, end: Mark) -> Span {
    Span {
        line: start.0,
        col: start.1 + 1,
        end_line: end.0,
        end_col: end.1 + 1,
    }
}

/// Where a plain scalar stops.
#[derive(PartialEq)]
enum Stop {
    /// At the end of the line or at a comment.
    Line,
    /// At `: ` (or `:` at the end of the line): the scalar is a key.
    Key,
    /// At a flow indicator (`,`, `[`, `]`, `{`, `}`), in a flow collection.
    Flow,
}

struct P<'a> {
    b: &'a [u8],
    text: &'a str,
    pos: usize,
    /// 1-based line of `pos`.
    line: u32,
    /// Byte offset where that line starts.
    line_start: usize,
    /// Columns are byte offsets when the text is ASCII, else counted in
    /// characters.
    ascii: bool,
    /// The last column counted in characters: (line start, offset, column).
    col_cache: std::cell::Cell<(usize, usize, u32)>,
    depth: usize,
    max_depth: usize,
    flow_level: usize,
    /// Scratch stacks: the children of open collections, so that each
    /// finished collection is allocated once, at its size.
    items: Vec<Node>,
    entries: Vec<Entry>,
    warnings: Vec<SyntaxError>,
    /// Warnings past the ones kept, counted.
    more_warnings: usize,
    /// The document's anchored scalars by name, with their node counts.
    anchors: HashMap<&'a str, (Node, usize)>,
    /// Nodes that aliases may still add to the document.
    alias_budget: usize,
    alias_nodes: usize,
    /// Byte offsets of the comments skipped.
    comments: Vec<usize>,
}

fn blank_or_end(c: Option<&u8>) -> bool {
    matches!(c, None | Some(b' ') | Some(b'\n'))
}

impl<'a> P<'a> {
    fn peek(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(0)
    }

    fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn eol(&self) -> bool {
        matches!(self.b.get(self.pos), None | Some(b'\n'))
    }

    fn col_at(&self, pos: usize) -> u32 {
        if self.ascii {
            return (pos - self.line_start) as u32;
        }
        // Counted on from the last column asked for on this line, so that
        // a long line costs its length, not its length squared.
        let (line_start, from, col) = self.col_cache.get();
        let (from, col) = if line_start == self.line_start && from <= pos {
            (from, col)
        } else {
            (self.line_start, 0)
        };
        let col = col + self.text[from..pos].chars().count() as u32;
        self.col_cache.set((self.line_start, pos, col));
        col
    }

    fn mark(&self) -> Mark {
        Mark(self.line, self.col_at(self.pos))
    }

    /// Where the next token is, as the event parser marks the end of a
    /// block collection: the end of a text without a final line break
    /// counts as the start of the line after it.
    fn token_mark(&self) -> Mark {
        if self.eof() && self.pos != self.line_start {
            Mark(self.line + 1, 0)
        } else {
            self.mark()
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek() == b' ' {
            self.pos += 1;
        }
    }

    /// At a line break: moves past it and past every blank line after it,
    /// to the first non-space of the next line with content; returns how
    /// many line breaks it crossed.
    fn line_breaks(&mut self) -> usize {
        let mut breaks = 0;
        loop {
            self.newline();
            breaks += 1;
            self.skip_spaces();
            if self.peek() != b'\n' {
                return breaks;
            }
        }
    }

    fn skip_comment(&mut self) {
        if self.peek() == b'#' {
            self.comments.push(self.pos);
            self.pos += self.b[self.pos..]
                .iter()
                .position(|&c| c == b'\n')
                .unwrap_or(self.b.len() - self.pos);
        }
    }

    fn newline(&mut self) {
        self.pos += 1;
        self.line += 1;
        self.line_start = self.pos;
    }

    /// Skips spaces, comments and line breaks: `pos` ends at a token or at
    /// the end of the text.
    fn skip_to_token(&mut self) {
        loop {
            self.skip_spaces();
            self.skip_comment();
            if self.peek() == b'\n' {
                self.newline();
            } else {
                return;
            }
        }
    }

    /// Spaces, then a comment if one follows them (one written right after
    /// a token is an error: left to the event parser).
    fn skip_blanks_and_comment(&mut self) -> Option<()> {
        let before = self.pos;
        self.skip_spaces();
        if self.peek() == b'#' {
            if self.pos == before {
                return None;
            }
            self.skip_comment();
        }
        Some(())
    }

    /// After a value: spaces and a comment may end the line, nothing else.
    /// Then on to the next token.
    fn end_of_value(&mut self) -> Option<()> {
        self.skip_blanks_and_comment()?;
        if !self.eol() {
            return None;
        }
        self.skip_to_token();
        Some(())
    }

    /// `---` at the start of a line, followed by a blank or the end: a
    /// document marker. `...` gives up.
    fn doc_marker(&self) -> Option<bool> {
        if self.pos != self.line_start {
            return Some(false);
        }
        let rest = &self.b[self.pos..];
        if rest.len() >= 3 && blank_or_end(rest.get(3)) {
            if &rest[..3] == b"---" {
                return Some(true);
            }
            if &rest[..3] == b"..." {
                return None;
            }
        }
        Some(false)
    }

    /// A `- ` sequence entry at `pos`.
    fn dash_entry(&self) -> bool {
        self.peek() == b'-' && blank_or_end(self.b.get(self.pos + 1))
    }

    fn enter(&mut self) -> Option<()> {
        if self.depth >= self.max_depth {
            return None;
        }
        self.depth += 1;
        Some(())
    }

    fn stream(&mut self) -> Option<Vec<Document>> {
        let mut docs = Vec::new();
        self.skip_to_token();
        if self.eof() {
            return Some(docs);
        }
        let mut index = 0;
        loop {
            if self.doc_marker()? {
                self.pos += 3;
                self.end_of_value()?;
            }
            if self.peek() == b'%' {
                return None;
            }
            // Anchors and the alias budget are the document's own.
            self.anchors.clear();
            self.alias_budget = self.alias_nodes;
            let root = if self.eof() || self.doc_marker()? {
                let at = self.token_mark();
                let end = if self.eof() { at } else { Mark(at.0, at.1 + 3) };
                Node {
                    value: Value::Null,
                    span: span(at, end),
                }
            } else {
                let node = self.node(-1, Place::Line)?;
                if !(self.eof() || self.doc_marker()?) {
                    return None;
                }
                node
            };
            docs.push(Document {
                root,
                index,
                warnings: std::mem::take(&mut self.warnings),
                more_warnings: std::mem::take(&mut self.more_warnings),
            });
            index += 1;
            if self.eof() {
                return Some(docs);
            }
        }
    }

    /// The node whose first token is at `pos`, in a block whose indentation
    /// is `indent`. On return `pos` is at the next token.
    fn node(&mut self, indent: i32, place: Place) -> Option<Node> {
        let col = self.col_at(self.pos);
        match self.peek() {
            b'-' if blank_or_end(self.b.get(self.pos + 1)) => {
                if place == Place::AfterKey {
                    return None;
                }
                self.block_seq(col, false)
            }
            b'[' | b'{' => {
                let node = self.flow(indent)?;
                self.end_of_value()?;
                Some(node)
            }
            b'|' | b'>' => {
                if place == Place::Line || indent < 0 {
                    return None;
                }
                let node = self.block_scalar(indent as u32)?;
                self.skip_to_token();
                Some(node)
            }
            b'"' | b'\'' => {
                let start = self.pos;
                let begin = self.mark();
                let s = self.quoted(Some(indent))?;
                if self.peek() == b':' {
                    if place == Place::AfterKey || self.line != begin.0 {
                        return None;
                    }
                    self.pos = start;
                    return self.block_map(col);
                }
                let end = self.mark();
                if !self.eol() {
                    return None;
                }
                self.skip_to_token();
                Some(Node {
                    value: Value::Str(s),
                    span: span(begin, end),
                })
            }
            b'&' => {
                // An anchored scalar on this line. Anchored collections,
                // and anchored keys, are the event parser's.
                let begin = self.mark();
                self.pos += 1;
                let name = self.anchor_name()?;
                self.skip_spaces();
                let c = self.peek();
                if !(c == b'"' || c == b'\'' || plain_start(c, self.b.get(self.pos + 1), false)) {
                    return None;
                }
                let mut node = self.node(indent, place)?;
                if matches!(node.value, Value::Map(_) | Value::Seq(_)) {
                    return None;
                }
                // The event parser's span starts at the anchor.
                node.span.line = begin.0;
                node.span.col = begin.1 + 1;
                self.anchors.insert(name, (node.clone(), node.count()));
                Some(node)
            }
            b'*' => {
                let begin = self.mark();
                self.pos += 1;
                let name = self.anchor_name()?;
                let end = self.mark();
                let after = self.pos;
                self.skip_spaces();
                if self.peek() == b':' {
                    // An alias as a key.
                    return None;
                }
                self.pos = after;
                // An unknown alias and an alias bomb are errors that the
                // event parser reports.
                let (node, count) = self.anchors.get(name)?;
                if *count > self.alias_budget {
                    return None;
                }
                self.alias_budget -= count;
                let mut node = node.clone();
                node.span = span(begin, end);
                self.end_of_value()?;
                Some(node)
            }
            c if !plain_start(c, self.b.get(self.pos + 1), false) => None,
            _ => {
                let (end, stop, _) = self.plain_extent(self.pos, false);
                if stop == Stop::Key {
                    if place == Place::AfterKey {
                        return None;
                    }
                    return self.block_map(col);
                }
                let begin = self.mark();
                let first = &self.text[self.pos..end];
                self.pos = end;
                let folded = if indent >= 0 {
                    self.plain_continuation(indent as u32, first)?
                } else {
                    None
                };
                let value = resolve_plain(folded.as_deref().unwrap_or(first));
                let node = Node {
                    value,
                    span: span(begin, self.mark()),
                };
                self.end_of_value()?;
                Some(node)
            }
        }
    }

    /// An anchor's or alias's name at `pos`, which must end at a blank or
    /// the end of the line. Names with characters other than ASCII letters,
    /// digits, `_`, `-` and `.` are left to the event parser.
    fn anchor_name(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self
            .b
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        {
            self.pos += 1;
        }
        if self.pos == start || !blank_or_end(self.b.get(self.pos)) {
            return None;
        }
        Some(&self.text[start..self.pos])
    }

    /// The lines that continue a plain scalar (indented deeper than its
    /// block, `n`), folded onto `first` as the event parser folds them; `pos`
    /// is after the first line's text and ends after the last line's.
    /// `Some(None)`: the scalar is on one line.
    fn plain_continuation(&mut self, n: u32, first: &str) -> Option<Option<String>> {
        let mut folded: Option<String> = None;
        loop {
            let save = (self.pos, self.line, self.line_start);
            self.skip_spaces();
            if self.peek() != b'\n' {
                // A comment or the end of the text: no continuation (a
                // deeper line after a comment is an error, seen by the
                // caller).
                self.pos = save.0;
                return Some(folded);
            }
            let breaks = self.line_breaks();
            if self.eof() || self.col_at(self.pos) <= n || self.peek() == b'#' {
                (self.pos, self.line, self.line_start) = save;
                return Some(folded);
            }
            // Indicators do not start a token inside a plain scalar: any
            // line goes on with it.
            let (end, stop, at) = self.plain_extent(self.pos, false);
            if stop != Stop::Line || self.b.get(at) == Some(&b' ') {
                // `key: ` or a comment inside a multi-line scalar.
                return None;
            }
            let f = folded.get_or_insert_with(|| first.to_owned());
            if breaks == 1 {
                f.push(' ');
            } else {
                push_breaks(f, breaks - 1);
            }
            f.push_str(&self.text[self.pos..end]);
            self.pos = end;
        }
    }

    /// Where a plain scalar starting at `from` ends (before trailing spaces),
    /// and why.
    fn plain_extent(&self, from: usize, flow: bool) -> (usize, Stop, usize) {
        let b = self.b;
        let mut i = from;
        let mut end = from;
        let stop = loop {
            match b.get(i) {
                None | Some(b'\n') => break Stop::Line,
                Some(b' ') => {
                    if b.get(i + 1) == Some(&b'#') {
                        break Stop::Line;
                    }
                    i += 1;
                    continue;
                }
                Some(b':') => {
                    let next = b.get(i + 1);
                    if blank_or_end(next)
                        || (flow && matches!(next, Some(b',' | b'[' | b']' | b'{' | b'}')))
                    {
                        break Stop::Key;
                    }
                }
                Some(b',' | b'[' | b']' | b'{' | b'}') if flow => break Stop::Flow,
                Some(_) => {}
            }
            i += 1;
            end = i;
        };
        (end, stop, i)
    }

    /// A mapping key at `pos` and its `:`. Returns the key and its span.
    fn key(&mut self) -> Option<(CompactString, Span)> {
        let begin = self.mark();
        let start = self.pos;
        let key = match self.peek() {
            b'"' | b'\'' => {
                let s = self.quoted(None)?;
                // A simple key is at most 1,024 characters long.
                if self.peek() != b':' || self.pos - start > 1000 {
                    return None;
                }
                s
            }
            c if plain_start(c, self.b.get(self.pos + 1), false) && c != b':' => {
                let (end, stop, colon) = self.plain_extent(self.pos, false);
                if stop != Stop::Key || colon - self.pos > 1000 {
                    return None;
                }
                let k = key_of(resolve_plain(&self.text[self.pos..end]));
                self.pos = end;
                let sp = span(begin, self.mark());
                self.pos = colon + 1;
                return Some((k, sp));
            }
            _ => return None,
        };
        let sp = span(begin, self.mark());
        self.pos += 1;
        Some((key, sp))
    }

    /// A block mapping whose keys are at column `n`; `pos` is at the first.
    fn block_map(&mut self, n: u32) -> Option<Node> {
        self.enter()?;
        let begin = self.mark();
        let first = self.entries.len();
        loop {
            let (key, key_span) = self.key()?;
            // An empty value is a point at the colon, as the event parser
            // has it.
            let after_colon = Mark(self.line, self.col_at(self.pos - 1));
            if !blank_or_end(self.b.get(self.pos)) {
                return None;
            }
            self.skip_spaces();
            let value = if self.peek() == b'#' || self.eol() {
                self.skip_comment();
                self.skip_to_token();
                let col = self.col_at(self.pos);
                if self.eof() || self.doc_marker()? || col < n {
                    null_at(after_colon)
                } else if col > n {
                    self.node(n as i32, Place::Line)?
                } else if self.dash_entry() {
                    self.block_seq(n, true)?
                } else {
                    null_at(after_colon)
                }
            } else {
                self.node(n as i32, Place::AfterKey)?
            };
            self.entries.push(Entry {
                key,
                key_span,
                value,
            });
            if self.eof() || self.doc_marker()? {
                break;
            }
            let col = self.col_at(self.pos);
            if col < n {
                break;
            }
            if col > n || self.dash_entry() {
                return None;
            }
        }
        let end = self.token_mark();
        let entries: Vec<Entry> = self.entries.drain(first..).collect();
        let mut sp = span(begin, end);
        if let Some(last) = entries.last() {
            let l = &last.value.span;
            if (l.end_line, l.end_col) > (sp.end_line, sp.end_col) {
                sp.end_line = l.end_line;
                sp.end_col = l.end_col;
            }
        }
        self.depth -= 1;
        Some(Node {
            value: Value::Map(merge_keys(last_key_wins(
                entries,
                &mut self.warnings,
                &mut self.more_warnings,
            ))),
            span: sp,
        })
    }

    /// A block sequence whose `-` are at column `n`; `pos` is at the first.
    /// `indentless`: the value of a mapping key at the same column.
    fn block_seq(&mut self, n: u32, indentless: bool) -> Option<Node> {
        self.enter()?;
        let mut begin = if indentless { None } else { Some(self.mark()) };
        let first = self.items.len();
        loop {
            self.pos += 1;
            self.skip_spaces();
            let item = if self.peek() == b'#' || self.eol() {
                self.skip_comment();
                let empty = self.mark();
                begin.get_or_insert(empty);
                self.skip_to_token();
                if self.eof() || self.doc_marker()? || self.col_at(self.pos) <= n {
                    null_at(empty)
                } else {
                    self.node(n as i32, Place::Line)?
                }
            } else {
                begin.get_or_insert(self.mark());
                self.node(n as i32, Place::AfterDash)?
            };
            self.items.push(item);
            if self.eof() || self.doc_marker()? {
                break;
            }
            let col = self.col_at(self.pos);
            if col > n {
                return None;
            }
            if col < n || !self.dash_entry() {
                break;
            }
        }
        let end = self.token_mark();
        let items: Vec<Node> = self.items.drain(first..).collect();
        let mut sp = span(begin?, end);
        if let Some(last) = items.last() {
            if (last.span.end_line, last.span.end_col) > (sp.end_line, sp.end_col) {
                sp.end_line = last.span.end_line;
                sp.end_col = last.span.end_col;
            }
        }
        self.depth -= 1;
        Some(Node {
            value: Value::Seq(items),
            span: sp,
        })
    }

    /// A quoted scalar; `pos` is at its opening quote. It may go on over
    /// lines indented deeper than `indent` (`None`: on one line only). Ends
    /// after the closing quote and the blanks and comment after it (where
    /// the event parser ends its span).
    fn quoted(&mut self, indent: Option<i32>) -> Option<CompactString> {
        let double = self.peek() == b'"';
        let b = self.b;
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match b.get(self.pos) {
                None => return None,
                Some(b'\n') => {
                    // Folded: blanks around the break dropped, one break
                    // a space, more breaks one fewer line feeds.
                    let n = indent?;
                    out.push_str(self.text[run..self.pos].trim_end_matches(' '));
                    let breaks = self.line_breaks();
                    if self.eof() || self.col_at(self.pos) as i32 <= n.max(0) {
                        return None;
                    }
                    if breaks == 1 {
                        out.push(' ');
                    } else {
                        push_breaks(&mut out, breaks - 1);
                    }
                    run = self.pos;
                    continue;
                }
                Some(b'"') if double => break,
                Some(b'\'') if !double => {
                    if b.get(self.pos + 1) == Some(&b'\'') {
                        out.push_str(&self.text[run..self.pos + 1]);
                        self.pos += 2;
                        run = self.pos;
                        continue;
                    }
                    break;
                }
                Some(b'\\') if double => {
                    out.push_str(&self.text[run..self.pos]);
                    let (c, len) = escape(&b[self.pos + 1..])?;
                    out.push(c);
                    self.pos += 1 + len;
                    run = self.pos;
                    continue;
                }
                Some(_) => {}
            }
            self.pos += 1;
        }
        out.push_str(&self.text[run..self.pos]);
        self.pos += 1;
        self.skip_blanks_and_comment()?;
        Some(CompactString::from(out))
    }

    /// A literal (`|`) or folded (`>`) block scalar; `pos` is at its
    /// indicator; `indent` is the enclosing block's. Ends where the event
    /// parser's scanner stops: after the indentation of the first line
    /// that is not part of it.
    fn block_scalar(&mut self, indent: u32) -> Option<Node> {
        let b = self.b;
        let literal = self.peek() == b'|';
        self.pos += 1;
        let chomp = match self.peek() {
            b'-' => {
                self.pos += 1;
                Chomp::Strip
            }
            b'+' => {
                self.pos += 1;
                Chomp::Keep
            }
            _ => Chomp::Clip,
        };
        self.skip_blanks_and_comment()?;
        if self.peek() != b'\n' {
            return None;
        }
        self.newline();
        // Leading empty lines, then the first content line sets the
        // indentation.
        let mut trailing = 0usize;
        let mut widest = 0usize;
        let spaces = |from: usize| b[from..].iter().take_while(|&&c| c == b' ').count();
        loop {
            let k = spaces(self.pos);
            match b.get(self.pos + k) {
                Some(b'\n') => {
                    widest = widest.max(k);
                    trailing += 1;
                    self.pos += k;
                    self.newline();
                }
                None => return None,
                Some(_) => {
                    // Content: its indentation must be the block's.
                    // (The event parser takes the widest of these and the
                    // enclosing indentation plus one; a narrower first line
                    // is an empty scalar or an error.)
                    if k < widest || k <= indent as usize {
                        return None;
                    }
                    self.pos += k;
                    break;
                }
            }
        }
        let m = self.pos - self.line_start;
        let begin = self.mark();
        let mut s = String::new();
        let mut leading_break = false;
        let mut leading_blank = false;
        loop {
            // At the first content character of a content line.
            let trailing_blank = self.peek() == b' ';
            if !literal && leading_break && !leading_blank && !trailing_blank {
                if trailing == 0 {
                    s.push(' ');
                } else {
                    push_breaks(&mut s, trailing);
                }
            } else {
                if leading_break {
                    s.push('\n');
                }
                push_breaks(&mut s, trailing);
            }
            trailing = 0;
            leading_blank = trailing_blank;
            let eol = self.b[self.pos..]
                .iter()
                .position(|&c| c == b'\n')
                .map(|i| self.pos + i)?;
            s.push_str(&self.text[self.pos..eol]);
            self.pos = eol;
            leading_break = true;
            self.newline();
            // The indentation of the next lines, and the empty ones.
            loop {
                let k = spaces(self.pos).min(m);
                self.pos += k;
                if self.peek() == b'\n' {
                    trailing += 1;
                    self.newline();
                } else {
                    break;
                }
            }
            if self.eof() {
                if self.pos != self.line_start {
                    // Spaces without a final line break: left to the
                    // event parser.
                    return None;
                }
                break;
            }
            if self.pos - self.line_start != m {
                break;
            }
        }
        if chomp != Chomp::Strip && leading_break {
            s.push('\n');
        }
        if chomp == Chomp::Keep {
            push_breaks(&mut s, trailing);
        }
        Some(Node {
            value: Value::Str(CompactString::from(s)),
            span: span(begin, self.mark()),
        })
    }

    /// Blanks, comments and line breaks inside a flow collection; a line
    /// must be indented deeper than the enclosing block, `indent`.
    fn flow_ws(&mut self, indent: i32) -> Option<()> {
        loop {
            let before = self.pos;
            self.skip_spaces();
            match self.peek() {
                b'#' => {
                    if self.pos == before && self.pos != self.line_start {
                        return None;
                    }
                    self.skip_comment();
                }
                b'\n' => {
                    self.newline();
                    self.skip_spaces();
                    if !self.eol()
                        && self.peek() != b'#'
                        && self.col_at(self.pos) as i32 <= indent.max(0)
                    {
                        return None;
                    }
                }
                _ => return Some(()),
            }
        }
    }

    /// A flow collection; `pos` is at `[` or `{`; `indent` is the enclosing
    /// block's.
    fn flow(&mut self, indent: i32) -> Option<Node> {
        self.enter()?;
        let begin = self.mark();
        let map = self.peek() == b'{';
        self.flow_level += 1;
        self.pos += 1;
        let close = if map { b'}' } else { b']' };
        let (first_item, first_entry) = (self.items.len(), self.entries.len());
        let mut after_comma = false;
        loop {
            self.flow_ws(indent)?;
            match self.peek() {
                0 => return None,
                // The event parser ends a mapping with a trailing comma at
                // the comma.
                c if c == close && map && after_comma => return None,
                c if c == close => break,
                _ => {}
            }
            if map {
                let key_begin = self.mark();
                let key_start = self.pos;
                let key = match self.peek() {
                    b'"' | b'\'' => self.quoted(None)?,
                    c if plain_start(c, self.b.get(self.pos + 1), true) => {
                        let (end, stop, _) = self.plain_extent(self.pos, true);
                        if stop != Stop::Key {
                            return None;
                        }
                        let k = key_of(resolve_plain(&self.text[self.pos..end]));
                        self.pos = end;
                        k
                    }
                    _ => return None,
                };
                let key_span = span(key_begin, self.mark());
                if self.peek() != b':'
                    || self.b.get(self.pos + 1) != Some(&b' ')
                    || self.pos - key_start > 1000
                {
                    return None;
                }
                self.pos += 1;
                self.skip_spaces();
                let value = self.flow_item(indent)?;
                self.entries.push(Entry {
                    key,
                    key_span,
                    value,
                });
            } else {
                let item = self.flow_item(indent)?;
                self.items.push(item);
            }
            self.flow_ws(indent)?;
            match self.peek() {
                b',' => {
                    self.pos += 1;
                    after_comma = true;
                }
                c if c == close => break,
                _ => return None,
            }
        }
        // Like a quoted scalar's, the event parser's span of a flow
        // collection ends after the blanks, and at the outermost level the
        // comment, that follow it.
        self.pos += 1;
        self.skip_blanks_and_comment()?;
        let sp = span(begin, self.mark());
        self.depth -= 1;
        self.flow_level -= 1;
        let value = if map {
            let entries: Vec<Entry> = self.entries.drain(first_entry..).collect();
            Value::Map(merge_keys(last_key_wins(
                entries,
                &mut self.warnings,
                &mut self.more_warnings,
            )))
        } else {
            Value::Seq(self.items.drain(first_item..).collect())
        };
        Some(Node { value, span: sp })
    }

    /// A value inside a flow collection.
    fn flow_item(&mut self, indent: i32) -> Option<Node> {
        match self.peek() {
            b'[' | b'{' => self.flow(indent),
            b'"' | b'\'' => {
                let begin = self.mark();
                let s = self.quoted(Some(indent))?;
                if self.peek() == b':' {
                    return None;
                }
                Some(Node {
                    value: Value::Str(s),
                    span: span(begin, self.mark()),
                })
            }
            c if plain_start(c, self.b.get(self.pos + 1), true) => {
                let (end, stop, _) = self.plain_extent(self.pos, true);
                // `[a -,]`: the event parser reads the `-` before a flow
                // indicator as a new scalar, an error (yaml fuzz target).
                if stop != Stop::Flow || self.text[self.pos..end].ends_with(" -") {
                    return None;
                }
                let begin = self.mark();
                let value = resolve_plain(&self.text[self.pos..end]);
                self.pos = end;
                Some(Node {
                    value,
                    span: span(begin, self.mark()),
                })
            }
            _ => None,
        }
    }
}

/// What a node may be, by where it starts.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    /// First on its line: any node but a block scalar.
    Line,
    /// After `- `: any node.
    AfterDash,
    /// After `key: `: a scalar or a flow collection, not a block collection.
    AfterKey,
}

#[derive(Clone, Copy, PartialEq)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

fn push_breaks(s: &mut String, n: usize) {
    for _ in 0..n {
        s.push('\n');
    }
}

fn null_at(at: Mark) -> Node {
    Node {
        value: Value::Null,
        span: span(at, at),
    }
}

/// Whether a plain scalar may start with `c` (followed by `next`); the
/// indicators that may start one in YAML but rarely do are left to the
/// event parser.
fn plain_start(c: u8, next: Option<&u8>, flow: bool) -> bool {
    match c {
        b'-' => {
            let flow_next = matches!(next, Some(b',' | b'[' | b']' | b'{' | b'}'));
            !(blank_or_end(next) || flow && flow_next)
        }
        b':' => !flow && !blank_or_end(next),
        b'?' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>'
        | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' | 0 => false,
        _ => true,
    }
}

/// A double-quoted escape after its backslash: the character and how many
/// bytes it took.
fn escape(b: &[u8]) -> Option<(char, usize)> {
    let hex = |n: usize| -> Option<(char, usize)> {
        let digits = std::str::from_utf8(b.get(1..1 + n)?).ok()?;
        if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some((
            char::from_u32(u32::from_str_radix(digits, 16).ok()?)?,
            1 + n,
        ))
    };
    let c = match *b.first()? {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' => return hex(2),
        b'u' => return hex(4),
        b'U' => return hex(8),
        _ => return None,
    };
    Some((c, 1))
}
