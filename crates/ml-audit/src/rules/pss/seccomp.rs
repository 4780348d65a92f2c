//! Explicitly unconfined seccomp.
use super::{each_setting, Violation};
use crate::rules::prelude::*;
use k8s_openapi::api::core::v1::SeccompProfile;

declare_rule! {
    id: "pss-seccomp", category: "pod-security", severity: Medium, pss: baseline, check,
    title: "Seccomp must not be set to Unconfined",
}

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    let profile = |p: &SeccompProfile| p.type_ == "Unconfined";
    each_setting(
        w,
        |s| s.seccomp_profile.as_ref().filter(|p| profile(p)),
        |s| s.seccomp_profile.as_ref().filter(|p| profile(p)),
        |site, unconfined| {
            if unconfined.is_some() {
                let at = site.at(w, &["seccompProfile", "type"]);
                let message = format!("{} sets seccomp profile Unconfined", site.who());
                out.push(site.violation(at, message));
            }
        },
    );
}
