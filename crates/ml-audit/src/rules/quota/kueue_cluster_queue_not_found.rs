//! A LocalQueue whose ClusterQueue does not exist.
use crate::node::Node;
use crate::rules::prelude::*;

declare_rule! {
    id: "kueue-cluster-queue-not-found", category: "quota", severity: Medium, object: check,
    title: "A LocalQueue must point to an existing ClusterQueue",
}

fn check(cx: &Context<'_>, o: &Object, out: &mut Vec<Finding>) {
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
