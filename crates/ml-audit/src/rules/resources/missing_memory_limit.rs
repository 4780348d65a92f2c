//! Containers without a memory limit.
use super::limit_range_default;
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::finding;
use crate::workload::{ContainerKind, Workload};

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "missing-memory-limit",
    "resources",
    Severity::Medium,
    "Containers must set a memory limit",
    rule_doc!("missing-memory-limit"),
);

/// The rule.
pub struct MissingMemoryLimit;

impl Rule for MissingMemoryLimit {
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
            let limits = res.and_then(|r| r.limits.as_ref());
            if limits.is_some_and(|m| m.contains_key("memory"))
                || limit_range_default(cx, ns, "default", "memory")
            {
                continue;
            }
            let pointer = if limits.is_some() {
                c.pointer.keys(&["resources", "limits"])
            } else if res.is_some() {
                c.pointer.key("resources")
            } else {
                c.pointer.clone()
            };
            out.push(
                finding(cx, &META, w, Some(c), &pointer, format!(
                    "container `{}` has no memory limit: a leak or an oversized batch can take the node's memory from its neighbours",
                    c.name
                ))
                .help("set `resources.limits.memory` (usually equal to the memory request for training and serving pods)"),
            );
        }
    }
}
