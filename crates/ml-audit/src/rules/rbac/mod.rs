//! RBAC rules over the privilege graph ([`crate::rbac::RbacGraph`]), built
//! once per inventory and shared.

use std::sync::Arc;

use crate::finding::{Finding, Related};
use crate::node::Pointer;
use crate::rbac::{Cause, Path, RbacGraph, Subject};
use crate::rule::{Context, RuleMeta, RuleOption};

pub(super) mod cluster_admin_binding;
pub(super) mod cluster_admin_equivalent;
pub(super) mod cross_namespace_service_account;
pub(super) mod dangerous_permission;
pub(super) mod ml_workload_service_account;
pub(super) mod public_subject_binding;
pub(super) mod wildcard_rule;

/// The shared graph.
pub(crate) fn graph(cx: &Context<'_>) -> Arc<RbacGraph> {
    cx.analysis::<RbacGraph>(RbacGraph::build)
}

/// The option of the RBAC rules that report subjects.
pub(crate) const EXEMPT: RuleOption = option!(
    "exempt",
    StringList,
    "[]",
    "Subjects not to report (`User:NAME`, `Group:NAME`, `ServiceAccount:NS/NAME`; a trailing `*` matches a prefix): the platform's own controllers."
);

/// Whether the rule's `exempt` setting names this subject (patterns may
/// end in `*`).
pub(crate) fn exempt(cx: &Context<'_>, meta: &RuleMeta, s: &Subject) -> bool {
    cx.settings
        .get::<Vec<String>>(meta, "exempt")
        .unwrap_or_default()
        .iter()
        .any(|p| s.matches_pattern(p))
}

/// A finding at the binding subject of a cause, with the role rule as
/// related location. `None` for built-in bindings (nothing to point at).
pub(crate) fn at_cause(
    cx: &Context<'_>,
    meta: &RuleMeta,
    g: &RbacGraph,
    c: &Cause,
    message: String,
) -> Option<Finding> {
    let b = &g.bindings[c.binding];
    let obj = cx.inventory.object(b.object?);
    let (_, sp) = &b.subjects[c.subject];
    let f = cx.finding(meta, obj, &Pointer::parse(sp.as_str()).key("name"), message);
    Some(match rule_related(cx, g, c.rule, "granted by this rule") {
        Some(r) => f.with_related(r),
        None => f,
    })
}

/// The role rule as a related location (`None` for built-in roles).
pub(crate) fn rule_related(
    cx: &Context<'_>,
    g: &RbacGraph,
    rule: usize,
    msg: &str,
) -> Option<Related> {
    let r = &g.rules[rule];
    let obj = cx.inventory.object(r.object?);
    Some(cx.related(
        obj,
        &r.pointer,
        format!("{msg}: {} ({})", r.summary(), r.source),
    ))
}

/// Every step of a path as related locations: binding subjects, role
/// rules and workloads, each saying which step it grants.
pub(crate) fn path_related(cx: &Context<'_>, g: &RbacGraph, p: &Path) -> Vec<Related> {
    let mut out = Vec::new();
    for (i, st) in p.steps.iter().enumerate() {
        let what = format!(
            "step {}: {} {} {}",
            i + 1,
            st.from,
            st.edge.kind.describe(),
            st.to
        );
        for c in &st.edge.causes {
            let b = &g.bindings[c.binding];
            if let Some(o) = b.object {
                let (_, sp) = &b.subjects[c.subject];
                out.push(cx.related(cx.inventory.object(o), sp, format!("{what} (binding)")));
            }
            if let Some(r) = rule_related(cx, g, c.rule, &format!("{what} (rule)")) {
                out.push(r);
            }
        }
        if let Some(o) = st.edge.object {
            out.push(cx.related(
                cx.inventory.object(o),
                &Pointer::root(),
                format!("{what} (workload)"),
            ));
        }
    }
    out
}

/// A path in one line: `A -> B -> C`.
pub(crate) fn chain(p: &Path) -> String {
    let mut s = String::new();
    for (i, st) in p.steps.iter().enumerate() {
        if i == 0 {
            s.push_str(&st.from.to_string());
        }
        s.push_str(&format!(" -[{}]-> {}", st.edge.kind.as_str(), st.to));
    }
    s
}
