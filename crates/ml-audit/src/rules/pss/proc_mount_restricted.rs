//! Unmasked /proc, even in user-namespaced pods.
use super::Violation;
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-proc-mount-restricted", category: "pod-security", severity: Low, pss: restricted, check,
    title: "The /proc mount must stay masked",
}

/// Baseline's check, without its exemption of user-namespaced pods.
fn check(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
    super::proc_mount::unmasked(w, eff, out);
}
