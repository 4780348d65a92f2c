//! Host ports.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-host-ports",
    "pod-security",
    Severity::Medium,
    "Containers must not bind host ports",
    rule_doc!("pss-host-ports"),
);

pub fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    for c in &w.containers {
        for (i, p) in c.spec.ports.iter().flatten().enumerate() {
            if let Some(hp) = p.host_port.filter(|hp| *hp != 0) {
                out.push(Violation::container(
                    c,
                    c.pointer.key("ports").idx(i).key("hostPort"),
                    format!("container `{}` binds host port {hp}", c.name),
                ));
            }
        }
    }
}
