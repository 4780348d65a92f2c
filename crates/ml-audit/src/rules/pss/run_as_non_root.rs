//! Containers that may run as root.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-run-as-non-root",
    "pod-security",
    Severity::Medium,
    "Containers must set runAsNonRoot: true",
    rule_doc!("pss-run-as-non-root"),
);

pub fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    // Since policy v1.35 upstream skips this check for pods in their own user
    // namespace: UID 0 in the container is not root on the node (KEP-127).
    if w.spec.host_users == Some(false) {
        return;
    }
    let pod = w
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_non_root);
    if pod == Some(false) {
        out.push(Violation::pod(
            w.field_pointer("securityContext").key("runAsNonRoot"),
            "the pod sets runAsNonRoot: false",
        ));
    }
    for c in &w.containers {
        match c
            .spec
            .security_context
            .as_ref()
            .and_then(|s| s.run_as_non_root)
        {
            Some(false) => out.push(Violation::container(
                c,
                c.pointer.keys(&["securityContext", "runAsNonRoot"]),
                format!("container `{}` sets runAsNonRoot: false", c.name),
            )),
            Some(true) => {}
            None if pod == Some(true) => {}
            None => out.push(Violation::container(
                c,
                c.pointer.clone(),
                format!(
                    "container `{}` does not set runAsNonRoot: true (nor does the pod)",
                    c.name
                ),
            )),
        }
    }
}
