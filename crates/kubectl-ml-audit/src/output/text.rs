//! Text for people: each finding with its source lines underlined.

use std::fmt::Write as _;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity as MSeverity,
};
use ml_audit::{Inventory, Level, Report, Severity, Span};

/// Byte offset of a 1-based line and character column in `text`.
pub fn offset(text: &str, line: u32, col: u32) -> usize {
    let mut off = 0usize;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            let c = (col.max(1) - 1) as usize;
            return off
                + l.char_indices()
                    .nth(c)
                    .map_or(l.trim_end_matches('\n').len(), |(b, _)| b);
        }
        off += l.len();
    }
    text.len()
}

#[derive(Debug)]
struct Diag {
    message: String,
    code: String,
    help: Option<String>,
    severity: MSeverity,
    src: NamedSource<String>,
    labels: Vec<LabeledSpan>,
}

impl std::fmt::Display for Diag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Diag {}
impl miette::Diagnostic for Diag {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<MSeverity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

fn span_range(text: &str, s: &Span) -> (usize, usize) {
    let start = offset(text, s.line, s.col);
    let end = if s.end_line == s.line && s.end_col > s.col {
        offset(text, s.end_line, s.end_col)
    } else {
        // Multi-line nodes: underline the first line only.
        let rest = &text[start..];
        start + rest.find('\n').unwrap_or(rest.len())
    };
    (start, end.max(start))
}

/// Replaces every character inside the spans (newlines excepted) with `*`,
/// so lines and columns stay where they were.
fn mask<'a>(text: String, spans: impl Iterator<Item = &'a Span>) -> String {
    let mut ranges: Vec<(usize, usize)> = spans
        .map(|s| {
            let start = offset(&text, s.line, s.col);
            let end = offset(&text, s.end_line, s.end_col).max(start);
            (start, end)
        })
        .collect();
    if ranges.is_empty() {
        return text;
    }
    ranges.sort();
    text.char_indices()
        .map(|(i, c)| {
            if c != '\n' && ranges.iter().any(|(s, e)| i >= *s && i < *e) {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// Whether to use colour: `NO_COLOR` unset and stdout a terminal.
pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
}

/// Renders the report as text, colour as [`use_color`] says.
#[allow(dead_code)] // for commands that print a report without a run context
pub fn render(report: &Report, inv: &Inventory) -> String {
    render_with(report, inv, use_color(), &[], 0)
}

/// Renders a run's report as text.
pub fn render_ctx(ctx: &super::Ctx<'_>) -> String {
    render_with(
        ctx.report,
        ctx.inventory,
        ctx.color,
        &ctx.sources,
        ctx.baselined,
    )
}

fn render_with(
    report: &Report,
    inv: &Inventory,
    color: bool,
    sources: &[Option<String>],
    baselined: usize,
) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    let mut out = String::new();
    // Literal secrets are masked in every source line shown.
    let secrets = ml_audit::rules::secrets::secret_spans(inv);
    let text_of = |file: &str| -> String {
        let text = inv
            .files
            .iter()
            .find(|f| f.path == file)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        mask(
            text,
            secrets.iter().filter(|(f, _)| f == file).map(|(_, s)| s),
        )
    };
    for d in &report.diagnostics {
        let level = match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
        };
        let _ = writeln!(
            out,
            "{level}: {}:{}:{}: {}",
            d.file, d.line, d.col, d.message
        );
    }
    if !report.diagnostics.is_empty() {
        out.push('\n');
    }
    for (i, f) in report.findings.iter().enumerate() {
        let text = text_of(&f.file);
        let (start, end) = span_range(&text, &f.span);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some("here".into()),
            (start, end - start),
        )];
        let mut extra = String::new();
        for r in &f.related {
            if r.file == f.file {
                let (s, e) = span_range(&text, &r.span);
                labels.push(LabeledSpan::new_with_span(
                    Some(r.message.clone()),
                    (s, e - s),
                ));
            } else {
                let _ = writeln!(
                    extra,
                    "  = {}: {}:{}:{}",
                    r.message, r.file, r.span.line, r.span.col
                );
            }
        }
        let severity = match f.severity {
            Severity::Critical | Severity::High => MSeverity::Error,
            Severity::Medium | Severity::Low => MSeverity::Warning,
            Severity::Info => MSeverity::Advice,
        };
        let diag = Diag {
            message: format!("[{}] {}", f.severity, f.message),
            code: f.rule.clone(),
            help: f.help.clone(),
            severity,
            src: NamedSource::new(f.file.clone(), text),
            labels,
        };
        let _ = handler.render_report(&mut out, &diag);
        if let Some(Some(src)) = sources.get(i) {
            let _ = writeln!(out, "  = rendered from: {src}");
        }
        out.push_str(&extra);
        out.push('\n');
    }
    let s = &report.summary;
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|sev| s.findings.get(sev).map(|n| format!("{n} {sev}")))
        .collect();
    let _ = writeln!(
        out,
        "{} findings ({}) in {} objects, {} workloads, {} files; {} input errors",
        report.findings.len(),
        if counts.is_empty() {
            "none".to_string()
        } else {
            counts.join(", ")
        },
        s.objects,
        s.workloads,
        s.files,
        s.errors
    );
    if s.suppressed > 0 || baselined > 0 {
        let _ = writeln!(
            out,
            "({} suppressed in the manifests, {} in the baseline)",
            s.suppressed, baselined
        );
    }
    out
}
