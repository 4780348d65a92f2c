//! Network rules, over the reachability model ([`crate::netpol`]) computed
//! once per audit and shared.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::finding::Finding;
use crate::inventory::Inventory;
use crate::netpol::{Options, Peer, Reachability};
use crate::node::Pointer;
use crate::object::Object;
use crate::rule::Context;

pub(super) mod cross_tenant_ml_port;
pub(super) mod ingress_without_tls;
pub(super) mod missing_default_deny;
pub(super) mod ml_pod_unrestricted_egress;
pub(super) mod namespace_without_network_policy;
pub(super) mod network_policy_selects_no_pod;
pub(super) mod network_policy_unknown_named_port;

/// The shared reachability model.
pub(crate) fn reach(cx: &Context<'_>) -> Arc<Reachability> {
    cx.analysis::<Reachability>(|inv| Reachability::build(inv, &Options::default()))
}

/// API groups of the ML platforms.
const ML_GROUPS: &[&str] = &[
    "kubeflow.org",
    "ray.io",
    "serving.kserve.io",
    "trainer.kubeflow.org",
    "jobset.x-k8s.io",
    "leaderworkerset.x-k8s.io",
    "machinelearning.seldon.io",
    "batch.volcano.sh",
];

/// True for objects of an ML platform (Ray, Kubeflow, KServe, ...).
pub(crate) fn is_ml(o: &Object) -> bool {
    ML_GROUPS.contains(&o.group())
}

/// True for training jobs and notebooks.
pub(crate) fn is_training_or_notebook(o: &Object) -> bool {
    matches!(
        o.kind.as_str(),
        "PyTorchJob"
            | "TFJob"
            | "MPIJob"
            | "XGBoostJob"
            | "PaddleJob"
            | "JAXJob"
            | "TrainJob"
            | "JobSet"
            | "Notebook"
            | "RayJob"
            | "RayCluster"
    ) && is_ml(o)
}

/// The object of a peer and the pointer of its pod spec.
pub(crate) fn peer_site<'a>(inv: &'a Inventory, p: &Peer) -> Option<(&'a Object, Pointer)> {
    let w = &inv.workloads[*p.workloads.first()?];
    Some((inv.object(w.object), w.pod_pointer.clone()))
}

/// Where to report something about a namespace: its Namespace object, or
/// else the object of its first workload peer (at `metadata.namespace`);
/// `peers` are the namespace's, as [`peers_by_namespace`] gives them.
pub(crate) fn namespace_site<'a>(
    inv: &'a Inventory,
    r: &Reachability,
    ns: &str,
    peers: &[usize],
) -> Option<(&'a Object, Pointer)> {
    if let Some(o) = inv.lookup("Namespace", "", ns).next() {
        return Some((o, Pointer::root().keys(&["metadata", "name"])));
    }
    let p = &r.peers[*peers.first()?];
    let o = inv.object(p.object?);
    let ptr = if o.root.pointer("/metadata/namespace").is_some() {
        Pointer::root().keys(&["metadata", "namespace"])
    } else {
        Pointer::root().keys(&["metadata", "name"])
    };
    Some((o, ptr))
}

/// Reports what `f` finds for each namespace that runs workloads, given the
/// reachability model, the namespace, its peers (real workloads) and its
/// NetworkPolicies (indexes into `r.policies.netpols`).
pub(crate) fn for_each_namespace(
    cx: &Context<'_>,
    out: &mut Vec<Finding>,
    mut f: impl FnMut(&Reachability, &str, &[usize], &[usize]) -> Option<Finding>,
) {
    let r = reach(cx);
    let netpols = netpols_by_namespace(&r);
    for (ns, peers) in peers_by_namespace(&r) {
        let policies = netpols.get(ns).map_or(&[][..], Vec::as_slice);
        out.extend(f(&r, ns, &peers, policies));
    }
}

/// NetworkPolicies (indexes into `r.policies.netpols`) by namespace.
pub(crate) fn netpols_by_namespace(r: &Reachability) -> BTreeMap<&str, Vec<usize>> {
    let mut m: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, np) in r.policies.netpols.iter().enumerate() {
        m.entry(np.namespace.as_str()).or_default().push(i);
    }
    m
}

/// Peers by namespace (real workloads only).
pub(crate) fn peers_by_namespace(r: &Reachability) -> BTreeMap<&str, Vec<usize>> {
    let mut m: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in r.peers.iter().enumerate() {
        if !p.synthetic {
            m.entry(p.namespace.as_str()).or_default().push(i);
        }
    }
    m
}
