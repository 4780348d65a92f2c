//! Long-running workloads without a readiness probe.
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::serving::serving_containers;
use crate::rules::util::{finding, long_running_app_containers};
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "missing-readiness-probe",
    "hygiene",
    Severity::Low,
    "Long-running containers should have a readiness probe",
    rule_doc!("missing-readiness-probe"),
);

/// The rule.
pub struct MissingReadinessProbe;

impl Rule for MissingReadinessProbe {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        let containers = long_running_app_containers(cx, w);
        if containers.is_empty() {
            return;
        }
        let obj = cx.inventory.object(w.object);
        let served: Vec<String> = serving_containers(obj, w)
            .iter()
            .map(|c| c.name.clone())
            .collect();
        for c in containers {
            if c.spec.readiness_probe.is_some() || served.contains(&c.name) {
                continue;
            }
            out.push(
                finding(cx, &META, w, Some(c), &c.pointer, format!(
                    "container `{}` has no readiness probe: traffic reaches it before it is ready and while it is stuck",
                    c.name
                ))
                .help("add a `readinessProbe` on an endpoint that answers only when the container can serve"),
            );
        }
    }
}
