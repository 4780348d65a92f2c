//! Targeted checks of the reachability semantics and exposure, each on a
//! minimal inventory, through the netpol-analyzer line format.

use ml_audit::netpol::{Endpoint, ExposureVia, Options, Reachability};
use ml_audit::Inventory;

fn build(yaml: &str) -> Reachability {
    let inv = Inventory::from_text("t.yaml", yaml);
    Reachability::build(&inv, &Options::default())
}

fn deploy(ns: &str, name: &str, labels: &str, ports: &str) -> String {
    format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  template:\n    metadata: {{labels: {{{labels}}}}}\n    spec: {{containers: [{{name: c, image: i, ports: [{ports}]}}]}}\n---\n")
}

fn ns(name: &str, labels: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{{labels}}}}}\n---\n"
    )
}

fn line<'a>(r: &'a [String], prefix: &str) -> Option<&'a str> {
    r.iter().find(|l| l.starts_with(prefix)).map(|l| l.as_str())
}

#[test]
fn end_port_named_port_and_not_in() {
    let y = [
        ns("a", "team: x"),
        ns("b", ""),
        deploy("a", "srv", "app: srv", "{name: http, containerPort: 8080}"),
        deploy("b", "cli", "app: cli", ""),
        deploy("b", "nolabel", "other: y", ""),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: srv}}\n  ingress:\n  - from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [cli]}]}}]\n    ports: [{port: http}, {port: 9000, endPort: 9010, protocol: UDP}]\n".to_string(),
    ]
    .concat();
    let r = build(&y).connlist();
    // NotIn matches pods without the key; the named port resolves on srv
    assert_eq!(
        line(&r, "b/nolabel[Deployment] => a/srv"),
        Some("b/nolabel[Deployment] => a/srv[Deployment] : TCP 8080,UDP 9000-9010")
    );
    assert_eq!(line(&r, "b/cli[Deployment] => a/srv"), None);
    assert_eq!(line(&r, "0.0.0.0-255.255.255.255[External] => a/srv"), None);
}

#[test]
fn namespace_and_pod_selector_and_vs_or() {
    let y = [
        ns("a", ""),
        ns("b", "team: x"),
        deploy("a", "srv", "app: srv", ""),
        deploy("a", "local", "app: web", ""),
        deploy("b", "web", "app: web", ""),
        deploy("b", "other", "app: other", ""),
        // AND in one peer: web pods of team-x namespaces; OR: any pod of a
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: srv}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: x}}, podSelector: {matchLabels: {app: web}}}]\n".to_string(),
    ]
    .concat();
    let r = build(&y).connlist();
    assert!(line(&r, "b/web[Deployment] => a/srv").is_some());
    assert!(line(&r, "b/other[Deployment] => a/srv").is_none());
    // podSelector alone would mean namespace a; here it is ANDed with team=x
    assert!(line(&r, "a/local[Deployment] => a/srv").is_none());
}

#[test]
fn egress_and_ingress_both_needed_and_ip_block_except() {
    let y = [
        ns("a", ""),
        deploy("a", "x", "app: x", ""),
        deploy("a", "y", "app: y", ""),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: e, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: x}}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]\n".to_string(),
    ]
    .concat();
    let r = build(&y).connlist();
    assert!(line(&r, "a/x[Deployment] => a/y").is_none(), "{r:?}");
    // policyTypes defaults to Ingress (always) + Egress (egress rules exist):
    // x is isolated for ingress too, with no ingress rule
    assert!(line(&r, "a/y[Deployment] => a/x").is_none());
    assert_eq!(
        line(&r, "a/x[Deployment] => 10.0.0.0"),
        Some("a/x[Deployment] => 10.0.0.0-10.0.255.255[External] : All Connections")
    );
    assert!(line(&r, "a/x[Deployment] => 10.1.0.0").is_none());
}

#[test]
fn admin_tiers_pass_reaches_baseline() {
    let y = [
        ns("a", "tenant: t1"),
        ns("b", "tenant: t2"),
        deploy("a", "x", "app: x", ""),
        deploy("b", "y", "app: y", ""),
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: pass-dns}\nspec:\n  priority: 5\n  subject: {namespaces: {}}\n  ingress:\n  - {name: pass, action: Pass, from: [{namespaces: {}}], ports: [{portNumber: {protocol: UDP, port: 53}}]}\n  - {name: deny, action: Deny, from: [{namespaces: {matchLabels: {tenant: t2}}}], ports: [{portNumber: {protocol: TCP, port: 80}}]}\n---\n".to_string(),
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  ingress:\n  - {name: deny-all, action: Deny, from: [{namespaces: {}}]}\n".to_string(),
    ]
    .concat();
    let r = build(&y).connlist();
    // UDP 53 passed to the baseline, which denies it: nothing but the
    // baseline's default-deny anyway; TCP 80 denied by the ANP
    assert!(line(&r, "b/y[Deployment] => a/x").is_none(), "{r:?}");
    // external sources are not namespaces: the baseline does not match them
    assert!(line(&r, "0.0.0.0-255.255.255.255[External] => a/x").is_some());
}

#[test]
fn unknown_namespace_labels_give_unknown_not_allow_or_deny() {
    let y = [
        deploy("a", "srv", "app: srv", ""),
        deploy("b", "cli", "app: cli", ""),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: x}}}]\n".to_string(),
    ]
    .concat();
    let r = build(&y);
    assert!(line(&r.connlist(), "b/cli[Deployment] => a/srv").is_none());
    assert_eq!(
        line(&r.unknown_list(), "b/cli[Deployment] => a/srv"),
        Some("b/cli[Deployment] => a/srv[Deployment] : All Connections")
    );
    let cli = r.peer("b", "cli").unwrap();
    let srv = r.peer("a", "srv").unwrap();
    let e = r.explain(Endpoint::Peer(cli), Endpoint::Peer(srv));
    assert!(
        e.reasons[0].contains("namespace `b` has no Namespace object"),
        "{e:?}"
    );
}

#[test]
fn exposure_through_load_balancer_ingress_and_http_route() {
    let y = [
        deploy("m", "model", "app: model", "{name: http, containerPort: 8080}"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: model, namespace: m}\nspec:\n  type: LoadBalancer\n  selector: {app: model}\n  ports: [{port: 80, targetPort: http}]\n---\n".to_string(),
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: model, namespace: m}\nspec:\n  rules:\n  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: model, port: {number: 80}}}}\n---\n".to_string(),
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: model, namespace: m}\nspec:\n  rules:\n  - backendRefs: [{name: model, port: 80}]\n---\n".to_string(),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: only-ingress-nginx, namespace: m}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-controller-ns}}}]\n".to_string(),
    ]
    .concat();
    let r = build(&y);
    let via: Vec<(ExposureVia, String, String)> = r
        .exposures
        .iter()
        .map(|x| (x.via.clone(), x.ports.to_string(), x.reachable.to_string()))
        .collect();
    assert!(
        via.contains(&(
            ExposureVia::LoadBalancer,
            "TCP 8080".into(),
            "No Connections".into()
        )),
        "{via:?}"
    );
    assert!(
        via.contains(&(ExposureVia::Ingress, "TCP 8080".into(), "TCP 8080".into())),
        "{via:?}"
    );
    assert!(
        via.contains(&(ExposureVia::HttpRoute, "TCP 8080".into(), "TCP 8080".into())),
        "{via:?}"
    );
    assert!(r
        .connlist()
        .contains(&"{ingress-controller} => m/model[Deployment] : TCP 8080".to_string()));
}
