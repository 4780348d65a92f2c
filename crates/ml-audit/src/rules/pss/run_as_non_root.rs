//! Containers that may run as root.
use super::{each_setting, Site, Violation};
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-run-as-non-root", category: "pod-security", severity: Medium, pss: restricted, check,
    title: "Containers must set runAsNonRoot: true",
}

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    // Since policy v1.35 upstream skips this check for pods in their own user
    // namespace: UID 0 in the container is not root on the node (KEP-127).
    if w.spec.host_users == Some(false) {
        return;
    }
    let mut pod = None;
    each_setting(
        w,
        |s| s.run_as_non_root,
        |s| s.run_as_non_root,
        |site, set| {
            if let Site::Pod = site {
                pod = set;
            }
            match (site, set) {
                (_, Some(false)) => out.push(site.violation(
                    site.at(w, &["runAsNonRoot"]),
                    format!("{} sets runAsNonRoot: false", site.who()),
                )),
                (Site::Pod, _) | (_, Some(true)) => {}
                (Site::Container(_), None) if pod == Some(true) => {}
                (Site::Container(c), None) => out.push(site.violation(
                    c.pointer.clone(),
                    format!(
                        "container `{}` does not set runAsNonRoot: true (nor does the pod)",
                        c.name
                    ),
                )),
            }
        },
    );
}
