//! Unmasked /proc, even in user-namespaced pods.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-proc-mount-restricted",
    "pod-security",
    Severity::Low,
    "The /proc mount must stay masked",
    rule_doc!("pss-proc-mount-restricted"),
);

pub fn check(w: &Workload, out: &mut Vec<Violation>) {
    for c in &w.containers {
        if let Some(p) = effective(w, c)
            .proc_mount
            .filter(|p| p.value != "Default" && !p.value.is_empty())
        {
            out.push(Violation::container(
                c,
                p.pointer,
                format!("container `{}` sets procMount: {}", c.name, p.value),
            ));
        }
    }
}
