//! What is reachable from outside the cluster: Services of type
//! LoadBalancer or NodePort, Ingresses and Gateway API HTTPRoutes, resolved
//! to the workloads and target ports behind them, then filtered by the
//! policies (from any external address for Services; from the ingress
//! controller pseudo-peer for Ingresses and HTTPRoutes).

use std::collections::HashMap;

use super::conn::{ConnSet, Protocol};
use super::selector::Labels;
use super::Reachability;
use crate::inventory::Inventory;
use crate::node::{Node, Pointer};
use crate::object::{Object, ObjectId};

/// How a workload is exposed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ExposureVia {
    /// A Service of type LoadBalancer.
    LoadBalancer,
    /// A Service of type NodePort.
    NodePort,
    /// An Ingress (through a Service).
    Ingress,
    /// A Gateway API HTTPRoute (through a Service).
    HttpRoute,
}

impl ExposureVia {
    /// True for Ingress and HTTPRoute: traffic comes from the controller.
    pub fn through_ingress_controller(&self) -> bool {
        matches!(self, ExposureVia::Ingress | ExposureVia::HttpRoute)
    }
}

/// One workload exposed by one object.
#[derive(Clone, Debug)]
pub struct Exposure {
    /// How.
    pub via: ExposureVia,
    /// The exposing object (Service, Ingress, HTTPRoute).
    pub object: ObjectId,
    /// Where in it (the backend or the `type`).
    pub pointer: Pointer,
    /// The Service in between.
    pub service: ObjectId,
    /// The peer exposed.
    pub peer: usize,
    /// Target ports exposed.
    pub ports: ConnSet,
    /// What the policies let through of `ports`.
    pub reachable: ConnSet,
}

/// True when the input has objects routed through an ingress controller.
pub fn has_ingress_objects(inv: &Inventory) -> bool {
    inv.objects.iter().any(|o| {
        (o.kind == "Ingress" && o.group() == "networking.k8s.io")
            || (o.kind == "HTTPRoute" && o.group() == "gateway.networking.k8s.io")
    })
}

fn selector_of(svc: &Object) -> Option<Labels> {
    let sel = svc.root.pointer("/spec/selector")?;
    let m: Labels = sel
        .entries()
        .iter()
        .filter_map(|e| Some((e.key.to_string(), e.value.scalar_text()?)))
        .collect();
    (!m.is_empty()).then_some(m)
}

/// Target ports of one Service port on one peer.
fn target(r: &Reachability, peer: usize, sp: &Node) -> ConnSet {
    let proto = sp
        .field("protocol")
        .as_str()
        .and_then(Protocol::parse)
        .unwrap_or(Protocol::Tcp);
    let tp = sp.field("targetPort");
    let tp = if tp.is_null() { sp.field("port") } else { tp };
    if let Some(n) = tp.as_i64().and_then(|n| u16::try_from(n).ok()) {
        return ConnSet::range(proto, n, n);
    }
    if let Some(name) = tp.as_str() {
        if let Ok(n) = name.parse::<u16>() {
            return ConnSet::range(proto, n, n);
        }
        let mut c = ConnSet::none();
        for (pn, pp, port) in &r.peers[peer].ports {
            if pn == name && *pp == proto {
                c.union_with(&ConnSet::range(proto, *port, *port));
            }
        }
        return c;
    }
    ConnSet::none()
}

/// The peers a Service selects, from the (real) peers of each namespace.
fn service_peers(r: &Reachability, by_ns: &HashMap<&str, Vec<usize>>, svc: &Object) -> Vec<usize> {
    let Some(sel) = selector_of(svc) else {
        return Vec::new();
    };
    let ns = svc.effective_namespace().unwrap_or("default");
    by_ns
        .get(ns)
        .into_iter()
        .flatten()
        .copied()
        .filter(|&i| sel.iter().all(|(k, v)| r.peers[i].labels.get(k) == Some(v)))
        .collect()
}

/// Service ports matching a backend's port (number, name, or every port).
fn service_ports<'a>(svc: &'a Object, number: Option<i64>, name: Option<&str>) -> Vec<&'a Node> {
    svc.root
        .field("spec")
        .field("ports")
        .items()
        .iter()
        .filter(|p| match (number, name) {
            (Some(n), _) => p.field("port").as_i64() == Some(n),
            (None, Some(nm)) => p.field("name").as_str() == Some(nm),
            (None, None) => true,
        })
        .collect()
}

fn external_reach(r: &Reachability, peer: usize) -> ConnSet {
    let mut c = ConnSet::none();
    for b in 0..r.in_blocks.len() {
        c.union_with(&r.from_external(b, peer).allowed);
    }
    c
}

/// Computes every exposure.
pub fn compute(inv: &Inventory, r: &Reachability) -> Vec<Exposure> {
    let mut out = Vec::new();
    let ic = r.peers.iter().position(|p| p.synthetic);
    // Services select peers of their own namespace: index them once (a
    // scan of every peer per Service grew with the square of the input).
    let mut by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in r.peers.iter().enumerate() {
        if !p.synthetic {
            by_ns.entry(p.namespace.as_str()).or_default().push(i);
        }
    }
    let backend = |via: ExposureVia,
                   obj: &Object,
                   ptr: Pointer,
                   svc_name: &str,
                   number: Option<i64>,
                   name: Option<&str>,
                   out: &mut Vec<Exposure>| {
        let ns = obj.effective_namespace().unwrap_or("default");
        let Some(svc) = inv.lookup("Service", ns, svc_name).next() else {
            return;
        };
        for p in service_peers(r, &by_ns, svc) {
            let mut ports = ConnSet::none();
            for sp in service_ports(svc, number, name) {
                ports.union_with(&target(r, p, sp));
            }
            if ports.is_empty() {
                continue;
            }
            let reachable = match ic {
                Some(ic) => r.between(ic, p).allowed.intersect(&ports),
                None => ConnSet::none(),
            };
            out.push(Exposure {
                via: via.clone(),
                object: obj.id,
                pointer: ptr.clone(),
                service: svc.id,
                peer: p,
                ports,
                reachable,
            });
        }
    };
    for o in &inv.objects {
        match (o.group(), o.kind.as_str()) {
            ("", "Service") => {
                let via = match o.root.pointer("/spec/type").and_then(|t| t.as_str()) {
                    Some("LoadBalancer") => ExposureVia::LoadBalancer,
                    Some("NodePort") => ExposureVia::NodePort,
                    _ => continue,
                };
                for p in service_peers(r, &by_ns, o) {
                    let mut ports = ConnSet::none();
                    for sp in service_ports(o, None, None) {
                        ports.union_with(&target(r, p, sp));
                    }
                    let reachable = external_reach(r, p).intersect(&ports);
                    out.push(Exposure {
                        via: via.clone(),
                        object: o.id,
                        pointer: Pointer::root().keys(&["spec", "type"]),
                        service: o.id,
                        peer: p,
                        ports,
                        reachable,
                    });
                }
            }
            ("networking.k8s.io", "Ingress") => {
                let spec = o.root.field("spec");
                let sp = Pointer::root().key("spec");
                let mut backends: Vec<(Pointer, &Node)> = Vec::new();
                if let Some(b) = spec.get("defaultBackend") {
                    backends.push((sp.key("defaultBackend"), b));
                }
                for (i, rule) in spec.field("rules").items().iter().enumerate() {
                    for (j, path) in rule.field("http").field("paths").items().iter().enumerate() {
                        let ptr = sp
                            .key("rules")
                            .idx(i)
                            .keys(&["http", "paths"])
                            .idx(j)
                            .key("backend");
                        backends.push((ptr, path.field("backend")));
                    }
                }
                for (ptr, b) in backends {
                    let s = b.field("service");
                    let Some(name) = s.field("name").as_str() else {
                        continue;
                    };
                    let port = s.field("port");
                    backend(
                        ExposureVia::Ingress,
                        o,
                        ptr,
                        name,
                        port.field("number").as_i64(),
                        port.field("name").as_str(),
                        &mut out,
                    );
                }
            }
            ("gateway.networking.k8s.io", "HTTPRoute") => {
                let sp = Pointer::root().key("spec");
                for (i, rule) in o
                    .root
                    .field("spec")
                    .field("rules")
                    .items()
                    .iter()
                    .enumerate()
                {
                    for (j, b) in rule.field("backendRefs").items().iter().enumerate() {
                        let kind = b.field("kind").as_str().unwrap_or("Service");
                        let Some(name) = b.field("name").as_str() else {
                            continue;
                        };
                        if kind != "Service" {
                            continue;
                        }
                        let ptr = sp.key("rules").idx(i).key("backendRefs").idx(j);
                        backend(
                            ExposureVia::HttpRoute,
                            o,
                            ptr,
                            name,
                            b.field("port").as_i64(),
                            None,
                            &mut out,
                        );
                    }
                }
            }
            _ => {}
        }
    }
    out
}
