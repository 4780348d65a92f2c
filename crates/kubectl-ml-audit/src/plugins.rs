//! `--plugin FILE.wasm` and `--set RULE.OPTION=VALUE`: WebAssembly rules and
//! rule options.

use std::path::PathBuf;

use ml_audit::Audit;
use ml_audit_wasm::{HostOptions, PluginHost};

/// Every built-in rule plus the rules of these plugins. A plugin that cannot
/// be loaded (not WebAssembly, a forbidden import, another ABI version, a
/// rule id already taken) is an error naming it.
pub fn audit(plugins: &[PathBuf]) -> Result<Audit, String> {
    let mut audit = Audit::new();
    if plugins.is_empty() {
        return Ok(audit);
    }
    // Compiled modules are cached under $ML_AUDIT_CACHE_DIR, else
    // $XDG_CACHE_HOME/ml-audit/wasm, else ~/.cache/ml-audit/wasm.
    let host = PluginHost::new(HostOptions::default()).map_err(|e| e.to_string())?;
    let loaded = plugins
        .iter()
        .map(|p| host.load(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    ml_audit_wasm::register(&mut audit, &loaded).map_err(|e| e.to_string())?;
    Ok(audit)
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
