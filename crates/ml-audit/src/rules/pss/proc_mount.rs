//! Unmasked /proc in pods that share the host's user namespace.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-proc-mount",
    "pod-security",
    Severity::Medium,
    "The /proc mount must stay masked in pods using the host's user namespace",
    rule_doc!("pss-proc-mount"),
);

pub fn check(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
    if w.spec.host_users == Some(false) {
        return;
    }
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
