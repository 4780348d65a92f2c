//! Unmasked /proc in pods that share the host's user namespace.
use super::Violation;
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-proc-mount", category: "pod-security", severity: Medium, pss: baseline, check,
    title: "The /proc mount must stay masked in pods using the host's user namespace",
}

fn check(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
    if w.spec.host_users == Some(false) {
        return;
    }
    unmasked(w, eff, out);
}

/// Each container that sets a `procMount` other than `Default`.
pub(super) fn unmasked(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
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
