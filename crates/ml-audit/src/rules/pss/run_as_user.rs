//! runAsUser: 0.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-run-as-user",
    "pod-security",
    Severity::Medium,
    "Pods and containers must not set runAsUser: 0",
    rule_doc!("pss-run-as-user"),
);

pub fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    // Since policy v1.35 upstream skips this check for pods in their own user
    // namespace: UID 0 in the container is not root on the node (KEP-127).
    if w.spec.host_users == Some(false) {
        return;
    }
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
