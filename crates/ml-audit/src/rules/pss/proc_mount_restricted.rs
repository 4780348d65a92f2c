//! Unmasked /proc, even in user-namespaced pods.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-proc-mount-restricted",
    "pod-security",
    Severity::Low,
    "The /proc mount must stay masked",
    rule_doc!("pss-proc-mount-restricted"),
);

pub fn check(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
    for (c, e) in w.containers.iter().zip(eff) {
        if let Some(p) = e
            .proc_mount
            .as_ref()
            .filter(|p| p.value != "Default" && !p.value.is_empty())
        {
            out.push(Violation::container(
                c,
                p.pointer.clone(),
                format!("container `{}` sets procMount: {}", c.name, p.value),
            ));
        }
    }
}
