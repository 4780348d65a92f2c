//! GPU workloads in a namespace no quota caps.
use crate::rules::prelude::*;
use std::collections::BTreeMap;

use super::{context, ledger};
use crate::quota::{is_gpu, request_pointer};

declare_rule! {
    id: "gpu-without-quota", category: "quota", severity: Medium, inventory: check,
    title: "Namespaces that run GPU workloads must cap GPUs with a ResourceQuota",
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let l = ledger(cx);
    // Workloads whose ClusterQueue covers the GPU are capped by Kueue.
    let mut kueue_capped: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for q in &l.kueue.workloads {
        if let Some(cq) = q
            .cluster_queue
            .as_deref()
            .and_then(|c| l.kueue.queues.get(c))
        {
            for (i, _) in &q.podsets {
                kueue_capped
                    .entry(*i)
                    .or_default()
                    .extend(cq.info.covered.iter().cloned());
            }
        }
    }
    for (ns, nl) in &l.namespaces {
        // A quota caps a workload's GPUs when its scopes take the workload in.
        let capped = |u: &crate::quota::WorkloadUsage, r: &str| {
            nl.quotas.iter().any(|q| {
                q.scopes.matches(u)
                    && q.hard
                        .iter()
                        .any(|h| h.key == format!("requests.{r}") || h.key == r)
            })
        };
        for &i in &nl.workloads {
            let u = &l.workloads[i];
            let w = &cx.inventory.workloads[u.workload];
            for (r, q) in &u.pod_requests {
                if !is_gpu(r) || q.is_zero() || capped(u, r) {
                    continue;
                }
                if kueue_capped
                    .get(&i)
                    .is_some_and(|c| c.iter().any(|x| x == r))
                {
                    continue;
                }
                let Some(c) = u.containers.iter().find(|c| c.requests.contains_key(r)) else {
                    continue;
                };
                let obj = cx.inventory.object(w.object);
                out.push(
                    cx.finding(
                        &META,
                        obj,
                        &request_pointer(w, c.index, r),
                        format!(
                            "{} asks for {} {r} in namespace {ns} (up to {} pods), but no ResourceQuota in {ns} sets `requests.{r}`",
                            w.describe(obj),
                            q.display_for(r),
                            u.replicas
                        ),
                    )
                    .context(context(w, Some(c.index)))
                    .help(format!(
                        "add a ResourceQuota to namespace {ns} with `spec.hard: {{requests.{r}: N}}` (or route the workload through a Kueue queue that covers {r})"
                    )),
                );
            }
        }
    }
}
