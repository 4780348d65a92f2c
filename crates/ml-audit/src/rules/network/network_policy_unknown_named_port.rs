//! Named ports in NetworkPolicies that no destination pod defines.
use crate::rules::prelude::*;
use std::collections::HashMap;

use super::reach;
use crate::netpol::policy::PeerSpec;
use crate::netpol::selector::Tri;

declare_rule! {
    id: "network-policy-unknown-named-port", category: "network", severity: Low, inventory: check,
    title: "Named ports in NetworkPolicies must name a container port of the pods they lead to",
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let r = reach(cx);
    let inv = cx.inventory;
    let pol = &r.policies;
    // Real (not synthetic) peers, in all and by namespace.
    let all: Vec<usize> = (0..r.peers.len())
        .filter(|&i| !r.peers[i].synthetic)
        .collect();
    let mut by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
    for &i in &all {
        by_ns
            .entry(r.peers[i].namespace.as_str())
            .or_default()
            .push(i);
    }
    for np in &pol.netpols {
        let o = inv.object(np.object);
        let sel = &pol.pod_sels.list[np.pod];
        for (dir, rules) in [("ingress", &np.ingress), ("egress", &np.egress)] {
            let Some(rules) = rules else { continue };
            for (i, rule) in rules.iter().enumerate() {
                let ports = o
                    .root
                    .field("spec")
                    .field(dir)
                    .items()
                    .get(i)
                    .map(|n| n.field("ports").items())
                    .unwrap_or(&[]);
                // Only a rule with a named port needs its destinations
                // (searching them for every rule was quadratic).
                if !ports.iter().any(|p| {
                    p.field("port")
                        .as_str()
                        .is_some_and(|n| n.parse::<u16>().is_err())
                }) {
                    continue;
                }
                // the pods a named port is resolved on: the selected pods
                // for ingress (in the policy's namespace), the rule's
                // peers for egress
                let candidates: &[usize] = if dir == "ingress" {
                    by_ns.get(np.namespace.as_str()).map_or(&[], Vec::as_slice)
                } else {
                    &all
                };
                let dests: Vec<usize> = candidates
                    .iter()
                    .map(|&i| (i, &r.peers[i]))
                    .filter(|(_, p)| {
                        if dir == "ingress" {
                            return p.namespace == np.namespace && sel.matches(&p.labels);
                        }
                        let Some(peers) = &rule.peers else {
                            return true;
                        };
                        peers.iter().any(|ps| match ps {
                            PeerSpec::Pods { ns, pod } => {
                                let ns_ok = match ns {
                                    None => p.namespace == np.namespace,
                                    Some(s) => {
                                        let n = &r.namespaces[p.ns];
                                        pol.ns_sels.list[*s].matches_ns(&n.labels, n.known)
                                            != Tri::No
                                    }
                                };
                                ns_ok && pol.pod_sels.list[*pod].matches(&p.labels)
                            }
                            _ => false,
                        })
                    })
                    .map(|(i, _)| i)
                    .collect();
                if dests.is_empty() {
                    continue;
                }
                let rp = crate::node::Pointer::root().keys(&["spec", dir]).idx(i);
                for (j, port) in ports.iter().enumerate() {
                    let Some(name) = port.field("port").as_str() else {
                        continue;
                    };
                    if name.parse::<u16>().is_ok() {
                        continue;
                    }
                    let proto = port
                        .field("protocol")
                        .as_str()
                        .unwrap_or("TCP")
                        .to_ascii_uppercase();
                    if dests.iter().any(|&d| {
                        r.peers[d]
                            .ports
                            .iter()
                            .any(|(n, p, _)| n == name && p.as_str() == proto)
                    }) {
                        continue;
                    }
                    let ptr = rp.key("ports").idx(j).key("port");
                    out.push(
                        cx.finding(
                            &META,
                            o,
                            &ptr,
                            format!(
                                "named port `{name}` ({proto}) is defined by none of the {} pod(s) this {dir} rule leads to ({}): the rule allows nothing",
                                dests.len(),
                                dests.iter().take(3).map(|&d| r.peers[d].display()).collect::<Vec<_>>().join(", ")
                            ),
                        )
                        .help("use the name of a container port the destination pods declare (with the same protocol), or the port number"),
                    );
                }
            }
        }
    }
}
