//! Seccomp profile not set to RuntimeDefault or Localhost.
use super::{is_windows, Violation};
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-seccomp-restricted",
    "pod-security",
    Severity::Medium,
    "Seccomp must be set to RuntimeDefault or Localhost",
    rule_doc!("pss-seccomp-restricted"),
);

pub fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    if is_windows(w) {
        return;
    }
    let ok = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let pod = w
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
        .map(|p| p.type_.as_str());
    if let Some(t) = pod.filter(|t| !ok(t)) {
        out.push(Violation::pod(
            w.field_pointer("securityContext")
                .keys(&["seccompProfile", "type"]),
            format!("the pod sets seccomp profile {t}"),
        ));
    }
    let pod_ok = pod.is_some_and(ok);
    for c in &w.containers {
        match c
            .spec
            .security_context
            .as_ref()
            .and_then(|s| s.seccomp_profile.as_ref())
            .map(|p| p.type_.as_str())
        {
            Some(t) if ok(t) => {}
            Some(t) => out.push(Violation::container(
                c,
                c.pointer
                    .keys(&["securityContext", "seccompProfile", "type"]),
                format!("container `{}` sets seccomp profile {t}", c.name),
            )),
            None if pod_ok => {}
            None => out.push(Violation::container(
                c,
                c.pointer.clone(),
                format!(
                    "container `{}` has no seccomp profile (nor does the pod)",
                    c.name
                ),
            )),
        }
    }
}
