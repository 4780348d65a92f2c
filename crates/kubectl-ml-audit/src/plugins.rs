//! `--plugin FILE.wasm` and `--set RULE.OPTION=VALUE`: WebAssembly rules and
//! rule options.

use std::path::PathBuf;

use ml_audit::{Audit, Diagnostic, Level, Report};
use ml_audit_wasm::{HostOptions, PluginErrorRule, PluginHost};

/// Every built-in rule, `plugin-error`, and the rules of these plugins. A
/// plugin that cannot be loaded (not WebAssembly, a forbidden import,
/// another ABI version, over a cap, a rule id already taken) is an error
/// naming it.
pub fn audit(plugins: &[PathBuf]) -> Result<Audit, String> {
    let (audit, errors) = audit_or_errors(plugins, &[]);
    match errors.first() {
        None => Ok(audit),
        Some(_) => Err(errors
            .iter()
            .map(|d| d.message.as_str())
            .collect::<Vec<_>>()
            .join("\nerror: ")),
    }
}

/// The same, for a scan: a plugin that cannot be loaded or started is an
/// error diagnostic naming it, and every other rule still runs. `scanned`
/// are the paths being audited (a plugin cache inside one is refused).
pub fn audit_or_errors(plugins: &[PathBuf], scanned: &[PathBuf]) -> (Audit, Vec<Diagnostic>) {
    let mut audit = Audit::new();
    audit.add_rule(Box::new(PluginErrorRule::new()));
    if plugins.is_empty() {
        return (audit, Vec::new());
    }
    let error = |file: String, message: String| Diagnostic {
        level: Level::Error,
        file,
        line: 0,
        col: 0,
        message,
    };
    // Compiled modules are cached under $ML_AUDIT_CACHE_DIR, else
    // $XDG_CACHE_HOME/ml-audit/wasm, else ~/.cache/ml-audit/wasm.
    let host = match PluginHost::new(HostOptions {
        untrusted: scanned.to_vec(),
        ..HostOptions::default()
    }) {
        Ok(h) => h,
        Err(e) => {
            let errors = plugins
                .iter()
                .map(|p| error(p.display().to_string(), e.to_string()))
                .collect();
            return (audit, errors);
        }
    };
    if let Some(why) = host.cache_problem() {
        say!(
            "ml-audit: {}",
            crate::output::quote::quote(&why.to_string())
        );
    }
    let mut errors = Vec::new();
    let mut loaded = Vec::new();
    for p in plugins {
        match host.load(p) {
            Ok(plugin) => {
                if let Some(why) = plugin.cache_problem() {
                    say!(
                        "ml-audit: plugin {}: {}",
                        crate::output::quote::quote(&p.display().to_string()),
                        crate::output::quote::quote(why)
                    );
                }
                loaded.push(plugin);
            }
            Err(e) => errors.push(error(p.display().to_string(), e.to_string())),
        }
    }
    for (name, e) in ml_audit_wasm::register_each(&mut audit, loaded) {
        errors.push(error(name, e.to_string()));
    }
    (audit, errors)
}

/// Adds the plugins that could not be loaded to a report, as input errors.
pub fn report_errors(report: &mut Report, errors: &[Diagnostic]) {
    if errors.is_empty() {
        return;
    }
    report.diagnostics.extend(errors.iter().cloned());
    report.diagnostics.sort();
    report.diagnostics.dedup();
    report.summary.errors = report
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
}

/// Applies `RULE.OPTION=VALUE` settings (VALUE is JSON, or else a string).
/// An unknown rule or option, or a value of another type than the option
/// declares, is an error naming the argument.
pub fn set(audit: &mut Audit, settings: &[String]) -> Result<(), String> {
    for s in settings {
        let (key, value) = s
            .split_once('=')
            .ok_or_else(|| format!("`--set {s}`: expected RULE.OPTION=VALUE"))?;
        let (rule, option) = key
            .split_once('.')
            .filter(|(r, o)| !r.is_empty() && !o.is_empty())
            .ok_or_else(|| format!("`--set {s}`: expected RULE.OPTION=VALUE"))?;
        if audit.rule(rule).is_none() {
            return Err(format!(
                "`--set {s}`: unknown rule `{rule}` (see `kubectl ml-audit rules`)"
            ));
        }
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        // Checked against the options the rule declares (built-in and
        // plugin rules alike: plugins are registered before this runs).
        audit
            .set_option(rule, option, value)
            .map_err(|e| format!("`--set {s}`: {e}"))?;
    }
    Ok(())
}
