//! Host ports.
use super::Violation;
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-host-ports", category: "pod-security", severity: Medium, pss: baseline, check,
    title: "Containers must not bind host ports",
}

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
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
