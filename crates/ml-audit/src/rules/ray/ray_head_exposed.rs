//! Ray head ports exposed outside the cluster.
use crate::rules::prelude::*;
use std::collections::BTreeMap;

use crate::node::Node;

declare_rule! {
    id: "ray-head-exposed", category: "ray", severity: Critical, inventory: check,
    title: "Ray head ports (dashboard, client, GCS) must not be exposed outside the cluster",
}

const PORTS: [(i64, &str); 3] = [(8265, "dashboard"), (10001, "client"), (6379, "GCS")];

fn port_role(n: i64) -> Option<&'static str> {
    PORTS.iter().find(|(p, _)| *p == n).map(|(_, r)| *r)
}

/// A Ray head: the object, the pointer of its head group spec, the name
/// its pods carry in `ray.io/cluster` (a prefix for RayJob / RayService),
/// its pod labels and named container ports.
struct Head<'a> {
    obj: &'a Object,
    ptr: Pointer,
    cluster: String,
    exact: bool,
    labels: BTreeMap<String, String>,
    named_ports: BTreeMap<String, i64>,
    dashboard_host_open: bool,
}

fn heads<'a>(cx: &Context<'a>) -> Vec<Head<'a>> {
    let mut out = Vec::new();
    for (kind, at, exact) in [
        ("RayCluster", "/spec/headGroupSpec", true),
        ("RayJob", "/spec/rayClusterSpec/headGroupSpec", false),
        ("RayService", "/spec/rayClusterConfig/headGroupSpec", false),
    ] {
        for obj in cx.inventory.of_kind(kind) {
            if obj.group() != "ray.io" {
                continue;
            }
            let Some(hg) = obj.root.pointer(at) else {
                continue;
            };
            let tmpl = hg.field("template");
            let mut labels = BTreeMap::new();
            for e in tmpl.field("metadata").field("labels").entries() {
                if let Some(v) = e.value.scalar_text() {
                    labels.insert(e.key.to_string(), v);
                }
            }
            labels.insert("ray.io/node-type".into(), "head".into());
            labels.insert("ray.io/group".into(), "headgroup".into());
            labels.insert("ray.io/is-ray-node".into(), "yes".into());
            labels.insert("app.kubernetes.io/name".into(), "kuberay".into());
            labels.insert(
                "app.kubernetes.io/created-by".into(),
                "kuberay-operator".into(),
            );
            let mut named_ports = BTreeMap::new();
            for c in tmpl.field("spec").field("containers").items() {
                for p in c.field("ports").items() {
                    if let (Some(n), Some(v)) =
                        (p.field("name").as_str(), p.field("containerPort").as_i64())
                    {
                        named_ports.insert(n.to_string(), v);
                    }
                }
            }
            let dh = hg.field("rayStartParams").field("dashboard-host");
            out.push(Head {
                obj,
                ptr: Pointer::parse(at),
                cluster: obj.name.clone(),
                exact,
                labels,
                named_ports,
                dashboard_host_open: dh.scalar_text().is_some_and(|s| s == "0.0.0.0"),
            });
        }
    }
    out
}

impl Head<'_> {
    /// Whether a Service selector picks this head's pods.
    fn selected_by(&self, selector: &Node) -> bool {
        let entries = selector.entries();
        !entries.is_empty()
            && entries.iter().all(|e| {
                let v = e.value.scalar_text().unwrap_or_default();
                if e.key == "ray.io/cluster" {
                    if self.exact {
                        v == self.cluster
                    } else {
                        v.starts_with(&self.cluster)
                    }
                } else {
                    self.labels.get(e.key.as_str()) == Some(&v)
                }
            })
    }

    /// The Ray port a Service/Ingress port reaches (by number or name).
    fn ray_port(&self, number: Option<i64>, target: &Node) -> Option<(i64, &'static str)> {
        let t = match &target.value {
            crate::node::Value::Int(i) => Some(*i),
            crate::node::Value::Str(s) => s
                .parse()
                .ok()
                .or_else(|| self.named_ports.get(s.as_str()).copied())
                .or(match s.as_str() {
                    "dashboard" => Some(8265),
                    "client" => Some(10001),
                    "gcs" | "gcs-server" | "redis" => Some(6379),
                    _ => None,
                }),
            _ => None,
        };
        [t, number]
            .into_iter()
            .flatten()
            .find_map(|n| port_role(n).map(|r| (n, r)))
    }

    fn note(&self) -> &'static str {
        if self.dashboard_host_open {
            " (and `dashboard-host: 0.0.0.0` makes the dashboard listen on every interface)"
        } else {
            ""
        }
    }
}

const HELP: &str = "Ray has no authentication: anyone who reaches the head can submit jobs (remote code execution as the Ray pods' service account). Keep the head Service ClusterIP and reach the dashboard through `kubectl port-forward` or an authenticating proxy";

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let heads = heads(cx);
    if heads.is_empty() {
        return;
    }
    // 1. headGroupSpec.serviceType / enableIngress on the Ray object itself.
    let null = Node::new(crate::node::Value::Null);
    for h in &heads {
        let hg = h.obj.root.pointer(h.ptr.as_str()).unwrap_or(&null);
        let service_type = hg
            .field("serviceType")
            .as_str()
            .filter(|t| matches!(*t, "LoadBalancer" | "NodePort"));
        let exposed = [
            service_type.map(|t| ("serviceType", format!(
                "`serviceType: {t}` makes KubeRay's head Service `{}-head-svc` a {t}, exposing ports 8265 (dashboard), 10001 (client) and 6379 (GCS)",
                h.cluster
            ))),
            (hg.field("enableIngress").as_bool() == Some(true)).then(|| ("enableIngress", format!(
                "`enableIngress: true` makes KubeRay create an Ingress to the dashboard (port 8265) of `{}-head-svc`",
                h.cluster
            ))),
        ];
        for (field, what) in exposed.into_iter().flatten() {
            let message = format!("{}: {what}{}", h.obj.display_name(), h.note());
            out.push(
                cx.finding(&META, h.obj, &h.ptr.key(field), message)
                    .context("head")
                    .help(HELP),
            );
        }
    }
    let mut by_ns: std::collections::HashMap<&str, Vec<&Head<'_>>> =
        std::collections::HashMap::new();
    for h in &heads {
        by_ns
            .entry(h.obj.effective_namespace().unwrap_or(""))
            .or_default()
            .push(h);
    }
    // 2. Services selecting head pods.
    let mut head_services: Vec<(&Object, &Head<'_>)> = Vec::new();
    for svc in cx.inventory.of_kind("Service") {
        if !svc.group().is_empty() {
            continue;
        }
        let spec = svc.root.field("spec");
        let ns = svc.effective_namespace().unwrap_or("default");
        for &h in by_ns.get(ns).into_iter().flatten() {
            if !h.selected_by(spec.field("selector")) {
                continue;
            }
            head_services.push((svc, h));
            let ty = spec.field("type").as_str().unwrap_or("ClusterIP");
            if !matches!(ty, "LoadBalancer" | "NodePort") {
                continue;
            }
            for (i, p) in spec.field("ports").items().iter().enumerate() {
                if let Some((n, role)) = h.ray_port(p.field("port").as_i64(), p.field("targetPort"))
                {
                    out.push(
                        cx.finding(
                            &META,
                            svc,
                            &Pointer::root().keys(&["spec", "ports"]).idx(i).key("port"),
                            format!(
                                "{} (type {ty}) exposes {}the Ray {role} port {n} of {}'s head{}",
                                svc.display_name(),
                                p.field("port")
                                    .as_i64()
                                    .filter(|sp| *sp != n)
                                    .map(|sp| format!("port {sp}, which reaches "))
                                    .unwrap_or_default(),
                                h.obj.display_name(),
                                h.note()
                            ),
                        )
                        .help(HELP)
                        .with_related(cx.related(
                            h.obj,
                            &h.ptr,
                            "the Ray head whose pods it selects",
                        )),
                    );
                }
            }
        }
    }
    // The first head Service of each (namespace, name).
    let mut svc_index: std::collections::HashMap<(&str, &str), (&Object, &Head<'_>)> =
        std::collections::HashMap::new();
    for &(s, h) in &head_services {
        svc_index
            .entry((s.effective_namespace().unwrap_or(""), s.name.as_str()))
            .or_insert((s, h));
    }
    // 3. Ingresses to a head Service (one of the above, or KubeRay's own).
    for ing in cx.inventory.of_kind("Ingress") {
        let ns = ing.effective_namespace().unwrap_or("default");
        let mut backends: Vec<(Pointer, &Node)> = Vec::new();
        let spec = ing.root.field("spec");
        for key in ["defaultBackend", "backend"] {
            if let Some(b) = spec.get(key) {
                backends.push((Pointer::root().keys(&["spec", key]), b));
            }
        }
        for (ri, r) in spec.field("rules").items().iter().enumerate() {
            for (pi, p) in r.field("http").field("paths").items().iter().enumerate() {
                if let Some(b) = p.get("backend") {
                    backends.push((
                        Pointer::root()
                            .keys(&["spec", "rules"])
                            .idx(ri)
                            .keys(&["http", "paths"])
                            .idx(pi)
                            .key("backend"),
                        b,
                    ));
                }
            }
        }
        for (bp, b) in backends {
            let (name, port_node, port_ptr) = if let Some(s) = b.get("service") {
                let port = s.field("port");
                let (pn, pp) = match (port.get("number"), port.get("name")) {
                    (Some(n), _) => (n, bp.keys(&["service", "port", "number"])),
                    (None, Some(n)) => (n, bp.keys(&["service", "port", "name"])),
                    _ => (port, bp.keys(&["service", "port"])),
                };
                (s.field("name").as_str().unwrap_or(""), pn, pp)
            } else {
                (
                    b.field("serviceName").as_str().unwrap_or(""),
                    b.field("servicePort"),
                    bp.key("servicePort"),
                )
            };
            let head = by_ns
                .get(ns)
                .into_iter()
                .flatten()
                .copied()
                .find(|h| {
                    let svc = name.strip_suffix("-head-svc");
                    (h.exact && svc == Some(h.cluster.as_str()))
                        || (!h.exact && svc.is_some() && name.starts_with(&h.cluster))
                })
                .or_else(|| svc_index.get(&(ns, name)).map(|&(_, h)| h));
            let Some(h) = head else {
                continue;
            };
            // The Service port number or name, resolved through the Service when named.
            let svc = svc_index.get(&(ns, name)).map(|&(s, _)| s);
            let target = match (&port_node.value, svc) {
                (crate::node::Value::Str(pname), Some(s)) => s
                    .root
                    .field("spec")
                    .field("ports")
                    .items()
                    .iter()
                    .find(|p| p.field("name").as_str() == Some(pname))
                    .and_then(|p| h.ray_port(p.field("port").as_i64(), p.field("targetPort"))),
                (crate::node::Value::Int(n), Some(s)) => s
                    .root
                    .field("spec")
                    .field("ports")
                    .items()
                    .iter()
                    .find(|p| p.field("port").as_i64() == Some(*n))
                    .and_then(|p| h.ray_port(Some(*n), p.field("targetPort")))
                    .or_else(|| h.ray_port(Some(*n), &Node::new(crate::node::Value::Null))),
                _ => h.ray_port(port_node.as_i64(), port_node),
            };
            if let Some((n, role)) = target {
                out.push(
                    cx.finding(
                        &META,
                        ing,
                        &port_ptr,
                        format!(
                            "{} routes to Service `{name}`, exposing the Ray {role} port {n} of {}'s head{}",
                            ing.display_name(), h.obj.display_name(), h.note()
                        ),
                    )
                    .help(HELP)
                    .with_related(cx.related(h.obj, &h.ptr, "the Ray head behind this Ingress")),
                );
            }
        }
    }
}
