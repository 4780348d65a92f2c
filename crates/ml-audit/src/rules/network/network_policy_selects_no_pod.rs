//! NetworkPolicies whose podSelector matches no workload.
use super::{peers_by_namespace, reach};
use crate::rules::prelude::*;

declare_rule! {
    id: "network-policy-selects-no-pod", category: "network", severity: Low, inventory: check,
    title: "NetworkPolicies must select at least one pod",
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let r = reach(cx);
    let inv = cx.inventory;
    // Each policy looks only at its own namespace's workloads (a scan of
    // every workload per policy was 40 s at 1,000,000 objects).
    let by_ns = peers_by_namespace(&r);
    for np in &r.policies.netpols {
        let in_ns: Vec<_> = by_ns
            .get(np.namespace.as_str())
            .into_iter()
            .flatten()
            .map(|&i| &r.peers[i])
            .collect();
        // a namespace with no workload in the input says nothing: the
        // policy may be meant for pods deployed from elsewhere
        if in_ns.is_empty() {
            continue;
        }
        let sel = &r.policies.pod_sels.list[np.pod];
        if in_ns.iter().any(|p| sel.matches(&p.labels)) {
            continue;
        }
        let o = inv.object(np.object);
        let ptr = Pointer::root().keys(&["spec", "podSelector"]);
        out.push(
            cx.finding(
                &META,
                o,
                &ptr,
                format!(
                    "NetworkPolicy `{}/{}` selects no pod: podSelector `{sel}` matches none of the {} workload(s) in namespace `{}`",
                    np.namespace, np.name, in_ns.len(), np.namespace
                ),
            )
            .help("fix the labels in podSelector (a typo leaves the pods it was meant for unprotected) or remove the policy"),
        );
    }
}
