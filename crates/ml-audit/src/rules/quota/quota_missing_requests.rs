//! Workloads without requests under a quota that tracks them.
use super::{context, ledger};
use crate::finding::{Finding, Severity};
use crate::quota::{limit_pointer, request_pointer};
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
            let pointer = if side == "limits" {
                limit_pointer(w, m.container, resource)
            } else {
                request_pointer(w, m.container, resource)
            };
            let c = &w.containers[m.container];
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
