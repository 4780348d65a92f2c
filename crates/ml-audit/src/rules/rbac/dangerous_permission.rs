//! Dangerous single permissions: each is an escalation edge on its own.
use super::{at_cause, exempt, graph, rule_related};
use crate::rbac::{EdgeKind, Target};
use crate::rules::prelude::*;

declare_rule! {
    id: "rbac-dangerous-permission", category: "rbac", severity: High, inventory: check,
    title: "Subjects must not hold permissions that escalate privileges",
    options: [super::EXEMPT],
}

fn dangerous(kind: EdgeKind, to: &Target) -> bool {
    match kind {
        // Named or namespaced impersonation is what `edit` grants a tenant.
        EdgeKind::Impersonate => matches!(to, Target::ClusterAdmin | Target::AllNamespaces),
        EdgeKind::Bind
        | EdgeKind::Escalate
        | EdgeKind::NodesProxy
        | EdgeKind::ApproveCsr
        | EdgeKind::MutatingWebhook
        | EdgeKind::CreatePersistentVolume
        | EdgeKind::PatchNamespace => true,
        EdgeKind::CreatePods
        | EdgeKind::ReadSecrets
        | EdgeKind::CreateToken
        | EdgeKind::PodExec => *to == Target::AllNamespaces,
        _ => false,
    }
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let g = graph(cx);
    for e in g.graph.edge_indices() {
        let (a, b) = g.graph.edge_endpoints(e).expect("edge exists");
        let edge = &g.graph[e];
        let (crate::rbac::Target::Subject(s), to) = (&g.graph[a], &g.graph[b]) else {
            continue;
        };
        if s.is_masters() || !dangerous(edge.kind, to) || exempt(cx, &META, s) {
            continue;
        }
        let Some(c) = edge.causes.first() else {
            continue;
        };
        // `*` on `*` is reported as such (rbac-cluster-admin-binding,
        // rbac-wildcard-rule), not once per permission it implies.
        if edge.causes.iter().all(|c| g.rules[c.rule].is_superuser()) {
            continue;
        }
        let msg = format!("{s} {} {to} ({})", edge.kind.describe(), edge.detail);
        if let Some(mut f) = at_cause(cx, &META, &g, c, msg) {
            for c2 in edge.causes.iter().skip(1) {
                if let Some(r) = rule_related(cx, &g, c2.rule, "together with this rule") {
                    f = f.with_related(r);
                }
            }
            out.push(f.help("Remove this permission or narrow it with resourceNames and a namespace; list platform controllers that need it under this rule's `exempt` setting."));
        }
    }
}
