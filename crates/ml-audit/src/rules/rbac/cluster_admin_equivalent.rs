//! Subjects that can reach cluster-admin equivalence.
use super::{at_cause, chain, exempt, graph, path_related};
use crate::rbac::EdgeKind;
use crate::rules::prelude::*;

declare_rule! {
    id: "rbac-cluster-admin-equivalent", category: "rbac", severity: Critical, inventory: check,
    title: "Subjects must not be able to escalate to cluster-admin",
    options: [super::EXEMPT],
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let g = graph(cx);
    for (s, p) in g.cluster_admin_equivalent() {
        if s.is_masters() || exempt(cx, &META, &s) {
            continue;
        }
        let Some(first) = p.steps.first() else {
            continue;
        };
        // Members of a group that escalates are reported once, at the group.
        if first.edge.kind == EdgeKind::Member {
            continue;
        }
        // A direct binding of cluster-admin is rbac-cluster-admin-binding's.
        if p.steps.len() == 1 && first.edge.kind == EdgeKind::Wildcard {
            let c = first.edge.causes[0];
            if g.bindings[c.binding].role_ref.1 == "cluster-admin" {
                continue;
            }
        }
        let Some(c) = first.edge.causes.first() else {
            continue;
        };
        let msg = format!(
            "{s} can reach cluster-admin in {} step{}: {}",
            p.steps.len(),
            if p.steps.len() == 1 { "" } else { "s" },
            chain(&p)
        );
        if let Some(mut f) = at_cause(cx, &META, &g, c, msg) {
            f.related = path_related(cx, &g, &p);
            out.push(f.help("Remove the grant of the first step, or narrow the role rule it names; list platform controllers that must keep it under this rule's `exempt` setting."));
        }
    }
}
