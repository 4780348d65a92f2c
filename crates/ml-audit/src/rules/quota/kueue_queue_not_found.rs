//! A `kueue.x-k8s.io/queue-name` that names no LocalQueue.
use super::ledger;
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;

pub const META: RuleMeta = RuleMeta::builtin(
    "kueue-queue-not-found",
    "quota",
    Severity::Medium,
    "A workload's Kueue queue-name must name a LocalQueue of its namespace",
    rule_doc!("kueue-queue-not-found"),
);

pub struct KueueQueueNotFound;

impl Rule for KueueQueueNotFound {
    fn meta(&self) -> &RuleMeta {
        static M: RuleMeta = META;
        &M
    }

    fn check_inventory(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let l = ledger(cx);
        for q in l.kueue.workloads.iter().filter(|q| q.local_queue.is_none()) {
            let obj = cx.inventory.object(q.object);
            let elsewhere: Vec<String> = cx
                .inventory
                .of_kind("LocalQueue")
                .filter(|o| o.name == q.queue && o.group() == "kueue.x-k8s.io")
                .filter_map(|o| o.effective_namespace().map(str::to_string))
                .collect();
            let hint = if elsewhere.is_empty() {
                String::new()
            } else {
                format!(
                    " (a LocalQueue of that name exists in {})",
                    elsewhere.join(", ")
                )
            };
            out.push(
                cx.finding(
                    &META,
                    obj,
                    &q.label_pointer,
                    format!(
                        "{} names Kueue queue `{}`, but namespace {} has no LocalQueue `{}`{hint}: the job stays suspended",
                        obj.display_name(),
                        q.queue,
                        q.namespace,
                        q.queue
                    ),
                )
                .help("create the LocalQueue in the workload's namespace, or fix the label"),
            );
        }
    }
}
