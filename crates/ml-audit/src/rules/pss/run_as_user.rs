//! runAsUser: 0.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-run-as-user",
    "pod-security",
    Severity::Medium,
    "Pods and containers must not set runAsUser: 0",
    rule_doc!("pss-run-as-user"),
);

pub fn check(w: &Workload, out: &mut Vec<Violation>) {
    if w.spec.security_context.as_ref().and_then(|s| s.run_as_user) == Some(0) {
        out.push(Violation::pod(
            w.field_pointer("securityContext").key("runAsUser"),
            "the pod sets runAsUser: 0 (root)",
        ));
    }
    for c in &w.containers {
        if c.spec.security_context.as_ref().and_then(|s| s.run_as_user) == Some(0) {
            out.push(Violation::container(
                c,
                c.pointer.keys(&["securityContext", "runAsUser"]),
                format!("container `{}` sets runAsUser: 0 (root)", c.name),
            ));
        }
    }
}
