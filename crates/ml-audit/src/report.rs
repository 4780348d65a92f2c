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
/// of [`finding_json`]'s value, which is built from this).
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
        m.end()
    }
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
            file: "a \"b\".yaml".into(),
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
            assert_eq!(finding_json(&f)["related"], value["related"]);
            // And without the optional fields.
            f.context = None;
            f.help = None;
            f.related.clear();
            f.object.namespace = None;
        }
    }
}
