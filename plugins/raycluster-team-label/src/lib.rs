//! Every RayCluster carries a `team` label, equal to its namespace's.

use ml_audit_rule_sdk::prelude::*;

const RULE: RuleInfo = RuleInfo {
    id: "raycluster-team-label-mismatch",
    title: "RayClusters must carry a `team` label matching their namespace's",
    severity: Severity::Medium,
    kinds: &["ray.io/RayCluster"],
    reads: &["/metadata/labels"],
    options: &[OptionInfo {
        name: "label",
        ty: OptionType::String,
        default: "team",
        doc: "The label that names the owning team, on the RayCluster and on its Namespace.",
    }],
    doc: Doc {
        what: "Flags a RayCluster without a `team` label, and one whose `team` label differs \
               from the `team` label of the Namespace it is created in (when the input \
               declares that Namespace with such a label). The `label` option names another \
               label to compare.",
        why: "GPU chargeback, quotas and on-call routing read the `team` label; a cluster \
              without it, or labelled for another team, is billed and paged to the wrong \
              people.",
        example: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: vision\n  labels: {team: vision}\n---\n\
                  apiVersion: ray.io/v1\nkind: RayCluster\nmetadata:\n  name: rc\n  namespace: vision\n  labels:\n    team: nlp",
        use_instead: "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata:\n  name: rc\n  namespace: vision\n  labels:\n    team: vision",
        references: &["https://docs.ray.io/en/latest/cluster/kubernetes/index.html"],
    },
};

fn check(inv: &Inventory, cx: &Context) -> Vec<Finding> {
    let key = cx
        .setting::<String>("label")
        .unwrap_or_else(|| "team".to_string());
    let mut out = Vec::new();
    for rc in inv.of_kind("RayCluster") {
        let ns = rc.namespace().unwrap_or("default");
        let want = inv
            .namespaces
            .get(ns)
            .and_then(|n| n.labels.get(&key))
            .map(String::as_str);
        match (rc.label(&key), want) {
            (None, _) => {
                let at = if rc.get("/metadata/labels").is_some() {
                    "/metadata/labels"
                } else {
                    "/metadata"
                };
                let mut f = rc.finding(at, format!("RayCluster `{}` has no `{key}` label", rc.name()));
                f = f.help(match want {
                    Some(t) => format!("add `{key}: {t}` (the label of namespace `{ns}`)"),
                    None => format!("add a `{key}` label"),
                });
                out.push(f);
            }
            (Some(have), Some(want)) if have != want => out.push(
                rc.finding(
                    pointer(&["metadata", "labels", &key]),
                    format!(
                        "RayCluster `{}` is labelled `{key}: {have}` but namespace `{ns}` belongs to `{want}`",
                        rc.name()
                    ),
                )
                .help(format!("set `{key}: {want}`, or create the cluster in `{have}`'s namespace")),
            ),
            _ => {}
        }
    }
    out
}

export_plugin!("raycluster-team-label", [inventory(check, RULE)]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_with_the_namespace_label() {
        let inv = RULE.inventory(vec![
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "vision", "labels": {"team": "vision", "unit": "a"}}}),
            json!({"apiVersion": "ray.io/v1", "kind": "RayCluster",
                   "metadata": {"name": "rc", "namespace": "vision", "labels": {"team": "nlp"}}}),
        ]);
        assert_eq!(inv.objects.len(), 1, "only the kinds the rule wants");
        let found = check(&inv, &Context::default());
        assert_eq!(found[0].pointer, "/metadata/labels/team");
        assert_eq!(found[0].object, 1);
        let unit = Context::with_settings(json!({"label": "unit"}));
        assert!(check(&inv, &unit)[0].message.contains("no `unit` label"));
    }
}
