//! allowPrivilegeEscalation not set to false.
use super::{is_windows, Violation};
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-privilege-escalation", category: "pod-security", severity: Medium, pss: restricted, check,
    title: "Containers must set allowPrivilegeEscalation: false",
}

fn check(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
    if is_windows(w) {
        return;
    }
    for (c, e) in w.containers.iter().zip(eff) {
        match &e.allow_privilege_escalation {
            Some(s) if !s.value => {}
            Some(s) => out.push(Violation::container(
                c,
                s.pointer.clone(),
                format!("container `{}` sets allowPrivilegeEscalation: true", c.name),
            )),
            None => out.push(Violation::container(
                c,
                c.pointer.clone(),
                format!(
                    "container `{}` does not set allowPrivilegeEscalation: false",
                    c.name
                ),
            )),
        }
    }
}
