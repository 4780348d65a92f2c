//! Privileged containers.
use super::Violation;
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-privileged", category: "pod-security", severity: Critical, pss: baseline, check,
    title: "Containers must not run privileged",
}

fn check(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
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
