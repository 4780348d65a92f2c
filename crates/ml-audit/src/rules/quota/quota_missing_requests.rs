//! Workloads without requests under a quota that tracks them.
use super::{context, ledger};
use crate::rules::prelude::*;
use crate::rules::util::resources_pointer;

declare_rule! {
    id: "quota-missing-requests", category: "quota", severity: High, inventory: check,
    title: "Containers must request what their namespace's ResourceQuota tracks",
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let l = ledger(cx);
    for m in &l.missing {
        let w = &cx.inventory.workloads[m.workload];
        let obj = cx.inventory.object(w.object);
        let quota = cx.inventory.object(m.quota);
        let (side, resource) = m.key.split_once('.').unwrap_or(("requests", &m.key));
        let c = &w.containers[m.container];
        let pointer = resources_pointer(c, side);
        let word = if side == "limits" { "limit" } else { "request" };
        out.push(
            cx.finding(
                &META,
                obj,
                &pointer,
                format!(
                    "{}: container `{}` sets no {resource} {word} and no LimitRange supplies one, but {} tracks `{}`: the API server will refuse these pods",
                    w.describe(obj),
                    c.name,
                    quota.display_name(),
                    m.key
                ),
            )
            .context(context(w, Some(m.container)))
            .help(format!(
                "set `resources.{side}.{resource}` on the container, or a LimitRange default for the namespace"
            ))
            .with_related(cx.related(quota, &m.hard_pointer, "the quota that tracks it")),
        );
    }
}
