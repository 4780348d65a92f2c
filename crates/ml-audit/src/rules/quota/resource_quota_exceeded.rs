//! Declared requests above a ResourceQuota.
use super::{context, ledger};
use crate::rules::prelude::*;

declare_rule! {
    id: "resource-quota-exceeded", category: "quota", severity: High, inventory: check,
    title: "Declared workloads must fit their namespace's ResourceQuota",
}

/// How many contributors a finding names.
const TOP: usize = 3;

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let l = ledger(cx);
    for nl in l.namespaces.values() {
        for q in &nl.quotas {
            let quota = cx.inventory.object(q.object);
            for h in q.hard.iter().filter(|h| h.exceeded()) {
                let used = h.used.unwrap_or_default();
                let mut f = cx.finding(
                    &META,
                    quota,
                    &h.pointer,
                    format!(
                        "{} allows {} `{}`, but the declared workloads need {} ({:.0}%)",
                        quota.display_name(),
                        h.allowed.display_for(&h.key),
                        h.key,
                        used.display_for(&h.key),
                        used.ratio(h.allowed) * 100.0
                    ),
                )
                .help(format!(
                    "raise `{}` or shrink the largest contributors; the last pods to be created will be refused by the API server",
                    h.key
                ));
                for (i, amount) in h.contributors.iter().take(TOP) {
                    let u = &l.workloads[*i];
                    let w = &cx.inventory.workloads[u.workload];
                    let obj = cx.inventory.object(w.object);
                    let ctx = context(w, None);
                    let role = if ctx.is_empty() {
                        String::new()
                    } else {
                        format!(" ({ctx})")
                    };
                    f = f.with_related(cx.related(
                        obj,
                        &w.pod_pointer,
                        format!(
                            "{}{role} adds {} ({} pods)",
                            obj.display_name(),
                            amount.display_for(&h.key),
                            u.replicas
                        ),
                    ));
                }
                out.push(f);
            }
        }
    }
}
