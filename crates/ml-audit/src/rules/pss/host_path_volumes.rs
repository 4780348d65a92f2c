//! hostPath volumes.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-host-path-volumes",
    "pod-security",
    Severity::High,
    "Pods must not mount hostPath volumes",
    rule_doc!("pss-host-path-volumes"),
);

pub fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    for (i, v) in w.spec.volumes.iter().flatten().enumerate() {
        if let Some(h) = &v.host_path {
            out.push(Violation::pod(
                w.field_pointer("volumes").idx(i).key("hostPath"),
                format!("volume `{}` mounts host path {}", v.name, h.path),
            ));
        }
    }
}
