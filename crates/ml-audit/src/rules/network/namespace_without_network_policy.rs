//! Namespaces that run workloads but have no NetworkPolicy.
use super::{for_each_namespace, namespace_site};
use crate::rules::prelude::*;

declare_rule! {
    id: "namespace-without-network-policy", category: "network", severity: Medium, inventory: check,
    title: "Namespaces that run workloads must have a NetworkPolicy",
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let inv = cx.inventory;
    for_each_namespace(cx, out, |r, ns, peers, policies| {
        if !policies.is_empty() {
            return None;
        }
        let (obj, ptr) = namespace_site(inv, r, ns, peers)?;
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
        Some(
            cx.finding(&META, obj, &ptr, msg)
                .help("add a default-deny NetworkPolicy (`podSelector: {}`, policyTypes Ingress and Egress) and allow what each workload needs"),
        )
    });
}
