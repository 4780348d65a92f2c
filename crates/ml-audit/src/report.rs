//! The result of an audit, and its stable JSON form.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::{Finding, Related, Severity};
use crate::load::{Diagnostic, Level};
use crate::node::Span;
use crate::object::ObjectRef;

/// Version of the JSON report schema; bumped on incompatible change.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// What an audit found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Findings, sorted.
    pub findings: Vec<Finding>,
    /// Problems with the input, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Counts.
    pub summary: Summary,
}

/// Counts of what was audited and found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Objects loaded.
    pub objects: usize,
    /// Workloads (pod templates) found.
    pub workloads: usize,
    /// Findings by severity.
    pub findings: BTreeMap<Severity, usize>,
    /// Input errors.
    pub errors: usize,
    /// Findings left out by suppressions written in the manifests.
    pub suppressed: usize,
    /// Files the walks of directories left out, by reason.
    pub skipped: crate::walk::Skipped,
    /// Objects that were not audited, by apiVersion, kind and reason.
    #[serde(rename = "notAudited")]
    pub not_audited: Vec<crate::coverage::NotAudited>,
}

impl Report {
    /// Whether any input could not be read or understood.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.level == Level::Error)
    }

    /// Whether any finding is at or above `severity`.
    pub fn fails(&self, severity: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= severity)
    }

    /// The JSON document (schema version 1, documented in the README).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "schemaVersion": JSON_SCHEMA_VERSION,
            "tool": {"name": "ml-audit", "version": env!("CARGO_PKG_VERSION")},
            "summary": self.summary,
            "findings": self.findings.iter().map(finding_json).collect::<Vec<_>>(),
            "diagnostics": self.diagnostics,
        })
    }
}

/// One finding as it appears in the JSON document's `findings` (with its
/// `fingerprint`).
pub fn finding_json(f: &Finding) -> serde_json::Value {
    serde_json::to_value(FindingJson {
        finding: f,
        source: None,
    })
    .unwrap_or_default()
}

/// One finding as the JSON report writes it, serialized straight from the
/// finding: its fields, its `fingerprint` and, when given, the `source` a
/// front end found for it, every object's keys in sorted order (the order
/// of `finding_json`'s value, which is built from this).
pub struct FindingJson<'a> {
    /// The finding.
    pub finding: &'a Finding,
    /// The template or file it was rendered from, if any.
    pub source: Option<&'a str>,
}

impl Serialize for FindingJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let f = self.finding;
        let mut m = s.serialize_map(None)?;
        if let Some(c) = &f.context {
            m.serialize_entry("context", c)?;
        }
        m.serialize_entry("file", &f.file)?;
        m.serialize_entry("fingerprint", &f.fingerprint())?;
        if let Some(h) = &f.help {
            m.serialize_entry("help", h)?;
        }
        m.serialize_entry("message", &f.message)?;
        m.serialize_entry("object", &SortedRef(&f.object))?;
        m.serialize_entry("pointer", &f.pointer)?;
        if !f.related.is_empty() {
            let related: Vec<SortedRelated<'_>> = f.related.iter().map(SortedRelated).collect();
            m.serialize_entry("related", &related)?;
        }
        m.serialize_entry("rule", &f.rule)?;
        m.serialize_entry("severity", &f.severity)?;
        if let Some(src) = self.source {
            m.serialize_entry("source", src)?;
        }
        m.serialize_entry("span", &SortedSpan(&f.span))?;
        if !f.units.is_empty() {
            m.serialize_entry("units", &f.units)?;
        }
        m.end()
    }
}

impl FindingJson<'_> {
    /// Appends the bytes `serde_json::to_writer_pretty` writes for this
    /// finding, with every line after the first indented `level` levels
    /// (two spaces each) deeper: the finding as an element of an array
    /// nested `level - 1` deep. Same bytes, written straight, without
    /// serde's byte-by-byte scan for characters to escape (a third of the
    /// time of a large JSON report).
    pub fn write_pretty(&self, out: &mut Vec<u8>, level: usize) {
        let f = self.finding;
        let mut m = PrettyMap::open(out, level);
        if let Some(c) = &f.context {
            m.str("context", c);
        }
        m.str("file", &f.file);
        let hex = f.fingerprint_hex();
        m.str("fingerprint", std::str::from_utf8(&hex).unwrap_or_default());
        if let Some(h) = &f.help {
            m.str("help", h);
        }
        m.str("message", &f.message);
        write_ref(m.map("object"), &f.object);
        m.str("pointer", &f.pointer);
        if !f.related.is_empty() {
            m.key("related");
            let inner = m.level + 1;
            m.out.push(b'[');
            for (i, r) in f.related.iter().enumerate() {
                m.out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
                indent(m.out, inner + 1);
                let mut rm = PrettyMap::open(m.out, inner + 1);
                rm.str("file", &r.file);
                rm.str("message", &r.message);
                if let Some(o) = &r.object {
                    write_ref(rm.map("object"), o);
                }
                rm.str("pointer", &r.pointer);
                write_span(rm.map("span"), &r.span);
                rm.close();
            }
            m.out.push(b'\n');
            indent(m.out, inner);
            m.out.push(b']');
        }
        m.str("rule", &f.rule);
        m.str("severity", f.severity.as_str());
        if let Some(src) = self.source {
            m.str("source", src);
        }
        write_span(m.map("span"), &f.span);
        if !f.units.is_empty() {
            m.key("units");
            let inner = m.level + 1;
            m.out.push(b'[');
            for (i, u) in f.units.iter().enumerate() {
                m.out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
                indent(m.out, inner + 1);
                write_json_str(m.out, u);
            }
            m.out.push(b'\n');
            indent(m.out, inner);
            m.out.push(b']');
        }
        m.close();
    }
}

fn write_ref(mut m: PrettyMap<'_>, o: &ObjectRef) {
    m.str("apiVersion", &o.api_version);
    m.str("kind", &o.kind);
    m.str("name", &o.name);
    if let Some(ns) = &o.namespace {
        m.str("namespace", ns);
    }
    m.close();
}

fn write_span(mut m: PrettyMap<'_>, p: &Span) {
    m.num("col", p.col);
    m.num("endCol", p.end_col);
    m.num("endLine", p.end_line);
    m.num("line", p.line);
    m.close();
}

/// A JSON object being written as serde_json's pretty printer writes one:
/// each entry on a line of its own, indented two spaces per level.
struct PrettyMap<'a> {
    out: &'a mut Vec<u8>,
    /// The level of the object's braces; its entries are one deeper.
    level: usize,
    empty: bool,
}

impl<'a> PrettyMap<'a> {
    fn open(out: &'a mut Vec<u8>, level: usize) -> PrettyMap<'a> {
        out.push(b'{');
        PrettyMap {
            out,
            level,
            empty: true,
        }
    }

    /// A key: one of this file's own, which hold nothing to escape.
    fn key(&mut self, key: &str) {
        self.out
            .extend_from_slice(if self.empty { b"\n" } else { b",\n" });
        self.empty = false;
        indent(self.out, self.level + 1);
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\": ");
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        write_json_str(self.out, value);
    }

    fn num(&mut self, key: &str, value: u32) {
        self.key(key);
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        let mut v = value;
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.out.extend_from_slice(&digits[i..]);
    }

    /// A nested object as the value of `key`.
    fn map(&mut self, key: &str) -> PrettyMap<'_> {
        self.key(key);
        PrettyMap::open(self.out, self.level + 1)
    }

    fn close(self) {
        if !self.empty {
            self.out.push(b'\n');
            indent(self.out, self.level);
        }
        self.out.push(b'}');
    }
}

fn indent(out: &mut Vec<u8>, level: usize) {
    out.resize(out.len() + 2 * level, b' ');
}

/// Appends `v` as `serde_json::to_writer_pretty` writes it, with every line
/// after the first indented `level` levels (two spaces each) deeper; the
/// same bytes, with strings escaped by `write_json_str`.
pub fn write_json_pretty(out: &mut Vec<u8>, v: &serde_json::Value, level: usize) {
    use serde_json::Value;
    match v {
        Value::String(s) => write_json_str(out, s),
        Value::Array(items) if !items.is_empty() => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
                indent(out, level + 1);
                write_json_pretty(out, item, level + 1);
            }
            out.push(b'\n');
            indent(out, level);
            out.push(b']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
                indent(out, level + 1);
                write_json_str(out, k);
                out.extend_from_slice(b": ");
                write_json_pretty(out, item, level + 1);
            }
            out.push(b'\n');
            indent(out, level);
            out.push(b'}');
        }
        // Numbers, booleans, null and empty collections: as serde_json
        // writes them (they hold no line break).
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

/// Appends `s` as a JSON string, escaped exactly as serde_json escapes it:
/// `"`, `\\` and the control characters below U+0020 (`\b`, `\f`, `\n`,
/// `\r`, `\t`, else `\u00xx` in lowercase hex); everything else as is.
/// Eight bytes are checked at a time.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Whether any byte of `w` is zero, below 0x20, `"` or `\\`.
    fn any_special(w: u64) -> bool {
        let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
        let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        (below_space | zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\'))))
            != 0
    }
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        // Eight bytes at a time; the last few padded with spaces.
        let mut w = [b' '; 8];
        let word = &b[i..b.len().min(i + 8)];
        w[..word.len()].copy_from_slice(word);
        if !any_special(u64::from_le_bytes(w)) {
            i += word.len();
            continue;
        }
        let c = b[i];
        let short = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x0c => b'f',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x00..=0x1f => b'u',
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&b[start..i]);
        out.push(b'\\');
        out.push(short);
        if short == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"00");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 0xf)]);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

struct SortedRef<'a>(&'a ObjectRef);

impl Serialize for SortedRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let o = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("apiVersion", &o.api_version)?;
        m.serialize_entry("kind", &o.kind)?;
        m.serialize_entry("name", &o.name)?;
        if let Some(ns) = &o.namespace {
            m.serialize_entry("namespace", ns)?;
        }
        m.end()
    }
}

struct SortedSpan<'a>(&'a Span);

impl Serialize for SortedSpan<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let p = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("col", &p.col)?;
        m.serialize_entry("endCol", &p.end_col)?;
        m.serialize_entry("endLine", &p.end_line)?;
        m.serialize_entry("line", &p.line)?;
        m.end()
    }
}

struct SortedRelated<'a>(&'a Related);

impl Serialize for SortedRelated<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("file", &r.file)?;
        m.serialize_entry("message", &r.message)?;
        if let Some(o) = &r.object {
            m.serialize_entry("object", &SortedRef(o))?;
        }
        m.serialize_entry("pointer", &r.pointer)?;
        m.serialize_entry("span", &SortedSpan(&r.span))?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed form and the value form agree byte for byte, and the
    /// value's keys are the sorted ones a `serde_json::Value` would give.
    #[test]
    fn a_finding_serializes_as_its_sorted_value() {
        let span = Span {
            line: 3,
            col: 5,
            end_line: 3,
            end_col: 9,
        };
        let object = ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: Some("ns".into()),
            name: "p".into(),
        };
        let mut f = Finding {
            rule: "r".into(),
            severity: Severity::High,
            object: object.clone(),
            file: "a \"b\\\\c\u{1}\u{7f}\u{8}\u{c}\t\r\u{1f}é\".yaml".into(),
            span,
            pointer: "/spec".into(),
            context: Some("container c".into()),
            message: "m\n".into(),
            help: Some("h".into()),
            related: vec![Related {
                file: "b.yaml".into(),
                span,
                object: Some(ObjectRef {
                    namespace: None,
                    ..object
                }),
                pointer: "/x".into(),
                message: "why".into(),
            }],
            units: vec!["overlays/a b".into(), "overlays/\"c\"".into()],
        };
        for _ in 0..2 {
            let value = serde_json::to_value(&f).unwrap();
            let mut expected = value.clone();
            expected["fingerprint"] = f.fingerprint().into();
            expected["source"] = "t.yaml".into();
            let streamed = serde_json::to_string_pretty(&FindingJson {
                finding: &f,
                source: Some("t.yaml"),
            })
            .unwrap();
            assert_eq!(streamed, serde_json::to_string_pretty(&expected).unwrap());
            // The direct writer gives the same bytes, at any depth.
            for level in 0..3 {
                let mut direct = Vec::new();
                FindingJson {
                    finding: &f,
                    source: Some("t.yaml"),
                }
                .write_pretty(&mut direct, level);
                let pad = "  ".repeat(level);
                assert_eq!(
                    String::from_utf8(direct).unwrap(),
                    streamed.replace('\n', &format!("\n{pad}"))
                );
            }
            assert_eq!(finding_json(&f)["related"], value["related"]);
            // And without the optional fields.
            f.context = None;
            f.help = None;
            f.related.clear();
            f.object.namespace = None;
        }
    }

    /// Values are written as serde_json's pretty printer writes them.
    #[test]
    fn json_values_are_written_as_serde_json_writes_them() {
        let v = serde_json::json!({
            "b": [1, 2.5, -3, true, null, "x\"y\\\u{1}é", [], {}, [[]], {"k": {}}],
            "a": {"z": 1e300, "y": [{"x": "w"}], "e": ""},
            "": 0,
        });
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        for level in 0..3 {
            let mut out = Vec::new();
            write_json_pretty(&mut out, &v, level);
            let pad = "  ".repeat(level);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                pretty.replace('\n', &format!("\n{pad}"))
            );
        }
    }

    proptest::proptest! {
        /// Strings are escaped as serde_json escapes them, whatever they hold.
        #[test]
        fn json_strings_are_escaped_as_serde_json_escapes_them(
            s in "(?s)[\\x00-\\x7f\"\\\\é€😀 a-z]{0,40}"
        ) {
            let mut out = Vec::new();
            write_json_str(&mut out, &s);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap());
        }
    }
}
