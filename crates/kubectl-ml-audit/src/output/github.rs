//! GitHub Actions workflow commands: one annotation per finding
//! (`::error file=...,line=...,col=...::message`).

use std::fmt::Write as _;

use ml_audit::{Level, Severity};

use super::Ctx;

/// Escapes a command's message: the runner's own escapes for `%`, CR and
/// newline (so no value starts a command of its own), and the visible
/// escapes of [`super::quote`] for the other control characters (an ANSI
/// sequence in a name would otherwise reach the log as it is).
fn data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if super::quote::needs_escape(c) => super::quote::push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a command's message as [`data`] does, and writes the legacy
/// command prefix `##[` as `#\u{23}[`: the runner reads a line as a `::`
/// command first, and tries `##[` anywhere in a line it cannot read so.
/// (Property values are kept exact: the file name must match the file.)
fn message(s: &str) -> String {
    data(s).replace("##[", "#\\u{23}[")
}

/// Escapes a command's property value.
fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders the annotations, then a summary line.
pub fn render(ctx: &Ctx<'_>) -> String {
    let mut out = String::new();
    for d in &ctx.report.diagnostics {
        let cmd = match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => continue,
        };
        let mut props = format!("file={}", prop(&d.file));
        if d.line > 0 {
            let _ = write!(props, ",line={},col={}", d.line, d.col.max(1));
        }
        let _ = writeln!(
            out,
            "::{cmd} {props},title=ml-audit input::{}",
            message(&d.message)
        );
    }
    for (f, src) in ctx.report.findings.iter().zip(&ctx.sources) {
        let cmd = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium | Severity::Low => "warning",
            Severity::Info => "notice",
        };
        let s = &f.span;
        let mut props = format!(
            "file={},line={},col={}",
            prop(&f.file),
            s.line,
            s.col.max(1)
        );
        if s.end_line >= s.line && (s.end_line > s.line || s.end_col > s.col) {
            let _ = write!(props, ",endLine={},endColumn={}", s.end_line, s.end_col);
        }
        let _ = write!(
            props,
            ",title={}",
            prop(&format!("{} ({})", f.rule, f.severity))
        );
        let mut msg = f.message.clone();
        if let Some(src) = src {
            let _ = write!(msg, " (rendered from {src})");
        }
        if let Some(h) = &f.help {
            let _ = write!(msg, "\n{h}");
        }
        let _ = writeln!(out, "::{cmd} {props}::{}", message(&msg));
    }
    let _ = writeln!(
        out,
        "ml-audit: {} findings, {} input errors",
        ctx.report.findings.len(),
        ctx.report.summary.errors
    );
    out
}
