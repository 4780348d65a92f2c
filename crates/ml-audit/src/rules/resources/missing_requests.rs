//! Containers without CPU or memory requests.
use super::limit_range_default;
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::finding;
use crate::workload::{ContainerKind, Workload};

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "missing-resource-requests",
    "resources",
    Severity::Medium,
    "Containers must request CPU and memory",
    rule_doc!("missing-resource-requests"),
);

/// The rule.
pub struct MissingResourceRequests;

impl Rule for MissingResourceRequests {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        // A Kustomize patch leaves out what its base already says.
        if crate::rules::util::from_patch(cx, w) {
            return;
        }
        let ns = w.namespace.as_deref().unwrap_or("");
        for c in w
            .containers
            .iter()
            .filter(|c| c.kind != ContainerKind::Ephemeral)
        {
            let res = c.spec.resources.as_ref();
            let requests = res.and_then(|r| r.requests.as_ref());
            let limits = res.and_then(|r| r.limits.as_ref());
            let missing: Vec<&str> = ["cpu", "memory"]
                .into_iter()
                .filter(|r| {
                    // A limit alone sets the request to the same value.
                    !requests.is_some_and(|m| m.contains_key(*r))
                        && !limits.is_some_and(|m| m.contains_key(*r))
                        && !limit_range_default(cx, ns, "defaultRequest", r)
                })
                .collect();
            if missing.is_empty() {
                continue;
            }
            let pointer = if requests.is_some() {
                c.pointer.keys(&["resources", "requests"])
            } else if res.is_some() {
                c.pointer.key("resources")
            } else {
                c.pointer.clone()
            };
            out.push(
                finding(cx, &META, w, Some(c), &pointer, format!(
                    "container `{}` requests no {}: the scheduler places it blind and it is the first evicted under pressure",
                    c.name,
                    missing.join(" and ")
                ))
                .help("set `resources.requests.cpu` and `resources.requests.memory` to what the container needs at steady state"),
            );
        }
    }
}
