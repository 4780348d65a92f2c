//! Privileged containers.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-privileged",
    "pod-security",
    Severity::Critical,
    "Containers must not run privileged",
    rule_doc!("pss-privileged"),
);

pub fn check(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
    for (c, e) in w.containers.iter().zip(eff) {
        if let Some(p) = e.privileged.as_ref().filter(|p| p.value) {
            out.push(Violation::container(
                c,
                p.pointer.clone(),
                format!("container `{}` is privileged", c.name),
            ));
        }
    }
}
