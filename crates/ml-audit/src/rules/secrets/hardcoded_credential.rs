//! Recognised credentials written literally in a pod spec.
use super::{workload_hits, Class};
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::finding;
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "hardcoded-credential",
    "secrets",
    Severity::High,
    "Credentials must not be written literally in env, args or command",
    rule_doc!("hardcoded-credential"),
);

/// The rule.
pub struct HardcodedCredential;

impl Rule for HardcodedCredential {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        for h in workload_hits(cx, w).iter() {
            let c = &w.containers[h.container];
            if let Class::Credential { kind, redacted } = &h.class {
                out.push(
                    finding(
                        cx,
                        &META,
                        w,
                        Some(c),
                        &h.pointer,
                        format!(
                            "container `{}`: {} holds a literal {kind} {redacted}",
                            c.name, h.what
                        ),
                    )
                    .help("revoke this credential, store it in a Secret (or an external secret store) and mount it as a file; anyone who can read the manifest, the Git history or the pod spec has it"),
                );
            }
        }
    }
}
