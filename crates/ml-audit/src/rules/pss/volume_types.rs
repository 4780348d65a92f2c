//! Volume types beyond the restricted set.
use super::Violation;
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-volume-types", category: "pod-security", severity: Medium, pss: restricted, check,
    title: "Pods must use only the restricted volume types",
}

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

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
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
