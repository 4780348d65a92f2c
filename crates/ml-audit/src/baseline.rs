//! Baseline files: the fingerprints of accepted findings, so that a run
//! reports only what is new. A fingerprint has no line numbers, so it
//! survives unrelated edits (see [`crate::Finding::fingerprint`]).
//!
//! ```
//! use ml_audit::{baseline, Audit, Inventory};
//!
//! let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec: {containers: [{name: c, image: 'i:latest'}]}\n";
//! let inv = Inventory::from_text("p.yaml", yaml);
//! let mut report = Audit::new().run(&inv);
//! let dir = std::env::temp_dir().join(format!("ml-audit-baseline-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("baseline.json");
//! baseline::write_baseline(&path, &report.findings).unwrap();
//! let known = baseline::read_baseline(&path).unwrap();
//! assert_eq!(baseline::apply(&mut report, &known), known.len());
//! assert!(report.findings.is_empty());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use crate::{Error, Finding, Report};

/// Reads a baseline file: the fingerprints of accepted findings.
pub fn read_baseline(path: &Path) -> Result<BTreeSet<String>, Error> {
    // Bounded like a manifest, and only a regular file: `/dev/zero` or a
    // FIFO would read (or wait) forever.
    let bytes = crate::load::read_bounded(path, crate::load::MAX_FILE_BYTES)
        .map_err(|e| Error::Baseline(format!("baseline {}: {e}", path.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Baseline(format!("baseline {} is not UTF-8 text", path.display())))?;
    parse_baseline(path, &text)
}

/// The fingerprints of a baseline's text (`path` names it in errors).
pub fn parse_baseline(path: &Path, text: &str) -> Result<BTreeSet<String>, Error> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Error::Baseline(format!(
            "baseline {} is not valid JSON: {e}",
            path.display()
        ))
    })?;
    let items = v
        .get("findings")
        .and_then(|f| f.as_array())
        .ok_or_else(|| {
            Error::Baseline(format!(
                "baseline {} has no `findings` list",
                path.display()
            ))
        })?;
    Ok(items
        .iter()
        .filter_map(|f| {
            f.get("fingerprint")
                .and_then(|s| s.as_str())
                .map(str::to_string)
        })
        .collect())
}

/// The baseline file of a set of findings (sorted, one entry per fingerprint).
pub fn baseline_json(findings: &[Finding]) -> String {
    let mut entries: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "fingerprint": f.fingerprint(),
                "rule": f.rule,
                "object": match &f.object.namespace {
                    Some(ns) => format!("{} {}/{}", f.object.kind, ns, f.object.name),
                    None => format!("{} {}", f.object.kind, f.object.name),
                },
                "pointer": f.pointer,
            })
        })
        .collect();
    entries.sort_by(|a, b| a["fingerprint"].as_str().cmp(&b["fingerprint"].as_str()));
    entries.dedup_by(|a, b| a["fingerprint"] == b["fingerprint"]);
    let doc = serde_json::json!({
        "version": 1,
        "tool": "ml-audit",
        "findings": entries,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// Writes the baseline of `findings` to `path`; returns how many distinct
/// fingerprints it holds.
pub fn write_baseline(path: &Path, findings: &[Finding]) -> Result<usize, Error> {
    std::fs::write(path, baseline_json(findings))
        .map_err(|e| Error::Baseline(format!("cannot write baseline {}: {e}", path.display())))?;
    Ok(findings
        .iter()
        .map(Finding::fingerprint)
        .collect::<BTreeSet<_>>()
        .len())
}

/// Removes the findings whose fingerprint is in `known` and recounts the
/// summary; returns how many were removed.
pub fn apply(report: &mut Report, known: &BTreeSet<String>) -> usize {
    let before = report.findings.len();
    report
        .findings
        .retain(|f| !known.contains(&f.fingerprint()));
    report.summary.findings.clear();
    for f in &report.findings {
        *report.summary.findings.entry(f.severity).or_default() += 1;
    }
    before - report.findings.len()
}
