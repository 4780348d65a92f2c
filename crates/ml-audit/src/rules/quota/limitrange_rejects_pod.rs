//! Pods a LimitRange would reject.
use super::{context, ledger};
use crate::rules::prelude::*;

declare_rule! {
    id: "limitrange-rejects-pod", category: "quota", severity: High, inventory: check,
    title: "Pods must satisfy their namespace's LimitRange",
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let l = ledger(cx);
    for r in &l.rejections {
        let w = &cx.inventory.workloads[r.workload];
        let obj = cx.inventory.object(w.object);
        let lr = cx.inventory.object(r.limit_range);
        out.push(
            cx.finding(
                &META,
                obj,
                &r.pointer,
                format!(
                    "{}: {}; {} would reject these pods",
                    w.describe(obj),
                    r.message,
                    lr.display_name()
                ),
            )
            .context(context(w, r.container))
            .help(format!(
                "set the {} request and limit within the LimitRange's bounds",
                r.resource
            ))
            .with_related(cx.related(lr, &r.limit_pointer, "the constraint")),
        );
    }
}
