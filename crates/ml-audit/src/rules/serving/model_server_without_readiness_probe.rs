//! Model servers without a readiness probe.
use super::serving_containers;
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::finding;
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "model-server-without-readiness-probe",
    "serving",
    Severity::Low,
    "Model servers should have a readiness probe",
    rule_doc!("model-server-without-readiness-probe"),
);

/// The rule.
pub struct ModelServerWithoutReadinessProbe;

impl Rule for ModelServerWithoutReadinessProbe {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        // A Kustomize patch leaves out what its base already says.
        if crate::rules::util::from_patch(cx, w) {
            return;
        }
        let obj = cx.inventory.object(w.object);
        for c in serving_containers(obj, w) {
            if c.spec.readiness_probe.is_some() {
                continue;
            }
            out.push(
                finding(cx, &META, w, Some(c), &c.pointer, format!(
                    "model server container `{}` has no readiness probe: it receives requests while the model is still loading (errors and timeouts on every scale-up and rollout)",
                    c.name
                ))
                .help("add a `readinessProbe` on the server's readiness endpoint (`/v2/health/ready`, `/v1/models/<name>`, `/health`) with an `initialDelaySeconds` or a `startupProbe` that covers model loading"),
            );
        }
    }
}
