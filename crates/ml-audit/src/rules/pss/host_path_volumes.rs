//! hostPath volumes.
use super::Violation;
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-host-path-volumes", category: "pod-security", severity: High, pss: baseline, check,
    title: "Pods must not mount hostPath volumes",
}

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    for (i, v) in w.spec.volumes.iter().flatten().enumerate() {
        if let Some(h) = &v.host_path {
            out.push(Violation::pod(
                w.field_pointer("volumes").idx(i).key("hostPath"),
                format!("volume `{}` mounts host path {}", v.name, h.path),
            ));
        }
    }
}
