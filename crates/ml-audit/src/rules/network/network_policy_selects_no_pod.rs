//! NetworkPolicies whose podSelector matches no workload.
use super::reach;
use crate::finding::{Finding, Severity};
use crate::node::Pointer;
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;

pub static META: RuleMeta = RuleMeta::builtin(
    "network-policy-selects-no-pod",
    "network",
    Severity::Low,
    "NetworkPolicies must select at least one pod",
    rule_doc!("network-policy-selects-no-pod"),
);

pub struct NetworkPolicySelectsNoPod;

impl Rule for NetworkPolicySelectsNoPod {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_inventory(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let r = reach(cx);
        let inv = cx.inventory;
        for np in &r.policies.netpols {
            let in_ns: Vec<_> = r
                .peers
                .iter()
                .filter(|p| !p.synthetic && p.namespace == np.namespace)
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
}
