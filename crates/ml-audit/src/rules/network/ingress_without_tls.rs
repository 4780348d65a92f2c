//! Ingresses that serve plain HTTP.
use crate::rules::prelude::*;

declare_rule! {
    id: "ingress-without-tls", category: "network", severity: Medium, object: check,
    title: "Ingresses must terminate TLS for every host they serve",
}

fn check(cx: &Context<'_>, o: &Object, out: &mut Vec<Finding>) {
    if o.kind != "Ingress" || o.group() != "networking.k8s.io" {
        return;
    }
    let spec = o.root.field("spec");
    let tls = spec.field("tls").items();
    let covered: Vec<&str> = tls
        .iter()
        .flat_map(|t| t.field("hosts").items().iter().filter_map(|h| h.as_str()))
        .collect();
    let rules = spec.field("rules").items();
    if tls.is_empty() {
        let ptr = if rules.first().is_some_and(|r| r.get("host").is_some()) {
            Pointer::root().keys(&["spec", "rules"]).idx(0).key("host")
        } else if spec.get("rules").is_some() {
            Pointer::root().keys(&["spec", "rules"])
        } else {
            Pointer::root().key("spec")
        };
        out.push(
            cx.finding(&META, o, &ptr, format!("Ingress `{}` has no `tls` section: it serves plain HTTP (model endpoints, notebooks and dashboards send tokens and data in clear)", o.name))
                .help("add `spec.tls` with the hosts and a Secret holding their certificate (cert-manager can issue it)"),
        );
        return;
    }
    for (i, r) in rules.iter().enumerate() {
        let Some(host) = r.field("host").as_str() else {
            continue;
        };
        let ok = covered.iter().any(|c| {
            *c == host
                || c.strip_prefix("*.")
                    .is_some_and(|d| host.split_once('.').is_some_and(|(_, rest)| rest == d))
        });
        if !ok {
            let ptr = Pointer::root().keys(&["spec", "rules"]).idx(i).key("host");
            out.push(
                cx.finding(&META, o, &ptr, format!("host `{host}` of Ingress `{}` is not listed in any `tls` entry: it is served over plain HTTP", o.name))
                    .help("list the host under `spec.tls[].hosts` with a certificate Secret"),
            );
        }
    }
}
