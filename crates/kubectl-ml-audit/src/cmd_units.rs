//! `kubectl ml-audit units`: what a repository deploys (kustomization roots
//! and plain folders), each with its role and what it renders from.

use std::fmt::Write as _;

use clap::{Args, ValueEnum};
use ml_audit::{Level, LoadOptions, Unit, Units};

use crate::output::quote::quote;
use crate::{usage_error, write_out};

/// Output formats of `units`.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq, Default)]
pub enum UnitsFormat {
    /// One line per unit, then what it renders from, indented.
    #[default]
    Text,
    /// A JSON array of units, sorted by path.
    Json,
}

/// Arguments of `units`.
#[derive(Args, Debug)]
pub struct UnitsArgs {
    /// Directories (walked as `scan` walks them) and files.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<std::path::PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = UnitsFormat::Text)]
    format: UnitsFormat,
    /// Walk every file under a directory, whatever git tracks or ignores.
    #[arg(long)]
    no_ignore: bool,
}

/// Runs `units`: exit code 0, or 2 when a kustomization (or a directory)
/// could not be read.
pub fn run(args: UnitsArgs) -> u8 {
    let config = match std::env::current_dir()
        .ok()
        .and_then(|d| ml_audit::config::Config::discover(&d))
    {
        Some(p) => match ml_audit::config::Config::load(&p) {
            Ok(c) => c,
            Err(e) => return crate::scan::print_config_errors(&e),
        },
        None => ml_audit::config::Config::default(),
    };
    let opts = LoadOptions {
        exclude: config.exclude.clone(),
        no_ignore: args.no_ignore,
        ..LoadOptions::default()
    };
    for p in &args.paths {
        if !p.exists() {
            return usage_error(&format!(
                "{}: no such file or directory",
                ml_audit::__internals::display_path(p)
            ));
        }
    }
    let mut found = ml_audit::find_units(&args.paths, &opts);
    // The config's `units: {roles: [...]}` chooses the roles listed.
    if !config.unit_roles.is_empty() {
        found.units.retain(|u| config.unit_roles.contains(&u.role));
    }
    for d in &found.diagnostics {
        say!("{}", diagnostic(d));
    }
    let code = if found.diagnostics.iter().any(|d| d.level == Level::Error) {
        2
    } else {
        0
    };
    match args.format {
        UnitsFormat::Json => write_out(code, |w| {
            serde_json::to_writer_pretty(&mut *w, &found.units)?;
            w.write_all(b"\n")
        }),
        UnitsFormat::Text => {
            let text = text(&found);
            write_out(code, |w| w.write_all(text.as_bytes()))
        }
    }
}

fn diagnostic(d: &ml_audit::Diagnostic) -> String {
    let level = match d.level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "info",
    };
    if d.line > 0 {
        format!(
            "{level}: {}:{}:{}: {}",
            quote(&d.file),
            d.line,
            d.col,
            quote(&d.message)
        )
    } else {
        format!("{level}: {}: {}", quote(&d.file), quote(&d.message))
    }
}

/// The text report: one line per unit (kind, role, path), then indented
/// what it renders from, its remote bases and its errors; a last line
/// counts them.
pub fn text(found: &Units) -> String {
    let mut s = String::new();
    for u in &found.units {
        unit_text(&mut s, u, found);
    }
    let roots = found
        .units
        .iter()
        .filter(|u| u.kind == ml_audit::UnitKind::Kustomization)
        .count();
    let _ = writeln!(
        s,
        "{} units: {roots} kustomization roots, {} plain folders",
        found.units.len(),
        found.units.len() - roots
    );
    s
}

fn unit_text(s: &mut String, u: &Unit, found: &Units) {
    let _ = writeln!(
        s,
        "{:<13}  {:<7}  {}",
        u.kind.as_str(),
        u.role.as_str(),
        quote(&u.path)
    );
    for k in u.kustomizations.iter().skip(1) {
        let shared = found
            .shared
            .get(k)
            .map(|users| format!(" (shared by {} roots)", users.len()))
            .unwrap_or_default();
        let _ = writeln!(s, "    uses           {}{shared}", quote(k));
    }
    for k in &u.outside {
        let _ = writeln!(s, "    outside input  {}", quote(k));
    }
    for f in &u.files {
        let _ = writeln!(s, "    {:<13}  {}", f.used_as.as_str(), quote(&f.path));
    }
    for r in &u.remote_bases {
        let _ = writeln!(
            s,
            "    remote         {} ({}:{})",
            quote(&r.url),
            quote(&r.file),
            r.line
        );
    }
    for e in &u.errors {
        let _ = writeln!(s, "    {}", diagnostic(e));
    }
}
