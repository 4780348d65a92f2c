//! Sharing the host's network, PID or IPC namespace.
use super::Violation;
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-host-namespaces", category: "pod-security", severity: High, pss: baseline, check,
    title: "Pods must not share the host's network, PID or IPC namespaces",
}

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    for (field, set) in [
        ("hostNetwork", w.spec.host_network),
        ("hostPID", w.spec.host_pid),
        ("hostIPC", w.spec.host_ipc),
    ] {
        if set == Some(true) {
            out.push(Violation::pod(
                w.field_pointer(field),
                format!("the pod sets `{field}: true`"),
            ));
        }
    }
}
