//! Recognised credentials written literally in a pod spec.
use super::{report_hits, Class};
use crate::rules::prelude::*;

declare_rule! {
    id: "hardcoded-credential", category: "secrets", severity: High, workload: check,
    title: "Credentials must not be written literally in env, args or command",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    const HELP: &str = "revoke this credential, store it in a Secret (or an external secret store) and mount it as a file; anyone who can read the manifest, the Git history or the pod spec has it";
    report_hits(cx, &META, w, HELP, out, |c, h| match &h.class {
        Class::Credential { kind, redacted } => Some(format!(
            "container `{}`: {} holds a literal {kind} {redacted}",
            c.name, h.what
        )),
        _ => None,
    });
}
