//! Namespaces that run workloads but have no NetworkPolicy.
use super::{namespace_site, netpols_by_namespace, peers_by_namespace, reach};
use crate::rules::prelude::*;

declare_rule! {
    id: "namespace-without-network-policy", category: "network", severity: Medium, inventory: check,
    title: "Namespaces that run workloads must have a NetworkPolicy",
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let r = reach(cx);
    let inv = cx.inventory;
    let netpols = netpols_by_namespace(&r);
    for (ns, peers) in peers_by_namespace(&r) {
        if netpols.contains_key(ns) {
            continue;
        }
        let Some((obj, ptr)) = namespace_site(inv, &r, ns, &peers) else {
            continue;
        };
        let names: Vec<String> = peers
            .iter()
            .take(3)
            .map(|&p| r.peers[p].display())
            .collect();
        let more = peers.len().saturating_sub(3);
        let mut msg = format!(
            "namespace `{ns}` runs {} workload(s) ({}{}) and no NetworkPolicy selects any of them: every pod accepts and sends any traffic",
            peers.len(),
            names.join(", "),
            if more > 0 { format!(", and {more} more") } else { String::new() }
        );
        if r.policies.anps.is_empty() && r.policies.banp.is_none() {
            msg.push_str(" (no admin network policy either)");
        }
        out.push(
            cx.finding(&META, obj, &ptr, msg)
                .help("add a default-deny NetworkPolicy (`podSelector: {}`, policyTypes Ingress and Egress) and allow what each workload needs"),
        );
    }
}
