//! Sharing the host's network, PID or IPC namespace.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-host-namespaces",
    "pod-security",
    Severity::High,
    "Pods must not share the host's network, PID or IPC namespaces",
    rule_doc!("pss-host-namespaces"),
);

pub fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    for (field, set) in [
        ("hostNetwork", w.spec.host_network),
        ("hostPID", w.spec.host_pid),
        ("hostIPC", w.spec.host_ipc),
    ] {
        if set == Some(true) {
            out.push(Violation::pod(
                w.field_pointer(field),
                format!("the pod sets `{field}: true`"),
            ));
        }
    }
}
