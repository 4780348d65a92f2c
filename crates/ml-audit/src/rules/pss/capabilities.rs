//! Capabilities beyond the baseline default set.
use super::Violation;
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-capabilities", category: "pod-security", severity: High, pss: baseline, check,
    title: "Containers must not add capabilities beyond the default set",
}

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

fn check(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
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
