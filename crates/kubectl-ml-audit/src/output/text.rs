//! Text for people: each finding with its source lines underlined.

use std::collections::HashMap;
use std::fmt::Write as _;

use aho_corasick::AhoCorasick;
use rayon::prelude::*;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity as MSeverity,
};
use ml_audit::{Inventory, Level, Report, Severity, Span};

use super::quote::{needs_escape, push_escape, quote};

/// A text with the byte offset of each line's start, so that a line and
/// column resolve without scanning the text from its start.
pub struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
    /// Whether the text is ASCII: then a column is a byte count.
    ascii: bool,
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
            starts,
            ascii: text.is_ascii(),
        }
    }

    /// The number of lines.
    fn count(&self) -> usize {
        self.starts.len()
    }

    /// The 0-based line that holds byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// Byte range of 0-based line `i` without its line break (`\n` or
    /// `\r\n`), and whether it has one.
    fn bounds(&self, i: usize) -> (usize, usize, bool) {
        let start = self.starts[i];
        let mut end = self.starts.get(i + 1).copied().unwrap_or(self.text.len());
        let b = self.text.as_bytes();
        let newline = end > start && b[end - 1] == b'\n';
        if newline {
            end -= 1;
            if end > start && b[end - 1] == b'\r' {
                end -= 1;
            }
        }
        (start, end, newline)
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
        let line_end = l.trim_end_matches('\n').len();
        if self.ascii {
            // A column is a byte: no scan of a long line per span.
            return start + c.min(line_end);
        }
        start + l.char_indices().nth(c).map_or(line_end, |(b, _)| b)
    }
}

#[derive(Debug)]
struct Diag {
    message: String,
    code: String,
    help: Option<String>,
    severity: MSeverity,
    src: NamedSource<Excerpt>,
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

/// A line longer than this many bytes is cut to a window around what the
/// snippet underlines (a one-line JSON file is a single line of any
/// length); a shorter one is shown whole.
const LINE_MAX: usize = 200;
/// Characters shown either side of the underlined text on a cut line.
const SIDE: usize = 60;
/// Characters of the underlined text shown on a cut line.
const SPAN_MAX: usize = 80;
/// Lines between a finding and a related place in its file beyond which the
/// place is named in a note instead of shown.
const GAP_MAX: usize = 1000;
/// Marks where a line was cut.
const CUT: char = '…';

/// What a snippet shows of a file: the line of each label and one line
/// either side, each cut to a window around its labels, literal secrets
/// masked with `*`, control characters escaped (`\e`, `\u{9b}`). The lines
/// between are left empty (miette never shows them: see `read_span`). Its
/// size is bounded whatever the file's: a few lines of a few hundred
/// characters, and at most `GAP_MAX` empty ones.
#[derive(Debug)]
struct Excerpt {
    text: String,
    /// The file's 0-based line number of the excerpt's first line.
    first: usize,
    /// Each label's offset in `text`, and its byte column in the file.
    columns: Vec<(usize, usize)>,
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let part = <[u8] as miette::SourceCode>::read_span(
            self.text.as_bytes(),
            span,
            context_lines_before,
            context_lines_after,
        )?;
        // The header's column is the file's, not the cut line's.
        let column = match self.columns.iter().find(|c| c.0 == span.offset()) {
            Some(c) if context_lines_before == 0 => c.1,
            _ => part.column(),
        };
        // miette puts two labels in one context when the first context's
        // line plus this count reaches the second's line. Its own sources
        // count every line from the file's start, which merged labels
        // hundreds of lines apart into one snippet of every line between;
        // the lines of the context itself merge only contexts that touch.
        let count = part.data().iter().filter(|&&b| b == b'\n').count();
        Ok(Box::new(miette::MietteSpanContents::new(
            part.data(),
            *part.span(),
            part.line() + self.first,
            column,
            count,
        )))
    }
}

/// The file's literal secrets: the byte ranges of the values the detector
/// flagged in it, and every literal secret it knows wherever it is written
/// (at a YAML anchor, in another object).
struct Secrets<'a> {
    ranges: Vec<(usize, usize)>,
    values: Option<&'a (AhoCorasick, usize)>,
}

impl Secrets<'_> {
    /// The ranges to mask that meet `[from, to)` of the line `[ls, le)`,
    /// sorted and merged.
    fn within(
        &self,
        text: &str,
        (ls, le): (usize, usize),
        from: usize,
        to: usize,
    ) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        let first = self.ranges.partition_point(|r| r.1 <= from);
        out.extend(
            self.ranges[first..]
                .iter()
                .take_while(|r| r.0 < to)
                .copied(),
        );
        if let Some((ac, longest)) = self.values {
            let a = floor_char(text, from.saturating_sub(*longest).max(ls));
            let b = ceil_char(text, (to + longest).min(le));
            // Whole words only: `admin` as a password is masked, not in
            // `cluster-admin`.
            let word =
                |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
            out.extend(
                ac.find_overlapping_iter(&text[a..b])
                    .map(|m| (a + m.start(), a + m.end()))
                    .filter(|&(s, e)| {
                        !word(text[..s].chars().next_back()) && !word(text[e..].chars().next())
                    }),
            );
        }
        merge(out)
    }
}

fn merge(mut r: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    r.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(r.len());
    for (s, e) in r {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The byte offset `n` characters before `at`, not before `floor`.
fn back_chars(text: &str, floor: usize, at: usize, n: usize) -> usize {
    text[floor..at]
        .char_indices()
        .rev()
        .take(n)
        .last()
        .map_or(at, |(i, _)| floor + i)
}

/// The byte offset `n` characters after `at`, not after `limit`.
fn fwd_chars(text: &str, at: usize, limit: usize, n: usize) -> usize {
    text[at..limit]
        .char_indices()
        .nth(n)
        .map_or(limit, |(i, _)| at + i)
}

/// A label in file offsets, within one line.
struct Label {
    line: usize,
    start: usize,
    end: usize,
    text: Option<String>,
}

/// The excerpt that shows `labels` (the primary first, all in `lines`'
/// text), and the labels in its offsets. A label that does not fit in it
/// (too far from the primary, or outside the window of a cut line) is
/// returned in the last list, by index, for a note.
fn excerpt(
    lines: &Lines<'_>,
    secrets: &Secrets<'_>,
    labels: &[Label],
) -> (Excerpt, Vec<LabeledSpan>, Vec<usize>) {
    let text = lines.text;
    let primary_line = labels[0].line;
    let mut kept: Vec<(usize, usize, usize)> = Vec::new(); // (label, start, end), clipped
    let mut left_out = Vec::new();
    // The window of each line that holds a label: [from, to), cut before, cut after.
    let mut windows: Vec<(usize, (usize, usize, bool, bool))> = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        if l.line.abs_diff(primary_line) > GAP_MAX {
            left_out.push(i);
            continue;
        }
        let (ls, le, _) = lines.bounds(l.line);
        let w = match windows.iter().find(|(n, _)| *n == l.line) {
            Some((_, w)) => *w,
            None => {
                let w = if le - ls <= LINE_MAX {
                    (ls, le, false, false)
                } else {
                    let from = back_chars(text, ls, l.start, SIDE);
                    let shown = fwd_chars(text, l.start, l.end.max(l.start), SPAN_MAX);
                    let to = fwd_chars(text, shown, le, SIDE);
                    (from, to, from > ls, to < le)
                };
                windows.push((l.line, w));
                w
            }
        };
        if i > 0 && (l.start < w.0 || l.start > w.1) {
            left_out.push(i);
            continue;
        }
        let start = l.start.clamp(w.0, w.1);
        kept.push((i, start, l.end.clamp(start, w.1)));
    }
    let first = windows
        .iter()
        .map(|w| w.0)
        .min()
        .unwrap_or(0)
        .saturating_sub(1);
    let last =
        (windows.iter().map(|w| w.0).max().unwrap_or(0) + 1).min(lines.count().saturating_sub(1));
    let mut out = String::new();
    // Label boundaries in file offsets, then in the excerpt's.
    let mut points: Vec<(usize, usize)> = kept
        .iter()
        .flat_map(|&(_, s, e)| [(s, 0), (e, 0)])
        .collect();
    points.sort_unstable();
    points.dedup();
    for n in first..=last {
        let (ls, le, newline) = lines.bounds(n);
        if windows.iter().any(|(l, _)| l.abs_diff(n) <= 1) {
            let (from, to, cut_before, cut_after) = match windows.iter().find(|(l, _)| *l == n) {
                Some((_, w)) => *w,
                None if le - ls <= LINE_MAX => (ls, le, false, false),
                None => {
                    let to = fwd_chars(text, ls, le, 2 * SIDE + SPAN_MAX);
                    (ls, to, false, to < le)
                }
            };
            let masks = secrets.within(text, (ls, le), from, to);
            if cut_before {
                out.push(CUT);
            }
            let mut p = points.partition_point(|p| p.0 < from);
            let seg = &text[from..to];
            // As `quote_line` shows a line: controls escaped, the legacy
            // workflow command prefix `##[` too, and then (only then)
            // backslashes doubled.
            let plain = if seg.is_ascii() {
                !seg.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
            } else {
                !seg.chars().any(|c| c != '\t' && needs_escape(c))
            } && !seg.contains("##[");
            let command_hash = |i: usize| {
                let b = seg.as_bytes();
                i > 0 && b[i - 1] == b'#' && b.get(i + 1) == Some(&b'[')
            };
            if masks.is_empty() && plain {
                // (Most lines: copied as they are.)
                let base = out.len();
                while p < points.len() && points[p].0 <= to {
                    points[p].1 = base + points[p].0 - from;
                    p += 1;
                }
                out.push_str(seg);
            }
            let mut m = 0;
            let chars = if masks.is_empty() && plain {
                "".char_indices()
            } else {
                seg.char_indices()
            };
            for (i, c) in chars {
                let at = from + i;
                while p < points.len() && points[p].0 <= at {
                    points[p].1 = out.len();
                    p += 1;
                }
                while m < masks.len() && masks[m].1 <= at {
                    m += 1;
                }
                if m < masks.len() && masks[m].0 <= at {
                    out.push('*');
                } else if (c != '\t' && needs_escape(c)) || (c == '#' && command_hash(i)) {
                    push_escape(&mut out, c);
                } else if c == '\\' && !plain {
                    out.push_str("\\\\");
                } else {
                    out.push(c);
                }
            }
            while p < points.len() && points[p].0 <= to {
                points[p].1 = out.len();
                p += 1;
            }
            if cut_after {
                out.push(CUT);
            }
        }
        if newline {
            out.push('\n');
        }
    }
    let at = |o: usize| points[points.partition_point(|p| p.0 < o)].1;
    let mut spans = Vec::with_capacity(kept.len());
    let mut columns = Vec::with_capacity(kept.len());
    for &(i, s, e) in &kept {
        let (a, b) = (at(s), at(e));
        columns.push((a, labels[i].start - lines.bounds(labels[i].line).0));
        if i == 0 {
            spans.push(LabeledSpan::new_primary_with_span(
                labels[i].text.clone(),
                (a, b - a),
            ));
        } else {
            spans.push(LabeledSpan::new_with_span(
                labels[i].text.clone(),
                (a, b - a),
            ));
        }
    }
    (
        Excerpt {
            text: out,
            first,
            columns,
        },
        spans,
        left_out,
    )
}

/// A span's first line in the file's byte offsets: the line and the range
/// (a multi-line node is underlined on its first line only).
fn span_range(lines: &Lines<'_>, s: &Span) -> (usize, usize, usize) {
    let start = lines.offset(s.line, s.col);
    let line = lines.line_of(start);
    let line_end = if lines.count() == 0 {
        start
    } else {
        lines.bounds(line).1.max(start)
    };
    let end = if s.end_line == s.line && s.end_col > s.col {
        lines.offset(s.end_line, s.end_col).min(line_end)
    } else {
        line_end
    };
    (line, start, end.max(start))
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
    // Literal secrets are masked in every source line shown: the values the
    // detector flagged, where they are, and every occurrence of them.
    let mut secrets_of: HashMap<&str, Vec<&Span>> = HashMap::new();
    let (spans, mut values) = ml_audit::secret_sites(inv);
    for (f, s) in &spans {
        secrets_of.entry(f.as_str()).or_default().push(s);
    }
    // (A value longer than this is masked where the detector found it, and
    // by the credentials in it: searching for it around every snippet
    // would cost its length each time.)
    const VALUE_MAX: usize = 512;
    values.retain(|v| v.len() <= VALUE_MAX);
    let values = (!values.is_empty())
        .then(|| {
            let longest = values.iter().map(String::len).max().unwrap_or(0);
            AhoCorasick::new(&values).ok().map(|ac| (ac, longest))
        })
        .flatten();
    let files: HashMap<&str, &str> = inv
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.text.as_str()))
        .collect();
    for d in &report.diagnostics {
        let level = match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
        };
        let _ = writeln!(
            out,
            "{level}: {}:{}:{}: {}",
            quote(&d.file),
            d.line,
            d.col,
            quote(&d.message)
        );
    }
    if !report.diagnostics.is_empty() {
        out.push('\n');
    }
    // Findings come sorted by file: each run of one file's findings shares
    // its line index and secrets, and runs render in parallel.
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
        let file = findings[from].file.as_str();
        let text = files.get(file).copied().unwrap_or_default();
        let lines = Lines::new(text);
        let secrets = Secrets {
            ranges: merge(
                secrets_of
                    .get(file)
                    .into_iter()
                    .flatten()
                    .map(|s| {
                        let start = lines.offset(s.line, s.col);
                        (start, lines.offset(s.end_line, s.end_col).max(start))
                    })
                    .collect(),
            ),
            values: values.as_ref(),
        };
        let name = quote(file).into_owned();
        for (i, f) in findings.iter().enumerate().take(to).skip(from) {
            let mut extra = String::new();
            let mut labels = Vec::new();
            let mut far = Vec::new();
            let (line, start, end) = span_range(&lines, &f.span);
            labels.push(Label {
                line,
                start,
                end,
                text: Some("here".into()),
            });
            for r in &f.related {
                if r.file == f.file && lines.count() > 0 {
                    let (line, start, end) = span_range(&lines, &r.span);
                    labels.push(Label {
                        line,
                        start,
                        end,
                        text: Some(quote(&r.message).into_owned()),
                    });
                    far.push(r);
                } else {
                    let _ = writeln!(
                        extra,
                        "  = {}: {}:{}:{}",
                        quote(&r.message),
                        quote(&r.file),
                        r.span.line,
                        r.span.col
                    );
                }
            }
            if !f.units.is_empty() {
                // Each unit with its role when it is not a deployed one.
                let units: Vec<String> = f
                    .units
                    .iter()
                    .map(|u| {
                        let role = inv
                            .units
                            .iter()
                            .find(|x| &x.path == u)
                            .map_or(ml_audit::Role::Deploy, |x| x.role);
                        match role {
                            ml_audit::Role::Deploy => quote(u).into_owned(),
                            r => format!("{} ({})", quote(u), r.as_str()),
                        }
                    })
                    .collect();
                let what = if units.len() == 1 { "unit" } else { "units" };
                let _ = writeln!(
                    extra,
                    "  = rendered by the kustomization {what} {}",
                    units.join(", ")
                );
            }
            let (src, labels, left_out) = if lines.count() == 0 {
                let src = Excerpt {
                    text: String::new(),
                    first: 0,
                    columns: Vec::new(),
                };
                (
                    src,
                    vec![LabeledSpan::new_primary_with_span(
                        Some("here".into()),
                        (0, 0),
                    )],
                    Vec::new(),
                )
            } else {
                excerpt(&lines, &secrets, &labels)
            };
            for k in left_out {
                let r = far[k - 1];
                let _ = writeln!(
                    extra,
                    "  = {}: {}:{}:{}",
                    quote(&r.message),
                    name,
                    r.span.line,
                    r.span.col
                );
            }
            let severity = match f.severity {
                Severity::Critical | Severity::High => MSeverity::Error,
                Severity::Medium | Severity::Low => MSeverity::Warning,
                Severity::Info => MSeverity::Advice,
            };
            let diag = Diag {
                message: format!("[{}] {}", f.severity, quote(&f.message)),
                code: quote(&f.rule).into_owned(),
                help: f.help.as_deref().map(|h| quote(h).into_owned()),
                severity,
                src: NamedSource::new(name.clone(), src),
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
                let _ = writeln!(out, "  = rendered from: {}", quote(src));
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
            (
                k.role_not_selected,
                "of a unit role the config does not select",
            ),
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
    if !s.not_audited.is_empty() {
        let n: usize = s.not_audited.iter().map(|e| e.count).sum();
        let _ = writeln!(out, "{n} objects not audited:");
        for e in &s.not_audited {
            let _ = writeln!(
                out,
                "  {:>5}  {} {}: {}",
                e.count,
                quote(&e.api_version),
                quote(&e.kind),
                e.reason
            );
        }
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
        let source = || Excerpt {
            text: "a: 1\nb: 2\n".into(),
            first: 0,
            columns: Vec::new(),
        };
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
                    src: NamedSource::new("f.yaml", source()),
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

    fn excerpt_of(text: &str, spans: &[Span]) -> (Excerpt, Vec<LabeledSpan>, Vec<usize>) {
        let lines = Lines::new(text);
        let secrets = Secrets {
            ranges: Vec::new(),
            values: None,
        };
        let labels: Vec<Label> = spans
            .iter()
            .map(|s| {
                let (line, start, end) = span_range(&lines, s);
                Label {
                    line,
                    start,
                    end,
                    text: None,
                }
            })
            .collect();
        excerpt(&lines, &secrets, &labels)
    }

    /// A line of any length is cut to a window around the span, with `…`
    /// where it was cut; the span keeps its text, and a short line is kept
    /// whole.
    #[test]
    fn long_lines_are_cut_around_the_span() {
        let line = format!("{}TARGET{}\n", "a".repeat(100_000), "b".repeat(100_000));
        let span = Span {
            line: 1,
            col: 100_001,
            end_line: 1,
            end_col: 100_007,
        };
        let (e, labels, far) = excerpt_of(&line, &[span]);
        assert!(far.is_empty());
        assert!(e.text.len() < 2 * SIDE + SPAN_MAX + 16, "{}", e.text.len());
        assert!(
            e.text.starts_with('…') && e.text.ends_with("…\n"),
            "{}",
            e.text
        );
        let l = &labels[0];
        assert_eq!(&e.text[l.offset()..l.offset() + l.len()], "TARGET");
        // The header's column is the file's.
        assert_eq!(e.columns, vec![(l.offset(), 100_000)]);
        let (e, _, _) = excerpt_of(
            "a: 1\nb: 2\n",
            &[Span {
                line: 2,
                col: 1,
                end_line: 2,
                end_col: 5,
            }],
        );
        assert_eq!(e.text, "a: 1\nb: 2\n");
    }

    /// Controls in a source line are escaped in the snippet.
    #[test]
    fn source_lines_are_escaped() {
        let (e, labels, _) = excerpt_of(
            "name: \"x\x1b]52;c;aGk=\x07\"\nk: \x1b[2J\tv\r\n",
            &[Span {
                line: 1,
                col: 7,
                end_line: 1,
                end_col: 10,
            }],
        );
        assert_eq!(e.text, "name: \"x\\e]52;c;aGk=\\u{7}\"\nk: \\e[2J\tv\n");
        assert_eq!(labels[0].offset(), 6);
    }

    /// The legacy workflow command prefix `##[` in a source line (a
    /// comment, a value) is escaped, and so, on a line with something
    /// escaped, is each backslash; other lines are shown as written.
    #[test]
    fn source_lines_start_no_workflow_command() {
        let (e, _, _) = excerpt_of(
            "# ##[add-mask]x \\n\nname: \"a\\nb\"\nc: \"\\e\x1b\"\n",
            &[Span {
                line: 2,
                col: 1,
                end_line: 2,
                end_col: 5,
            }],
        );
        assert_eq!(
            e.text,
            "# #\\u{23}[add-mask]x \\\\n\nname: \"a\\nb\"\nc: \"\\\\e\\e\"\n"
        );
    }
}
