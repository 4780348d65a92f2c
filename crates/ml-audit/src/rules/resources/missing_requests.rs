//! Containers without CPU or memory requests.
use super::{limit_range_default, report_missing};
use crate::rules::prelude::*;

declare_rule! {
    id: "missing-resource-requests", category: "resources", severity: Medium, workload: check, skip_patches: true,
    title: "Containers must request CPU and memory",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    const HELP: &str = "set `resources.requests.cpu` and `resources.requests.memory` to what the container needs at steady state";
    report_missing(cx, &META, w, "requests", HELP, out, |c, ns| {
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
        (!missing.is_empty()).then(|| format!(
            "container `{}` requests no {}: the scheduler places it blind and it is the first evicted under pressure",
            c.name,
            missing.join(" and ")
        ))
    });
}
