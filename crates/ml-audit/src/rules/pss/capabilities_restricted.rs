//! Capabilities not dropped, or added beyond NET_BIND_SERVICE.
use super::{is_windows, Violation};
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-capabilities-restricted", category: "pod-security", severity: Medium, pss: restricted, check,
    title: "Containers must drop ALL capabilities and add only NET_BIND_SERVICE",
}

fn check(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
    if is_windows(w) {
        return;
    }
    for (c, e) in w.containers.iter().zip(eff) {
        if !e.drops_all() {
            let ptr = if e.cap_drop.is_empty() {
                c.pointer.clone()
            } else {
                c.pointer.keys(&["securityContext", "capabilities", "drop"])
            };
            out.push(Violation::container(
                c,
                ptr,
                format!("container `{}` does not drop ALL capabilities", c.name),
            ));
        }
        for cap in &e.cap_add {
            if cap.value != "NET_BIND_SERVICE" {
                out.push(Violation::container(
                    c,
                    cap.pointer.clone(),
                    format!("container `{}` adds capability {}", c.name, cap.value),
                ));
            }
        }
    }
}
