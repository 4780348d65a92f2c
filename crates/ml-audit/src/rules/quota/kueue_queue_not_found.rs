//! A `kueue.x-k8s.io/queue-name` that names no LocalQueue.
use super::ledger;
use crate::rules::prelude::*;

declare_rule! {
    id: "kueue-queue-not-found", category: "quota", severity: Medium, inventory: check,
    title: "A workload's Kueue queue-name must name a LocalQueue of its namespace",
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
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
