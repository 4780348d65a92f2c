//! Namespaces running ML workloads without default-deny ingress or egress.
use super::{for_each_namespace, is_ml, namespace_site};
use crate::rules::prelude::*;

declare_rule! {
    id: "missing-default-deny", category: "network", severity: Medium, inventory: check,
    title: "Namespaces that run ML workloads must deny ingress and egress by default",
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let inv = cx.inventory;
    for_each_namespace(cx, out, |r, ns, peers, policies| {
        let ml: Vec<usize> = peers
            .iter()
            .copied()
            .filter(|&p| r.peers[p].object.is_some_and(|o| is_ml(inv.object(o))))
            .collect();
        if ml.is_empty() {
            return None;
        }
        let mut ingress = false;
        let mut egress = false;
        for np in policies.iter().map(|&i| &r.policies.netpols[i]) {
            if r.policies.pod_sels.list[np.pod].is_empty() {
                ingress |= np.ingress.is_some();
                egress |= np.egress.is_some();
            }
        }
        let missing: Vec<&str> = [(ingress, "ingress"), (egress, "egress")]
            .iter()
            .filter(|(has, _)| !has)
            .map(|(_, d)| *d)
            .collect();
        if missing.is_empty() {
            return None;
        }
        let (obj, ptr) = namespace_site(inv, r, ns, peers)?;
        Some(
            cx.finding(
                &META,
                obj,
                &ptr,
                format!(
                    "namespace `{ns}` runs ML workloads ({}) without a default-deny {} NetworkPolicy: new pods start open",
                    r.peers[ml[0]].display(),
                    missing.join(" and ")
                ),
            )
            .help("add a NetworkPolicy with `podSelector: {}` and policyTypes [Ingress, Egress], then allow what each workload needs (DNS, the Ray head, the model store)"),
        )
    });
}
