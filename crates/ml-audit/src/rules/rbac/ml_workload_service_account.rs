//! ServiceAccounts of ML workloads with cluster-wide secret read or pod creation.
use super::{exempt, graph, rule_related};
use crate::rbac::{EdgeKind, Subject, Target};
use crate::rules::prelude::*;

declare_rule! {
    id: "rbac-ml-workload-powerful-service-account", category: "rbac", severity: High, inventory: check_all,
    title: "ML workloads must not run as a ServiceAccount that reads every Secret or creates pods everywhere",
    options: [super::EXEMPT],
}

/// Kinds of the core groups are platform plumbing; the rest (RayCluster,
/// PyTorchJob, Notebook, InferenceService, Workflow, ...) are ML workloads.
fn is_ml(group: &str) -> bool {
    !matches!(group, "" | "apps" | "batch")
}

// One whole-inventory job, not a check per workload: the RBAC graph is
// built on first use, and every workload rule job that asked for it
// waited while it was built (a core idle for a fifth of a second at
// 100,000 objects); now one job waits, and the workload rules go on.
fn check_all(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for w in &cx.inventory.workloads {
        check(cx, w, out);
    }
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    let obj = cx.inventory.object(w.object);
    if !is_ml(obj.group()) {
        return;
    }
    let Some(ns) = &w.namespace else { return };
    let sa = Subject::sa(ns, w.service_account().0);
    if exempt(cx, &META, &sa) {
        return;
    }
    let g = graph(cx);
    for (to, e) in g.edges_from(&sa) {
        if *to != Target::AllNamespaces
            || !matches!(e.kind, EdgeKind::CreatePods | EdgeKind::ReadSecrets)
        {
            continue;
        }
        let what = if e.kind == EdgeKind::CreatePods {
            "can create pods in every namespace"
        } else {
            "can read every Secret in the cluster"
        };
        let ptr = if w.spec.service_account_name.is_some() {
            w.field_pointer("serviceAccountName")
        } else {
            w.pod_pointer.clone()
        };
        let mut f = finding(
            cx,
            &META,
            w,
            None,
            &ptr,
            format!("runs as {sa}, which {what} ({})", e.detail),
        )
        .help("Run the workload as a ServiceAccount of its own with only namespaced permissions.");
        for c in &e.causes {
            let b = &g.bindings[c.binding];
            if let Some(o) = b.object {
                let (_, sp) = &b.subjects[c.subject];
                f = f.with_related(cx.related(
                    cx.inventory.object(o),
                    sp,
                    format!("granted by {}", b.display()),
                ));
            }
            if let Some(r) = rule_related(cx, &g, c.rule, "through this rule") {
                f = f.with_related(r);
            }
        }
        out.push(f);
    }
}
