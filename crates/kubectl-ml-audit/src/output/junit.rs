//! JUnit XML: one test suite per rule that ran, one test case per rule and
//! object with findings (failed), and one passing case for a rule with none;
//! input errors are a suite of their own.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ml_audit::{Finding, Level};

use super::{object_name, Ctx};

/// Escapes text for XML attributes and content. A character XML 1.0 does
/// not allow (C0 controls but tab, newline and CR; U+FFFE and U+FFFF;
/// surrogates cannot occur in a `str`) becomes U+FFFD, so a name from a
/// scanned file cannot make the document ill-formed, and the change shows.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' | '\t' | '\r' => o.push(c),
            '\0'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

/// Findings of one rule, by object.
type ByObject<'a> = BTreeMap<String, Vec<(&'a Finding, &'a Option<String>)>>;

/// Renders the XML.
pub fn render(ctx: &Ctx<'_>) -> String {
    let mut by_rule: BTreeMap<&str, ByObject<'_>> = BTreeMap::new();
    for id in &ctx.active {
        by_rule.entry(id.as_str()).or_default();
    }
    for (f, src) in ctx.report.findings.iter().zip(&ctx.sources) {
        by_rule
            .entry(f.rule.as_str())
            .or_default()
            .entry(object_name(f))
            .or_default()
            .push((f, src));
    }
    let errors: Vec<_> = ctx
        .report
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .collect();
    let tests: usize = by_rule.values().map(|o| o.len().max(1)).sum::<usize>() + errors.len();
    let failures: usize = by_rule.values().map(|o| o.len()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ml-audit\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\">",
        errors.len()
    );
    for (rule, objects) in &by_rule {
        let title = ctx
            .rules
            .iter()
            .find(|m| m.id == *rule)
            .map_or(String::new(), |m| m.title.to_string());
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\">",
            esc(rule),
            objects.len().max(1),
            objects.len()
        );
        if objects.is_empty() {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{}: no findings\"/>",
                esc(rule),
                esc(&title)
            );
        }
        for (object, fs) in objects {
            let (first, _) = fs[0];
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\">",
                esc(rule),
                esc(object),
                esc(&first.file),
                first.span.line
            );
            let mut body = String::new();
            for (f, src) in fs {
                let _ = writeln!(
                    body,
                    "{}:{}:{}: [{}] {}{}",
                    f.file,
                    f.span.line,
                    f.span.col,
                    f.severity,
                    f.message,
                    src.as_ref()
                        .map_or(String::new(), |s| format!(" (rendered from {s})"))
                );
                if let Some(h) = &f.help {
                    let _ = writeln!(body, "  help: {h}");
                }
            }
            let worst = fs
                .iter()
                .map(|(f, _)| f.severity)
                .max()
                .unwrap_or(first.severity);
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                esc(&first.message),
                worst,
                esc(&body)
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    if !errors.is_empty() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"input\" tests=\"{0}\" failures=\"0\" errors=\"{0}\">",
            errors.len()
        );
        for d in errors {
            let _ = writeln!(
                out,
                "    <testcase classname=\"input\" name=\"{}\">\n      <error message=\"{}\">{}:{}:{}: {}</error>\n    </testcase>",
                esc(&d.file),
                esc(&d.message),
                esc(&d.file),
                d.line,
                d.col,
                esc(&d.message)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    /// Every character XML 1.0 forbids is replaced; what it allows is kept.
    #[test]
    fn forbidden_characters_are_replaced() {
        let all: String = (0u32..0x11_0000).filter_map(char::from_u32).collect();
        let out = super::esc(&all);
        for c in out.chars() {
            let ok = matches!(c, '\t' | '\n' | '\r' | ' '..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
            assert!(ok, "{:x}", c as u32);
        }
        assert_eq!(
            super::esc("a\u{fffe}b\u{ffff}\u{1}"),
            "a\u{fffd}b\u{fffd}\u{fffd}"
        );
        assert_eq!(super::esc("<&>"), "&lt;&amp;&gt;");
    }
}
