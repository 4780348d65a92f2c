//! Long-running workloads without a liveness probe.
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::{finding, long_running_app_containers};
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "missing-liveness-probe",
    "hygiene",
    Severity::Low,
    "Long-running containers should have a liveness probe",
    rule_doc!("missing-liveness-probe"),
);

/// The rule.
pub struct MissingLivenessProbe;

impl Rule for MissingLivenessProbe {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        for c in long_running_app_containers(cx, w) {
            if c.spec.liveness_probe.is_some() {
                continue;
            }
            out.push(
                finding(cx, &META, w, Some(c), &c.pointer, format!(
                    "container `{}` has no liveness probe: a hung process is never restarted",
                    c.name
                ))
                .help("add a `livenessProbe` that fails only when the process is wedged (not on slow dependencies)"),
            );
        }
    }
}
