//! KServe InferenceServices reachable from outside the cluster.
use crate::rules::prelude::*;

declare_rule! {
    id: "inference-service-exposed", category: "serving", severity: Info, inventory: check,
    title: "InferenceServices without the cluster-local label are reachable from outside",
}

fn cluster_local(o: &Object) -> bool {
    [
        "networking.kserve.io/visibility",
        "serving.knative.dev/visibility",
    ]
    .iter()
    .any(|k| o.labels.get(*k).is_some_and(|v| v == "cluster-local"))
}

/// Strings under a node (hosts, backend names), with their pointers.
fn strings<'a>(n: &'a crate::node::Node, at: Pointer, out: &mut Vec<(Pointer, &'a str)>) {
    match &n.value {
        crate::node::Value::Str(s) => out.push((at, s)),
        crate::node::Value::Seq(items) => {
            for (i, it) in items.iter().enumerate() {
                strings(it, at.idx(i), out);
            }
        }
        crate::node::Value::Map(entries) => {
            for e in entries {
                strings(&e.value, at.key(&e.key), out);
            }
        }
        _ => {}
    }
}

/// The route (Ingress, HTTPRoute, VirtualService) that names this
/// InferenceService, if any: (object, pointer).
fn direct_route<'a>(cx: &Context<'a>, isvc: &Object) -> Option<(&'a Object, Pointer)> {
    let ns = isvc.effective_namespace()?;
    let name = &isvc.name;
    for kind in ["Ingress", "HTTPRoute", "VirtualService"] {
        for o in cx.inventory.of_kind(kind) {
            let mut ss = Vec::new();
            strings(o.root.field("spec"), Pointer::root().key("spec"), &mut ss);
            let same_ns = o.effective_namespace() == Some(ns);
            if let Some((p, _)) = ss.into_iter().find(|(_, s)| {
                let s = s.to_ascii_lowercase();
                s.starts_with(&format!("{name}.{ns}."))
                    || s == format!("{name}.{ns}")
                    || (same_ns
                        && (s == *name
                            || s == format!("{name}-predictor")
                            || s == format!("{name}-predictor-default")))
            }) {
                return Some((o, p));
            }
        }
    }
    None
}

/// The KServe ingress gateway named in `inferenceservice-config`, if the
/// input holds both.
fn kserve_gateway<'a>(cx: &Context<'a>) -> Option<&'a Object> {
    let cm = cx
        .inventory
        .of_kind("ConfigMap")
        .find(|o| o.name == "inferenceservice-config")?;
    let ingress = cm.root.field("data").field("ingress").as_str()?;
    let v: serde_json::Value = serde_json::from_str(ingress).ok()?;
    let gw = v.get("ingressGateway")?.as_str()?;
    let (ns, name) = gw.split_once('/')?;
    cx.inventory.lookup("Gateway", ns, name).next()
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let gateway = kserve_gateway(cx);
    for isvc in cx.inventory.of_kind("InferenceService") {
        if isvc.group() != "serving.kserve.io" || cluster_local(isvc) {
            continue;
        }
        let (related, reason) = if let Some((o, p)) = direct_route(cx, isvc) {
            (
                cx.related(o, &p, "routes to the InferenceService"),
                format!("{} routes to it", o.display_name()),
            )
        } else if let Some(g) = gateway {
            (
                cx.related(
                    g,
                    &Pointer::root().key("spec"),
                    "KServe's ingress gateway (inferenceservice-config)",
                ),
                format!(
                    "KServe publishes it through the ingress gateway {}",
                    g.display_name()
                ),
            )
        } else {
            continue;
        };
        let pointer = if isvc.root.field("metadata").get("labels").is_some() {
            Pointer::root().keys(&["metadata", "labels"])
        } else {
            Pointer::root().key("metadata")
        };
        out.push(
            cx.finding(
                &META,
                isvc,
                &pointer,
                format!(
                    "{} has no `networking.kserve.io/visibility: cluster-local` label and {reason}: its model endpoint is reachable from outside the cluster",
                    isvc.display_name()
                ),
            )
            .help("if only in-cluster clients call it, label it `networking.kserve.io/visibility: cluster-local`; if it must be public, put authentication (an AuthorizationPolicy, an API gateway) in front of it")
            .with_related(related),
        );
    }
}
