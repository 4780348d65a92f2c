//! A workload asking more than its ClusterQueue can ever grant.
use super::ledger;
use crate::quota::request_pointer;
use crate::rules::prelude::*;

declare_rule! {
    id: "kueue-workload-exceeds-queue", category: "quota", severity: High, inventory: check,
    title: "A workload must fit what its Kueue ClusterQueue can ever grant, borrowing included",
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let l = ledger(cx);
    for q in &l.kueue.workloads {
        let Some(cq) = q
            .cluster_queue
            .as_deref()
            .and_then(|c| l.kueue.queues.get(c))
        else {
            continue;
        };
        let obj = cx.inventory.object(q.object);
        let cq_obj = cx.inventory.object(cq.info.object);
        for (r, want) in q.requests.iter().filter(|(_, v)| !v.is_zero()) {
            // The pod set asking the most of it, and its first container asking for it.
            let Some((i, set)) = q.podsets.iter().max_by_key(|(i, a)| {
                (a.get(r).copied().unwrap_or_default(), std::cmp::Reverse(*i))
            }) else {
                continue;
            };
            let u = &l.workloads[*i];
            let w = &cx.inventory.workloads[u.workload];
            let pointer = u
                .containers
                .iter()
                .find(|c| c.requests.contains_key(r))
                .map(|c| request_pointer(w, c.index, r))
                .unwrap_or_else(|| w.pod_pointer.clone());
            let set_want = set.get(r).copied().unwrap_or_default();
            let (why, related): (String, Pointer) = if !cq.info.covered.contains(r) {
                (
                    format!("ClusterQueue `{}` covers no `{r}`", cq.info.name),
                    Pointer::root().keys(&["spec", "resourceGroups"]),
                )
            } else {
                let all = cq.max_grant.get(r).copied().unwrap_or_default();
                let one = cq.max_flavor.get(r).copied().unwrap_or_default();
                let at = cq
                    .info
                    .quotas
                    .iter()
                    .find(|f| f.resource == *r)
                    .map(|f| f.pointer.clone())
                    .unwrap_or_else(|| Pointer::root().keys(&["spec", "resourceGroups"]));
                if *want > all {
                    (
                        format!(
                            "it asks for {} `{r}` and ClusterQueue `{}` can grant at most {} (nominal {} plus borrowing)",
                            want.display_for(r),
                            cq.info.name,
                            all.display_for(r),
                            cq.nominal.get(r).copied().unwrap_or_default().display_for(r)
                        ),
                        at,
                    )
                } else if set_want > one {
                    (
                        format!(
                            "{} asks for {} `{r}` and one flavor of ClusterQueue `{}` can grant at most {}, borrowing included",
                            if w.role.is_empty() { "its pod set".to_string() } else { format!("pod set {}", w.role) },
                            set_want.display_for(r),
                            cq.info.name,
                            one.display_for(r)
                        ),
                        at,
                    )
                } else {
                    continue;
                }
            };
            out.push(
                cx.finding(
                    &META,
                    obj,
                    &pointer,
                    format!(
                        "{} (queue `{}`): {why}; Kueue will never admit it",
                        obj.display_name(),
                        q.queue
                    ),
                )
                .context(super::context(w, None))
                .help("lower the replicas or requests, or raise the ClusterQueue's nominal quota or borrowing limit")
                .with_related(cx.related(cq_obj, &related, "the ClusterQueue's quota")),
            );
        }
    }
}
