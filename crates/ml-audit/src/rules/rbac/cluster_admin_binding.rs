//! cluster-admin bound to something that is not a platform controller.
use super::{exempt, graph};
use crate::rules::prelude::*;

declare_rule! {
    id: "rbac-cluster-admin-binding", category: "rbac", severity: High, inventory: check,
    title: "cluster-admin must be bound only to platform controllers",
    options: [super::EXEMPT],
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let g = graph(cx);
    for b in &g.bindings {
        let Some(o) = b.object else { continue };
        if b.role_ref != ("ClusterRole".to_string(), "cluster-admin".to_string()) {
            continue;
        }
        let obj = cx.inventory.object(o);
        for (s, sp) in &b.subjects {
            if exempt(cx, &META, s) {
                continue;
            }
            let scope = if b.cluster {
                "everywhere".to_string()
            } else {
                format!("in namespace {}", b.namespace.as_deref().unwrap_or(""))
            };
            let f = cx
                .finding(&META, obj, &sp.key("name"), format!("{} grants cluster-admin to {s} {scope}", b.display()))
                .with_related(cx.related(obj, &Pointer::root().keys(&["roleRef", "name"]), "the role granted"))
                .help("Bind a role with only the permissions needed; if this is a platform controller, add it to this rule's `exempt` setting.");
            out.push(f);
        }
    }
}
