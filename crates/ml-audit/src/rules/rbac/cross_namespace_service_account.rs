//! RoleBindings that grant a ServiceAccount of another namespace.
use super::{exempt, graph};
use crate::rbac::Subject;
use crate::rules::prelude::*;

declare_rule! {
    id: "rbac-cross-namespace-service-account", category: "rbac", severity: Medium, inventory: check,
    title: "RoleBindings must not grant ServiceAccounts of other namespaces",
    options: [super::EXEMPT],
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let g = graph(cx);
    for b in &g.bindings {
        let (Some(o), false, Some(ns)) = (b.object, b.cluster, &b.namespace) else {
            continue;
        };
        let obj = cx.inventory.object(o);
        for (s, sp) in &b.subjects {
            let Subject::ServiceAccount { namespace, .. } = s else {
                continue;
            };
            if namespace == ns || exempt(cx, &META, s) {
                continue;
            }
            let ptr = if obj.root.pointer(sp.key("namespace").as_str()).is_some() {
                sp.key("namespace")
            } else {
                sp.clone()
            };
            out.push(
                cx.finding(&META, obj, &ptr, format!("{} grants {}/{} in namespace {ns} to {s} of namespace {namespace}: a tenant crossing", b.display(), b.role_ref.0, b.role_ref.1))
                    .with_related(cx.related(obj, &crate::node::Pointer::root().keys(&["roleRef", "name"]), "the role granted"))
                    .help("Give the workload a ServiceAccount in the namespace it acts on, or list this controller under the rule's `exempt` setting."),
            );
        }
    }
}
