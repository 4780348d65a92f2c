//! A LocalQueue whose ClusterQueue does not exist.
use crate::finding::{Finding, Severity};
use crate::node::{Node, Pointer};
use crate::object::Object;
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;

pub const META: RuleMeta = RuleMeta::builtin(
    "kueue-cluster-queue-not-found",
    "quota",
    Severity::Medium,
    "A LocalQueue must point to an existing ClusterQueue",
    rule_doc!("kueue-cluster-queue-not-found"),
);

pub struct KueueClusterQueueNotFound;

impl Rule for KueueClusterQueueNotFound {
    fn meta(&self) -> &RuleMeta {
        static M: RuleMeta = META;
        &M
    }

    fn check_object(&self, cx: &Context<'_>, o: &Object, out: &mut Vec<Finding>) {
        if o.kind != "LocalQueue" || o.group() != "kueue.x-k8s.io" {
            return;
        }
        let Some(cq) = o.root.pointer("/spec/clusterQueue").and_then(Node::as_str) else {
            return;
        };
        if cx
            .inventory
            .lookup("ClusterQueue", "", cq)
            .any(|c| c.group() == "kueue.x-k8s.io")
        {
            return;
        }
        out.push(
            cx.finding(
                &META,
                o,
                &Pointer::root().keys(&["spec", "clusterQueue"]),
                format!(
                    "{} points to ClusterQueue `{cq}`, which is not declared: workloads submitted to it are never admitted",
                    o.display_name()
                ),
            )
            .help("declare the ClusterQueue, or point the LocalQueue at an existing one"),
        );
    }
}
