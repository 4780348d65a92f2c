//! Overriding or disabling the default AppArmor profile.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-apparmor",
    "pod-security",
    Severity::Medium,
    "AppArmor must not be disabled or set to an unconfined profile",
    rule_doc!("pss-apparmor"),
);

const PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

pub fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    let ok_type = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    if let Some(p) = w
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.app_armor_profile.as_ref())
    {
        if !ok_type(&p.type_) {
            out.push(Violation::pod(
                w.field_pointer("securityContext")
                    .keys(&["appArmorProfile", "type"]),
                format!("the pod sets AppArmor profile type {}", p.type_),
            ));
        }
    }
    for c in &w.containers {
        if let Some(p) = c
            .spec
            .security_context
            .as_ref()
            .and_then(|s| s.app_armor_profile.as_ref())
        {
            if !ok_type(&p.type_) {
                out.push(Violation::container(
                    c,
                    c.pointer
                        .keys(&["securityContext", "appArmorProfile", "type"]),
                    format!(
                        "container `{}` sets AppArmor profile type {}",
                        c.name, p.type_
                    ),
                ));
            }
        }
    }
    for (k, v) in &w.annotations {
        if let Some(name) = k.strip_prefix(PREFIX) {
            // An empty value is the default profile, as upstream allows.
            if !(v.is_empty() || v == "runtime/default" || v.starts_with("localhost/")) {
                let ptr = match &w.meta_pointer {
                    Some(m) => m.keys(&["annotations", k]),
                    None => crate::node::Pointer::root().keys(&["metadata", "annotations", k]),
                };
                out.push(Violation::pod(
                    ptr,
                    format!("annotation sets AppArmor profile `{v}` for container `{name}`"),
                ));
            }
        }
    }
}
