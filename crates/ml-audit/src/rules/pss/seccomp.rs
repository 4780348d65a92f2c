//! Explicitly unconfined seccomp.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-seccomp",
    "pod-security",
    Severity::Medium,
    "Seccomp must not be set to Unconfined",
    rule_doc!("pss-seccomp"),
);

pub fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    if let Some(p) = w
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
    {
        if p.type_ == "Unconfined" {
            out.push(Violation::pod(
                w.field_pointer("securityContext")
                    .keys(&["seccompProfile", "type"]),
                "the pod sets seccomp profile Unconfined",
            ));
        }
    }
    for c in &w.containers {
        if let Some(p) = c
            .spec
            .security_context
            .as_ref()
            .and_then(|s| s.seccomp_profile.as_ref())
        {
            if p.type_ == "Unconfined" {
                out.push(Violation::container(
                    c,
                    c.pointer
                        .keys(&["securityContext", "seccompProfile", "type"]),
                    format!("container `{}` sets seccomp profile Unconfined", c.name),
                ));
            }
        }
    }
}
