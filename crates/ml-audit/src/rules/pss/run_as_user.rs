//! runAsUser: 0.
use super::{each_setting, Violation};
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-run-as-user", category: "pod-security", severity: Medium, pss: restricted, check,
    title: "Pods and containers must not set runAsUser: 0",
}

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    // Since policy v1.35 upstream skips this check for pods in their own user
    // namespace: UID 0 in the container is not root on the node (KEP-127).
    if w.spec.host_users == Some(false) {
        return;
    }
    each_setting(
        w,
        |s| s.run_as_user,
        |s| s.run_as_user,
        |site, uid| {
            if uid == Some(0) {
                let message = format!("{} sets runAsUser: 0 (root)", site.who());
                out.push(site.violation(site.at(w, &["runAsUser"]), message));
            }
        },
    );
}
