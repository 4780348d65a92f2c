//! Overriding or disabling the default AppArmor profile.
use super::{each_setting, Violation};
use crate::rules::prelude::*;
use k8s_openapi::api::core::v1::AppArmorProfile;

declare_rule! {
    id: "pss-apparmor", category: "pod-security", severity: Medium, pss: baseline, check,
    title: "AppArmor must not be disabled or set to an unconfined profile",
}

const PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    let bad = |p: &AppArmorProfile| p.type_ != "RuntimeDefault" && p.type_ != "Localhost";
    each_setting(
        w,
        |s| s.app_armor_profile.as_ref().filter(|p| bad(p)),
        |s| s.app_armor_profile.as_ref().filter(|p| bad(p)),
        |site, p| {
            if let Some(p) = p {
                let at = site.at(w, &["appArmorProfile", "type"]);
                let message = format!("{} sets AppArmor profile type {}", site.who(), p.type_);
                out.push(site.violation(at, message));
            }
        },
    );
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
