//! The result of an audit, and its stable JSON form.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::{Finding, Severity};
use crate::load::{Diagnostic, Level};

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
    let mut v = serde_json::to_value(f).unwrap_or_default();
    v["fingerprint"] = serde_json::Value::String(f.fingerprint());
    v
}
