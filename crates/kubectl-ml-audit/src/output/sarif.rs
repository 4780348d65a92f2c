//! SARIF 2.1.0, for code scanning: rule metadata with help links, results
//! with precise regions (line and column) and stable fingerprints.

use ml_audit::{Level, Severity, Span};
use serde_json::{json, Value};

use super::{help_uri, object_name, Ctx, REPOSITORY};

/// The SARIF `level` of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium | Severity::Low => "warning",
        Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score) of a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A file name as a URI reference: forward slashes, relative paths kept
/// relative, characters outside the URI set percent-encoded.
pub fn uri(file: &str) -> String {
    let f = file.replace('\\', "/");
    let f = f.strip_prefix("./").unwrap_or(&f);
    let mut out = String::new();
    for b in f.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(b as char);
        } else if b == b':' && !out.is_empty() {
            // `kustomize:dir` would read as a URI scheme: encode it.
            out.push_str("%3A");
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() || out == "-" {
        "stdin".to_string()
    } else {
        out
    }
}

fn region(s: &Span) -> Option<Value> {
    if s.line == 0 {
        return None;
    }
    let mut r = json!({"startLine": s.line, "startColumn": s.col.max(1)});
    if s.end_line >= s.line && s.end_line > 0 && (s.end_line > s.line || s.end_col > s.col) {
        r["endLine"] = s.end_line.into();
        r["endColumn"] = s.end_col.max(1).into();
    }
    Some(r)
}

fn location(file: &str, span: &Span) -> Value {
    let mut phys = json!({"artifactLocation": {"uri": uri(file)}});
    if let Some(r) = region(span) {
        phys["region"] = r;
    }
    json!({ "physicalLocation": phys })
}

/// Writes the SARIF log; results are streamed (see [`super::stream_items_into`]).
pub fn render_to(ctx: &Ctx<'_>, w: &mut impl std::io::Write) -> std::io::Result<()> {
    let rules: Vec<Value> = ctx
        .rules
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": {"text": m.title},
                "fullDescription": {"text": m.title},
                "help": {"text": m.doc, "markdown": m.doc},
                "helpUri": help_uri(&m.id),
                "defaultConfiguration": {"level": level(m.severity), "enabled": ctx.active.contains(&m.id.to_string())},
                "properties": {
                    "category": m.category,
                    "tags": ["security", "kubernetes", m.category],
                    "security-severity": security_severity(m.severity),
                    "precision": "high",
                },
            })
        })
        .collect();
    let result = |i: usize| -> Value {
        let f = &ctx.report.findings[i];
        let src = ctx.sources.get(i).and_then(Option::as_ref);
        {
            let index = ctx.rules.iter().position(|m| m.id == f.rule);
            let mut loc = location(&f.file, &f.span);
            loc["logicalLocations"] = json!([{
                "name": f.object.name,
                "fullyQualifiedName": format!("{}#{}", object_name(f), f.pointer),
                "kind": "object",
            }]);
            let mut text = f.message.clone();
            if let Some(h) = &f.help {
                text.push_str(&format!(". Fix: {h}"));
            }
            if let Some(s) = src {
                text.push_str(&format!(" (rendered from {s})"));
            }
            let mut r = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": text},
                "locations": [loc],
                "partialFingerprints": {"mlAudit/v1": f.fingerprint()},
                "properties": {
                    "severity": f.severity.as_str(),
                    "object": object_name(f),
                    "pointer": f.pointer,
                    "security-severity": security_severity(f.severity),
                },
            });
            if let Some(i) = index {
                r["ruleIndex"] = i.into();
            }
            if let Some(s) = src {
                r["properties"]["source"] = s.clone().into();
            }
            if let Some(c) = &f.context {
                r["properties"]["context"] = c.clone().into();
            }
            if !f.related.is_empty() {
                r["relatedLocations"] = f
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, rel)| {
                        let mut l = location(&rel.file, &rel.span);
                        l["id"] = i.into();
                        l["message"] = json!({"text": rel.message});
                        l
                    })
                    .collect();
            }
            r
        }
    };
    let notes: Vec<Value> = ctx
        .report
        .diagnostics
        .iter()
        .map(|d| {
            json!({
                "level": match d.level { Level::Error => "error", Level::Warning => "warning", Level::Info => "note" },
                "message": {"text": d.message},
                "locations": [location(&d.file, &Span::point(d.line, d.col))],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ml-audit",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": REPOSITORY,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": !ctx.report.has_errors(),
                "toolExecutionNotifications": notes,
            }],
            "columnKind": "unicodeCodePoints",
            "results": [],
        }],
    });
    super::stream_items_into(
        &log,
        "\n      \"results\": []",
        ctx.report.findings.len(),
        w,
        |i, out, level| ml_audit::write_json_pretty(out, &result(i), level),
    )
}
