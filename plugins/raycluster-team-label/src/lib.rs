//! Every RayCluster carries a `team` label, equal to its namespace's.

use ml_audit_rule_sdk::prelude::*;

const RULE: RuleInfo = RuleInfo {
    id: "raycluster-team-label-mismatch",
    title: "RayClusters must carry a `team` label matching their namespace's",
    severity: Severity::Medium,
    kinds: &["ray.io/RayCluster"],
    reads: &["/metadata/labels"],
    doc: Doc {
        what: "Flags a RayCluster without a `team` label, and one whose `team` label differs \
               from the `team` label of the Namespace it is created in (when the input \
               declares that Namespace with such a label).",
        why: "GPU chargeback, quotas and on-call routing read the `team` label; a cluster \
              without it, or labelled for another team, is billed and paged to the wrong \
              people.",
        example: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: vision\n  labels: {team: vision}\n---\n\
                  apiVersion: ray.io/v1\nkind: RayCluster\nmetadata:\n  name: rc\n  namespace: vision\n  labels:\n    team: nlp",
        use_instead: "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata:\n  name: rc\n  namespace: vision\n  labels:\n    team: vision",
        references: &["https://docs.ray.io/en/latest/cluster/kubernetes/index.html"],
    },
};

fn check(inv: &Inventory, _cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for rc in inv.of_kind("RayCluster") {
        let ns = rc.namespace().unwrap_or("default");
        let want = inv
            .namespaces
            .get(ns)
            .and_then(|n| n.labels.get("team"))
            .map(String::as_str);
        match (rc.label("team"), want) {
            (None, _) => {
                let at = if rc.get("/metadata/labels").is_some() {
                    "/metadata/labels"
                } else {
                    "/metadata"
                };
                let mut f = rc.finding(at, format!("RayCluster `{}` has no `team` label", rc.name()));
                f = f.help(match want {
                    Some(t) => format!("add `team: {t}` (the label of namespace `{ns}`)"),
                    None => "add a `team` label".to_string(),
                });
                out.push(f);
            }
            (Some(have), Some(want)) if have != want => out.push(
                rc.finding(
                    pointer(&["metadata", "labels", "team"]),
                    format!(
                        "RayCluster `{}` is labelled `team: {have}` but namespace `{ns}` belongs to `{want}`",
                        rc.name()
                    ),
                )
                .help(format!("set `team: {want}`, or create the cluster in `{have}`'s namespace")),
            ),
            _ => {}
        }
    }
    out
}

export_plugin!("raycluster-team-label", [inventory(check, RULE)]);
