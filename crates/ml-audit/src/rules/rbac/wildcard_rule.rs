//! Wildcard verbs or resources in a role rule.
use super::{exempt, graph};
use crate::object::ObjectId;
use crate::rules::prelude::*;
use std::collections::HashMap;

declare_rule! {
    id: "rbac-wildcard-rule", category: "rbac", severity: Medium, object: check,
    title: "Role rules must not use wildcard verbs or resources",
    options: [super::EXEMPT],
}

/// The bindings (indexes into the graph's) that reference each role object.
struct Holders(HashMap<ObjectId, Vec<usize>>);

fn check(cx: &Context<'_>, o: &Object, out: &mut Vec<Finding>) {
    if !(o.kind == "Role" || o.kind == "ClusterRole") || o.group() != "rbac.authorization.k8s.io" {
        return;
    }
    let g = graph(cx);
    // Who holds it: bindings that reference this role (indexed once, not
    // searched per role).
    let index = cx.analysis(|_| {
        let mut by_role: HashMap<ObjectId, Vec<usize>> = HashMap::new();
        for (i, b) in g.bindings.iter().enumerate() {
            if let (Some(_), Some(r)) = (b.object, b.role) {
                if let Some(id) = g.roles[r].object {
                    by_role.entry(id).or_default().push(i);
                }
            }
        }
        Holders(by_role)
    });
    let holders: Vec<_> = index
        .0
        .get(&o.id)
        .into_iter()
        .flatten()
        .map(|&i| &g.bindings[i])
        .collect();
    let subjects: Vec<_> = holders
        .iter()
        .flat_map(|b| b.subjects.iter().map(|(s, _)| s))
        .collect();
    if !subjects.is_empty() && subjects.iter().all(|s| exempt(cx, &META, s)) {
        return;
    }
    for (i, r) in o.root.field("rules").items().iter().enumerate() {
        let base = Pointer::root().key("rules").idx(i);
        let find = |field: &str| {
            r.field(field)
                .items()
                .iter()
                .position(|v| v.as_str() == Some("*"))
                .map(|j| (field.to_string(), base.key(field).idx(j)))
        };
        let Some((field, ptr)) = find("verbs").or_else(|| find("resources")) else {
            continue;
        };
        let mut f = cx
            .finding(&META, o, &ptr, format!("{} rule {i} grants `*` {field}", o.display_name()))
            .help("List the verbs and resources the subject needs; a wildcard also grants every verb and resource added later (CRDs included).");
        for b in holders.iter().take(5) {
            let bo = cx.inventory.object(b.object.expect("filtered"));
            f = f.with_related(cx.related(
                bo,
                &Pointer::root().keys(&["roleRef", "name"]),
                format!("granted by {}", b.display()),
            ));
        }
        out.push(f);
    }
}
