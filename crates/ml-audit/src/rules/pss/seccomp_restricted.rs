//! Seccomp profile not set to RuntimeDefault or Localhost.
use super::{each_setting, is_windows, Site, Violation};
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-seccomp-restricted", category: "pod-security", severity: Medium, pss: restricted, check,
    title: "Seccomp must be set to RuntimeDefault or Localhost",
}

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    if is_windows(w) {
        return;
    }
    let ok = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let mut pod_ok = false;
    each_setting(
        w,
        |s| s.seccomp_profile.as_ref().map(|p| p.type_.as_str()),
        |s| s.seccomp_profile.as_ref().map(|p| p.type_.as_str()),
        |site, t| {
            if let Site::Pod = site {
                pod_ok = t.is_some_and(ok);
            }
            match (site, t) {
                (_, Some(t)) if ok(t) => {}
                (_, Some(t)) => out.push(site.violation(
                    site.at(w, &["seccompProfile", "type"]),
                    format!("{} sets seccomp profile {t}", site.who()),
                )),
                (Site::Pod, None) => {}
                (Site::Container(_), None) if pod_ok => {}
                (Site::Container(c), None) => out.push(site.violation(
                    c.pointer.clone(),
                    format!(
                        "container `{}` has no seccomp profile (nor does the pod)",
                        c.name
                    ),
                )),
            }
        },
    );
}
