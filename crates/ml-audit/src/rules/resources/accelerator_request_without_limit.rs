//! Accelerators requested without an equal limit.
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::{finding, is_accelerator};
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "accelerator-request-without-limit",
    "resources",
    Severity::Medium,
    "GPU and other extended resources must be requested with an equal limit",
    rule_doc!("accelerator-request-without-limit"),
);

/// The rule.
pub struct AcceleratorRequestWithoutLimit;

impl Rule for AcceleratorRequestWithoutLimit {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        for c in &w.containers {
            let Some(res) = c.spec.resources.as_ref() else {
                continue;
            };
            let Some(requests) = res.requests.as_ref() else {
                continue;
            };
            for (k, v) in requests {
                if !is_accelerator(k) {
                    continue;
                }
                let limit = res.limits.as_ref().and_then(|l| l.get(k));
                let why = match limit {
                    None => "with no limit".to_string(),
                    Some(l) if l.0.trim() != v.0.trim() => {
                        format!("with a different limit ({})", l.0)
                    }
                    Some(_) => continue,
                };
                out.push(
                    finding(
                        cx,
                        &META,
                        w,
                        Some(c),
                        &c.pointer.keys(&["resources", "requests", k]),
                        format!(
                            "container `{}` requests {} `{k}` {why}: extended resources cannot be overcommitted, and the API server rejects such pods",
                            c.name, v.0
                        ),
                    )
                    .help(format!("set `resources.limits.{k}` to {} (or give only the limit: the request defaults to it)", v.0)),
                );
            }
        }
    }
}
