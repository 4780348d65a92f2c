//! Containers without a memory limit.
use super::{limit_range_default, report_missing};
use crate::rules::prelude::*;

declare_rule! {
    id: "missing-memory-limit", category: "resources", severity: Medium, workload: check, skip_patches: true,
    title: "Containers must set a memory limit",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    const HELP: &str = "set `resources.limits.memory` (usually equal to the memory request for training and serving pods)";
    report_missing(cx, &META, w, "limits", HELP, out, |c, ns| {
        let limits = c.spec.resources.as_ref().and_then(|r| r.limits.as_ref());
        if limits.is_some_and(|m| m.contains_key("memory"))
            || limit_range_default(cx, ns, "default", "memory")
        {
            return None;
        }
        Some(format!(
            "container `{}` has no memory limit: a leak or an oversized batch can take the node's memory from its neighbours",
            c.name
        ))
    });
}
