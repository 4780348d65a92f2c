//! Capabilities beyond the baseline default set.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-capabilities",
    "pod-security",
    Severity::High,
    "Containers must not add capabilities beyond the default set",
    rule_doc!("pss-capabilities"),
);

/// Capabilities the baseline level allows adding.
pub const ALLOWED: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

pub fn check(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
    for (c, e) in w.containers.iter().zip(eff) {
        for cap in &e.cap_add {
            if !ALLOWED.contains(&cap.value.as_str()) {
                out.push(Violation::container(
                    c,
                    cap.pointer.clone(),
                    format!("container `{}` adds capability {}", c.name, cap.value),
                ));
            }
        }
    }
}
