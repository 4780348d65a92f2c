//! Workloads without requests under a quota that tracks them.
use super::{context, ledger};
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;

pub const META: RuleMeta = RuleMeta::builtin(
    "quota-missing-requests",
    "quota",
    Severity::High,
    "Containers must request what their namespace's ResourceQuota tracks",
    rule_doc!("quota-missing-requests"),
);

pub struct QuotaMissingRequests;

impl Rule for QuotaMissingRequests {
    fn meta(&self) -> &RuleMeta {
        static M: RuleMeta = META;
        &M
    }

    fn check_inventory(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let l = ledger(cx);
        for m in &l.missing {
            let w = &cx.inventory.workloads[m.workload];
            let obj = cx.inventory.object(w.object);
            let quota = cx.inventory.object(m.quota);
            let (side, resource) = m.key.split_once('.').unwrap_or(("requests", &m.key));
            // Point at the missing map's parent: `resources.requests`,
            // `resources`, or the container.
            let c = &w.containers[m.container];
            let res = c.spec.resources.as_ref();
            let has_side = res.is_some_and(|r| {
                if side == "limits" {
                    r.limits.is_some()
                } else {
                    r.requests.is_some()
                }
            });
            let pointer = match res {
                Some(_) if has_side => c.pointer.keys(&["resources", side]),
                Some(_) => c.pointer.key("resources"),
                None => c.pointer.clone(),
            };
            let word = if side == "limits" { "limit" } else { "request" };
            out.push(
                cx.finding(
                    &META,
                    obj,
                    &pointer,
                    format!(
                        "{}: container `{}` sets no {resource} {word} and no LimitRange supplies one, but {} tracks `{}`: the API server will refuse these pods",
                        w.describe(obj),
                        c.name,
                        quota.display_name(),
                        m.key
                    ),
                )
                .context(context(w, Some(m.container)))
                .help(format!(
                    "set `resources.{side}.{resource}` on the container, or a LimitRange default for the namespace"
                ))
                .with_related(cx.related(quota, &m.hard_pointer, "the quota that tracks it")),
            );
        }
    }
}
