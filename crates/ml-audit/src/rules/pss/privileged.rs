//! Privileged containers.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-privileged",
    "pod-security",
    Severity::Critical,
    "Containers must not run privileged",
    rule_doc!("pss-privileged"),
);

pub fn check(w: &Workload, out: &mut Vec<Violation>) {
    for c in &w.containers {
        if let Some(p) = effective(w, c).privileged.filter(|p| p.value) {
            out.push(Violation::container(
                c,
                p.pointer,
                format!("container `{}` is privileged", c.name),
            ));
        }
    }
}
