//! Text for people: each finding with its source lines underlined.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use rayon::prelude::*;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity as MSeverity,
};
use ml_audit::{Inventory, Level, Report, Severity, Span};

/// A text with the byte offset of each line's start, so that a line and
/// column resolve without scanning the text from its start.
pub struct Lines<'t> {
    text: &'t str,
    starts: Arc<[usize]>,
}

impl<'t> Lines<'t> {
    /// Indexes the lines of `text` (lines as `str::split_inclusive('\n')` cuts them).
    pub fn new(text: &'t str) -> Lines<'t> {
        let mut starts = Vec::new();
        if !text.is_empty() {
            starts.push(0);
            // `match_indices` of a char finds it with memchr.
            starts.extend(
                text.match_indices('\n')
                    .map(|(i, _)| i + 1)
                    .filter(|&next| next < text.len()),
            );
        }
        Lines {
            text,
            starts: starts.into(),
        }
    }

    /// Byte offset of a 1-based line and character column (the line's end
    /// when the column is past it; the text's end when the line is).
    pub fn offset(&self, line: u32, col: u32) -> usize {
        let Some(&start) = (line as usize)
            .checked_sub(1)
            .and_then(|i| self.starts.get(i))
        else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(line as usize)
            .copied()
            .unwrap_or(self.text.len());
        let l = &self.text[start..end];
        let c = (col.max(1) - 1) as usize;
        start
            + l.char_indices()
                .nth(c)
                .map_or(l.trim_end_matches('\n').len(), |(b, _)| b)
    }
}

/// A file's text for miette, with its line index: a span is read from the
/// few lines around it instead of from the file's start. miette's own
/// `[u8]` source scans from the start for every span, which made text
/// output quadratic in a file's size (a third of the time at 200,000
/// findings).
#[derive(Clone, Debug)]
struct Indexed {
    text: Arc<str>,
    starts: Arc<[usize]>,
}

impl Indexed {
    /// `lines` indexes `text`.
    fn new(text: Arc<str>, lines: &Lines<'_>) -> Indexed {
        Indexed {
            starts: lines.starts.clone(),
            text,
        }
    }
}

impl miette::SourceCode for Indexed {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        // miette's scan, started at the start of a line far enough before
        // the span that the lines it keeps are the same: then only the
        // line numbers (and offsets) differ, by that line's.
        let line = self
            .starts
            .partition_point(|&s| s <= span.offset())
            .saturating_sub(1);
        let first = line.saturating_sub(context_lines_before + 1);
        let base = self.starts.get(first).copied().unwrap_or(0);
        let bytes = self.text.as_bytes();
        let part = <[u8] as miette::SourceCode>::read_span(
            &bytes[base..],
            &miette::SourceSpan::new((span.offset() - base).into(), span.len()),
            context_lines_before,
            context_lines_after,
        )?;
        let data: &'a [u8] = part.data();
        let (line, column, line_count) = (part.line(), part.column(), part.line_count());
        let at = part.span().offset() + base;
        Ok(Box::new(miette::MietteSpanContents::new(
            data,
            miette::SourceSpan::new(at.into(), data.len()),
            line + first,
            column,
            line_count + first,
        )))
    }
}

#[derive(Debug)]
struct Diag {
    message: String,
    code: String,
    help: Option<String>,
    severity: MSeverity,
    src: NamedSource<Indexed>,
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

fn span_range(lines: &Lines<'_>, s: &Span) -> (usize, usize) {
    let start = lines.offset(s.line, s.col);
    let end = if s.end_line == s.line && s.end_col > s.col {
        lines.offset(s.end_line, s.end_col)
    } else {
        // Multi-line nodes: underline the first line only.
        let rest = &lines.text[start..];
        start + rest.find('\n').unwrap_or(rest.len())
    };
    (start, end.max(start))
}

/// Replaces every character inside the spans (newlines excepted) with `*`,
/// so lines and columns stay where they were.
fn mask<'a>(text: &str, spans: impl Iterator<Item = &'a Span>) -> String {
    let mut spans = spans.peekable();
    if spans.peek().is_none() {
        return text.to_string();
    }
    let lines = Lines::new(text);
    let mut ranges: Vec<(usize, usize)> = spans
        .map(|s| {
            let start = lines.offset(s.line, s.col);
            let end = lines.offset(s.end_line, s.end_col).max(start);
            (start, end)
        })
        .collect();
    if ranges.is_empty() {
        return text.to_string();
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

/// Whether miette's wrapping leaves `text` as it is: one line, without
/// control characters or whitespace at its ends, that fits within miette's
/// 198 columns beside the `indent` columns it puts before it (4 before a
/// message: two spaces, the severity's icon and a space; 8 before
/// `help: `). A character is never wider than its UTF-8 bytes, so the
/// byte length bounds the display width.
fn fits_unwrapped(text: &str, indent: usize) -> bool {
    const WIDTH: usize = 200 - 2;
    !text.is_empty()
        && text.len() + indent <= WIDTH
        && text.trim() == text
        && !text.chars().any(char::is_control)
}

/// Columns miette indents a message by, and a help text.
const MESSAGE_INDENT: usize = 4;
const HELP_INDENT: usize = 8;

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

/// Writes a run's report as text, a batch of findings at a time.
pub fn render_to(ctx: &super::Ctx<'_>, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    write_with(
        ctx.report,
        ctx.inventory,
        ctx.color,
        &ctx.sources,
        ctx.baselined,
        w,
    )
}

fn render_with(
    report: &Report,
    inv: &Inventory,
    color: bool,
    sources: &[Option<String>],
    baselined: usize,
) -> String {
    let mut out = Vec::new();
    let _ = write_with(report, inv, color, sources, baselined, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn write_with(
    report: &Report,
    inv: &Inventory,
    color: bool,
    sources: &[Option<String>],
    baselined: usize,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    // The same handler without textwrap, for findings whose message and
    // help each fit on one line (most): wrapping was two thirds of the
    // rendering (1.2 s of CPU at 220,000 findings) to change nothing.
    let unwrapped = handler.clone().with_wrap_lines(false);
    let mut out = String::new();
    // Literal secrets are masked in every source line shown.
    let secrets = ml_audit::rules::secrets::secret_spans(inv);
    let mut secrets_of: HashMap<&str, Vec<&Span>> = HashMap::new();
    for (f, s) in &secrets {
        secrets_of.entry(f.as_str()).or_default().push(s);
    }
    let files: HashMap<&str, &str> = inv
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.text.as_str()))
        .collect();
    let text_of = |file: &str| -> Arc<str> {
        let text = files.get(file).copied().unwrap_or_default();
        mask(text, secrets_of.get(file).into_iter().flatten().copied()).into()
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
    // Findings come sorted by file: each run of one file's findings shares
    // its masked text and line index, and runs render in parallel.
    let findings = &report.findings;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        match runs.last_mut() {
            Some((_, end)) if findings[*end - 1].file == f.file => *end = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    let render_run = |&(from, to): &(usize, usize)| -> String {
        let mut out = String::new();
        let text = text_of(&findings[from].file);
        let lines = Lines::new(&text);
        let source = Indexed::new(text.clone(), &lines);
        for (i, f) in findings.iter().enumerate().take(to).skip(from) {
            let (start, end) = span_range(&lines, &f.span);
            let mut labels = vec![LabeledSpan::new_primary_with_span(
                Some("here".into()),
                (start, end - start),
            )];
            let mut extra = String::new();
            for r in &f.related {
                if r.file == f.file {
                    let (s, e) = span_range(&lines, &r.span);
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
                help: f.help.as_deref().map(str::to_owned),
                severity,
                src: NamedSource::new(f.file.clone(), source.clone()),
                labels,
            };
            let h = if fits_unwrapped(&diag.message, MESSAGE_INDENT)
                && diag
                    .help
                    .as_deref()
                    .is_none_or(|h| fits_unwrapped(h, HELP_INDENT))
            {
                &unwrapped
            } else {
                &handler
            };
            let _ = h.render_report(&mut out, &diag);
            if let Some(Some(src)) = sources.get(i) {
                let _ = writeln!(out, "  = rendered from: {src}");
            }
            out.push_str(&extra);
            out.push('\n');
        }
        out
    };
    // In batches, so that only a batch of rendered text is held at once
    // beside the output.
    w.write_all(out.as_bytes())?;
    out.clear();
    for batch in runs.chunks(256) {
        let parts: Vec<String> = batch.par_iter().map(render_run).collect();
        for p in parts {
            w.write_all(p.as_bytes())?;
        }
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
    let k = &s.skipped;
    if k.total() > 0 {
        let parts: Vec<String> = [
            (k.ignored_by_git, "ignored by git"),
            (k.hidden, "hidden without Kubernetes objects"),
            (k.not_yaml_or_json, "not YAML/JSON"),
            (k.excluded_by_config, "excluded by the config"),
            (k.symlinks, "symbolic links"),
            (k.not_regular_files, "not regular files"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} {why}"))
        .collect();
        let _ = writeln!(
            out,
            "{} files skipped: {} (--no-ignore audits what git ignores)",
            k.total(),
            parts.join(", ")
        );
    }
    if s.suppressed > 0 || baselined > 0 {
        let _ = writeln!(
            out,
            "({} suppressed in the manifests, {} in the baseline)",
            s.suppressed, baselined
        );
    }
    w.write_all(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::{SourceCode, SourceSpan};

    /// Where [`fits_unwrapped`] lets a finding skip textwrap, the rendering is
    /// byte for byte what textwrap gives, in colour and without: messages
    /// of every length around the width, wide and combining characters,
    /// spaces where a line would break.
    #[test]
    fn skipping_the_wrap_changes_no_rendering() {
        let pieces = [
            "container",
            "`a-b/c:d`",
            "é",
            "漢字",
            "⚠",
            "e\u{301}",
            "--",
            "/",
            " ",
            "  ",
            "x",
            "sha256:0123456789abcdef",
            "a_long_word_without_any_break_in_it",
        ];
        let text: Arc<str> = Arc::from("a: 1\nb: 2\n");
        let lines = Lines::new(&text);
        let source = Indexed::new(text.clone(), &lines);
        let mut seed = 0x2545_f491_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut checked, mut edge) = (0, 0);
        for round in 0..4000 {
            let target = 120 + (next() % 100) as usize;
            let mut parts = [String::new(), String::new()];
            for p in &mut parts {
                // Every fourth case ASCII only, where bytes are columns: the
                // cases at the width's very edge.
                let from = if round % 4 == 1 {
                    &pieces[6..]
                } else {
                    &pieces[..]
                };
                while p.len() < target {
                    p.push_str(from[(next() % from.len() as u64) as usize]);
                }
                if round % 3 == 0 {
                    p.truncate(p.char_indices().nth(target / 2).map_or(p.len(), |(i, _)| i));
                }
                if round % 5 != 0 {
                    *p = p.trim().to_string();
                }
                if round % 7 == 0 {
                    let mid = p
                        .char_indices()
                        .nth(p.chars().count() / 2)
                        .map_or(0, |(i, _)| i);
                    p.insert(mid, ['\t', '\n', '\u{1b}'][round % 3]);
                }
            }
            let [message, help] = parts;
            if !(fits_unwrapped(&message, MESSAGE_INDENT) && fits_unwrapped(&help, HELP_INDENT)) {
                continue;
            }
            checked += 1;
            if message.len() + MESSAGE_INDENT == 198 || help.len() + HELP_INDENT == 198 {
                edge += 1;
            }
            for theme in [GraphicalTheme::unicode(), GraphicalTheme::unicode_nocolor()] {
                let wrapping = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
                let plain = wrapping.clone().with_wrap_lines(false);
                let diag = Diag {
                    message: message.clone(),
                    code: "rule".into(),
                    help: Some(help.clone()),
                    severity: [MSeverity::Error, MSeverity::Warning, MSeverity::Advice]
                        [round / 3 % 3],
                    src: NamedSource::new("f.yaml", source.clone()),
                    labels: vec![LabeledSpan::new_primary_with_span(
                        Some("here".into()),
                        (5, 4),
                    )],
                };
                let (mut a, mut b) = (String::new(), String::new());
                wrapping.render_report(&mut a, &diag).unwrap();
                plain.render_report(&mut b, &diag).unwrap();
                assert_eq!(a, b, "{message:?} / {help:?}");
            }
        }
        assert!(checked > 500, "only {checked} cases fit on one line");
        assert!(edge > 5, "only {edge} cases at the width's edge");
    }

    /// Reading a span through the line index gives what miette's scan from
    /// the start gives, for every span of a text, with any context.
    #[test]
    fn the_indexed_source_reads_spans_as_miette_does() {
        let texts = [
            "a: 1\nbb: 22\n\nccc: [x, y]\n  - é: ü\nlast",
            "one line",
            "\n\nx\n",
            "",
        ];
        for text in texts {
            let shared: Arc<str> = Arc::from(text);
            let indexed = Indexed::new(shared.clone(), &Lines::new(&shared));
            for offset in 0..=text.len() {
                for len in 0..=(text.len() - offset).min(9) {
                    for (before, after) in [(0, 0), (1, 1), (2, 0), (0, 3)] {
                        let span = SourceSpan::new(offset.into(), len);
                        let ours = indexed.read_span(&span, before, after);
                        let theirs = text.as_bytes().read_span(&span, before, after);
                        match (ours, theirs) {
                            (Ok(a), Ok(b)) => {
                                let got =
                                    (a.data(), a.span(), a.line(), a.column(), a.line_count());
                                let want =
                                    (b.data(), b.span(), b.line(), b.column(), b.line_count());
                                assert_eq!(
                                    got, want,
                                    "{text:?} at {offset}+{len}, {before}/{after}"
                                );
                            }
                            (Err(_), Err(_)) => {}
                            (a, b) => panic!(
                                "{text:?} at {offset}+{len}: {:?} vs {:?}",
                                a.is_ok(),
                                b.is_ok()
                            ),
                        }
                    }
                }
            }
        }
    }
}
