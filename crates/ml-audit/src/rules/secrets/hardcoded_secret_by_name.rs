//! Literal values under names that say "password", "token", "secret".
use super::{workload_hits, Class};
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::finding;
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "hardcoded-secret-by-name",
    "secrets",
    Severity::High,
    "Passwords, tokens and secrets must not be given as literal values",
    rule_doc!("hardcoded-secret-by-name"),
);

/// The rule.
pub struct HardcodedSecretByName;

impl Rule for HardcodedSecretByName {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        for h in workload_hits(cx, w).iter() {
            let c = &w.containers[h.container];
            if let Class::ByName { name, redacted } = &h.class {
                let what = if h.what.starts_with("env var") {
                    h.what.clone()
                } else {
                    format!("{} (`{name}`)", h.what)
                };
                out.push(
                    finding(
                        cx,
                        &META,
                        w,
                        Some(c),
                        &h.pointer,
                        format!(
                            "container `{}`: {what} is given a literal value {redacted}",
                            c.name
                        ),
                    )
                    .help("put the value in a Secret and mount it as a file (or use `valueFrom.secretKeyRef`); rotate it if this manifest was ever shared"),
                );
            }
        }
    }
}
