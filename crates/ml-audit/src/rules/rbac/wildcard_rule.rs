//! Wildcard verbs or resources in a role rule.
use super::{exempt, graph};
use crate::finding::{Finding, Severity};
use crate::node::Pointer;
use crate::object::Object;
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;

pub static META: RuleMeta = RuleMeta::builtin(
    "rbac-wildcard-rule",
    "rbac",
    Severity::Medium,
    "Role rules must not use wildcard verbs or resources",
    rule_doc!("rbac-wildcard-rule"),
);

pub struct WildcardRule;

impl Rule for WildcardRule {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_object(&self, cx: &Context<'_>, o: &Object, out: &mut Vec<Finding>) {
        if !(o.kind == "Role" || o.kind == "ClusterRole")
            || o.group() != "rbac.authorization.k8s.io"
        {
            return;
        }
        let g = graph(cx);
        // Who holds it: bindings that reference this role.
        let holders: Vec<_> = g
            .bindings
            .iter()
            .filter(|b| {
                b.object.is_some() && b.role.is_some_and(|r| g.roles[r].object == Some(o.id))
            })
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
}
