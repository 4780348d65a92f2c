//! Bindings to system:anonymous, system:unauthenticated or system:authenticated.
use super::{graph, rule_related};
use crate::rules::prelude::*;

declare_rule! {
    id: "rbac-public-subject-binding", category: "rbac", severity: High, inventory: check,
    title: "Roles must not be bound to anonymous or all authenticated users",
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let g = graph(cx);
    for b in &g.bindings {
        let Some(o) = b.object else { continue };
        let obj = cx.inventory.object(o);
        for (s, sp) in &b.subjects {
            if !s.is_public() {
                continue;
            }
            // What the group can reach decides how bad it is.
            let escalates = !g.edges_from(s).is_empty();
            let mut f = cx
                .finding(
                    &META,
                    obj,
                    &sp.key("name"),
                    format!(
                        "{} grants {}/{} to {s}: anyone who can reach the API server{}",
                        b.display(),
                        b.role_ref.0,
                        b.role_ref.1,
                        if s.to_string().ends_with("authenticated")
                            && !s.to_string().contains("unauth")
                        {
                            " with any credential (every ServiceAccount included)"
                        } else {
                            ", without credentials"
                        }
                    ),
                )
                .help("Bind the role to the users, groups or ServiceAccounts that need it.");
            if !escalates {
                f = f.severity(crate::finding::Severity::Low);
            }
            if let Some(r) = b.role {
                for &ri in g.roles[r].rules.iter().take(5) {
                    if let Some(rel) = rule_related(cx, &g, ri, "grants") {
                        f = f.with_related(rel);
                    }
                }
            }
            out.push(f);
        }
    }
}
