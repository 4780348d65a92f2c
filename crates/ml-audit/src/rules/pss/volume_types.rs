//! Volume types beyond the restricted set.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-volume-types",
    "pod-security",
    Severity::Medium,
    "Pods must use only the restricted volume types",
    rule_doc!("pss-volume-types"),
);

/// Volume types the restricted level allows.
pub const ALLOWED: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
    "image",
];

pub fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    for (i, v) in w.spec.volumes.iter().flatten().enumerate() {
        let Ok(serde_json::Value::Object(m)) = serde_json::to_value(v) else {
            continue;
        };
        for k in m.keys() {
            if k != "name" && !ALLOWED.contains(&k.as_str()) {
                out.push(Violation::pod(
                    w.field_pointer("volumes").idx(i).key(k),
                    format!("volume `{}` has restricted type {k}", v.name),
                ));
            }
        }
    }
}
