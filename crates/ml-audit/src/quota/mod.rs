//! The quota ledger: what the declared workloads ask for, per namespace and
//! per Kueue queue, against ResourceQuota, LimitRange and Kueue quotas.
//!
//! Computed once per audit (`cx.analysis::<Ledger>(Ledger::build)`) and
//! shared by the quota rules and `kubectl ml-audit quota`.
//!
//! How a pod is counted follows the scheduler and the quota evaluator:
//! - per container, requests default to limits (API defaulting), then every
//!   LimitRange of the namespace fills in `default` / `defaultRequest`;
//! - per pod, for each resource: the largest of the init containers (a
//!   restartable sidecar init container, `restartPolicy: Always`, keeps its
//!   request for the rest of the pod's life, KEP-753) against the sum of the
//!   app containers plus the sidecars, then `overhead` (the pod's own, or
//!   its RuntimeClass's); pod-level `resources` win where set;
//! - per workload, times its replicas at the upper bound: the kinds table's
//!   `maxReplicas` (RayCluster worker groups, elastic PyTorchJob, KServe) and
//!   any HorizontalPodAutoscaler whose `scaleTargetRef` names the object.
//!
//! Template holders (PodTemplate, Argo WorkflowTemplates, ServingRuntimes,
//! TrainingRuntimes, Kueue Workloads) are not counted: the objects that use
//! them are.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::Container;
use rayon::prelude::*;

use crate::inventory::Inventory;
use crate::node::{Node, Pointer};
use crate::object::{Object, ObjectId};
use crate::workload::{ContainerKind, Workload};

mod amounts;
mod kueue;
mod limits;
mod quantity;
mod resourcequota;

pub use amounts::Amounts;
pub use kueue::{ClusterQueueInfo, FlavorQuota, QueueLedger, QueuedWorkload};
pub use limits::{LimitRejection, LimitSide};
pub use quantity::Quantity;
pub use resourcequota::{HardUsage, MissingRequest, QuotaUsage, Scopes};

/// The label naming a workload's Kueue LocalQueue.
pub const QUEUE_LABEL: &str = "kueue.x-k8s.io/queue-name";

/// Requests and limits of one container after defaulting.
#[derive(Clone, Debug, Default)]
pub struct ContainerUsage {
    /// Index in `Workload::containers`.
    pub index: usize,
    /// Effective requests (declared, then limits, then LimitRange defaults).
    pub requests: Amounts,
    /// Effective limits (declared, then LimitRange defaults).
    pub limits: Amounts,
    /// Resources whose request came from a LimitRange: resource -> (LimitRange, pointer).
    pub defaulted: BTreeMap<String, (ObjectId, Pointer)>,
    /// Whether it is a restartable sidecar init container.
    pub sidecar: bool,
}

/// What one workload (pod template) asks for.
#[derive(Clone, Debug)]
pub struct WorkloadUsage {
    /// Index in `Inventory::workloads`.
    pub workload: usize,
    /// The object it belongs to.
    pub object: ObjectId,
    /// Its namespace.
    pub namespace: String,
    /// Per container (init and app; ephemeral containers are not counted).
    pub containers: Vec<ContainerUsage>,
    /// Requests of one pod.
    pub pod_requests: Amounts,
    /// Limits of one pod.
    pub pod_limits: Amounts,
    /// Pods counted: the upper bound of replicas.
    pub replicas: u32,
    /// Replicas as declared (what Kueue admits).
    pub declared_replicas: u32,
    /// The HorizontalPodAutoscaler that raised the bound, if any.
    pub hpa: Option<ObjectId>,
    /// No container requests or limits cpu or memory (QoS BestEffort).
    pub best_effort: bool,
    /// `activeDeadlineSeconds` is set (quota scope Terminating).
    pub terminating: bool,
    /// `priorityClassName`, when set.
    pub priority_class: Option<String>,
}

impl WorkloadUsage {
    /// Requests of every pod together (pod requests times replicas).
    pub fn total_requests(&self) -> Amounts {
        times(&self.pod_requests, self.replicas)
    }
    /// Limits of every pod together.
    pub fn total_limits(&self) -> Amounts {
        times(&self.pod_limits, self.replicas)
    }
}

/// Amounts times a count.
pub fn times(a: &Amounts, n: u32) -> Amounts {
    a.times(n)
}

/// Adds `b` into `a`.
pub fn add_into(a: &mut Amounts, b: &Amounts) {
    for (k, v) in b {
        a.add(k, *v);
    }
}

/// One namespace of the ledger.
#[derive(Clone, Debug, Default)]
pub struct NamespaceLedger {
    /// Indices into `Ledger::workloads`.
    pub workloads: Vec<usize>,
    /// Sum of requests over every counted pod.
    pub requests: Amounts,
    /// Sum of limits over every counted pod.
    pub limits: Amounts,
    /// Pods counted.
    pub pods: i128,
    /// ResourceQuotas of the namespace with their usage.
    pub quotas: Vec<QuotaUsage>,
    /// LimitRange objects of the namespace.
    pub limit_ranges: Vec<ObjectId>,
}

/// The quota ledger of an inventory.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// Every counted workload.
    pub workloads: Vec<WorkloadUsage>,
    /// Per namespace.
    pub namespaces: BTreeMap<String, NamespaceLedger>,
    /// Pods a LimitRange would reject.
    pub rejections: Vec<LimitRejection>,
    /// Containers that a ResourceQuota would reject for lack of a request or limit.
    pub missing: Vec<MissingRequest>,
    /// Kueue: queues, queued workloads.
    pub kueue: kueue::KueueLedger,
    by_workload: HashMap<usize, usize>,
}

/// Kinds whose pod templates are only templates for other objects.
fn template_holder(obj: &Object) -> bool {
    matches!(
        (obj.group(), obj.kind.as_str()),
        ("", "PodTemplate")
            | (
                "argoproj.io",
                "WorkflowTemplate" | "ClusterWorkflowTemplate"
            )
            | (
                "serving.kserve.io",
                "ServingRuntime" | "ClusterServingRuntime"
            )
            | (
                "trainer.kubeflow.org",
                "TrainingRuntime" | "ClusterTrainingRuntime"
            )
            | ("kueue.x-k8s.io", "Workload")
    )
}

/// Parses a `{resource: quantity}` map; unparsable values are skipped.
pub fn amounts(node: Option<&Node>) -> Amounts {
    let mut out = Amounts::new();
    for e in node.map(Node::entries).unwrap_or_default() {
        if let Some(q) = e.value.scalar_text().and_then(|t| Quantity::parse(&t)) {
            out.insert(&e.key, q);
        }
    }
    out
}

fn typed_amounts(
    m: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> Amounts {
    let mut out = Amounts::new();
    for (k, v) in m.into_iter().flatten() {
        if let Some(q) = Quantity::parse(&v.0) {
            out.insert(k, q);
        }
    }
    out
}

/// Declared requests and limits of a container (requests default to limits).
pub fn declared(c: &Container) -> (Amounts, Amounts) {
    let r = c.resources.as_ref();
    let mut requests = typed_amounts(r.and_then(|r| r.requests.as_ref()));
    let limits = typed_amounts(r.and_then(|r| r.limits.as_ref()));
    for (k, v) in &limits {
        requests.set_default(k, *v);
    }
    (requests, limits)
}

/// Pod requests (or limits) from its containers, the scheduler's way.
pub fn pod_amounts(
    containers: &[ContainerUsage],
    kinds: &[ContainerKind],
    limits: bool,
) -> Amounts {
    fn pick(c: &ContainerUsage, limits: bool) -> &Amounts {
        if limits {
            &c.limits
        } else {
            &c.requests
        }
    }
    let mut app = Amounts::new();
    for (c, k) in containers.iter().zip(kinds) {
        if *k == ContainerKind::App {
            add_into(&mut app, pick(c, limits));
        }
    }
    let mut sidecars = Amounts::new();
    let mut init_max = Amounts::new();
    for (c, k) in containers.iter().zip(kinds) {
        if *k != ContainerKind::Init {
            continue;
        }
        let own = pick(c, limits);
        if c.sidecar {
            add_into(&mut sidecars, own);
            for (r, v) in &sidecars {
                init_max.raise(r, *v);
            }
        } else {
            for (r, v) in own {
                init_max.raise(r, *v + sidecars.get(r).copied().unwrap_or_default());
            }
            for (r, v) in &sidecars {
                init_max.raise(r, *v + own.get(r).copied().unwrap_or_default());
            }
        }
    }
    let mut out = app;
    add_into(&mut out, &sidecars);
    for (r, v) in &init_max {
        out.raise(r, *v);
    }
    out
}

impl Ledger {
    /// The ledger's entry for a workload (index in `Inventory::workloads`),
    /// `None` when it is not counted (template holders, cluster-scoped).
    pub fn usage_of(&self, workload: usize) -> Option<&WorkloadUsage> {
        self.by_workload.get(&workload).map(|i| &self.workloads[*i])
    }

    /// Builds the ledger.
    pub fn build(inv: &Inventory) -> Ledger {
        let mut ledger = Ledger::default();
        let hpas = hpa_bounds(inv);
        let runtime_overhead: HashMap<&str, Amounts> = inv
            .of_kind("RuntimeClass")
            .map(|o| {
                (
                    o.name.as_str(),
                    amounts(o.root.pointer("/overhead/podFixed")),
                )
            })
            .collect();
        let mut limit_ranges: HashMap<String, Vec<limits::LimitRange>> = HashMap::new();
        for o in inv.of_kind("LimitRange") {
            if let Some(ns) = o.effective_namespace() {
                limit_ranges
                    .entry(ns.to_string())
                    .or_default()
                    .push(limits::LimitRange::parse(o));
            }
        }
        // Per workload in parallel; then added up in inventory order.
        let computed: Vec<Option<(WorkloadUsage, Vec<LimitRejection>)>> = inv
            .workloads
            .par_iter()
            .enumerate()
            .map(|(i, w)| {
                let obj = inv.object(w.object);
                let ns = w.namespace.as_deref()?;
                if template_holder(obj) {
                    return None;
                }
                let lrs = limit_ranges.get(ns).map(Vec::as_slice).unwrap_or_default();
                let (hpa, hpa_max) = match hpas.get(&w.object) {
                    Some((id, m)) => (Some(*id), *m),
                    None => (None, 0),
                };
                let mut rejections = Vec::new();
                let u = usage(i, w, lrs, &runtime_overhead, hpa, hpa_max, &mut rejections);
                Some((u, rejections))
            })
            .collect();
        // Sized once: grown by doubling, the vector was copied over and over.
        ledger
            .workloads
            .reserve_exact(computed.iter().filter(|c| c.is_some()).count());
        for (u, rejections) in computed.into_iter().flatten() {
            ledger.rejections.extend(rejections);
            ledger
                .by_workload
                .insert(u.workload, ledger.workloads.len());
            let nl = match ledger.namespaces.get_mut(&u.namespace) {
                Some(nl) => nl,
                None => ledger.namespaces.entry(u.namespace.clone()).or_default(),
            };
            nl.workloads.push(ledger.workloads.len());
            for (k, v) in &u.pod_requests {
                nl.requests.add(k, *v * u.replicas);
            }
            for (k, v) in &u.pod_limits {
                nl.limits.add(k, *v * u.replicas);
            }
            nl.pods += i128::from(u.replicas);
            ledger.workloads.push(u);
        }
        for (ns, lrs) in &limit_ranges {
            ledger
                .namespaces
                .entry(ns.clone())
                .or_default()
                .limit_ranges = lrs.iter().map(|l| l.object).collect();
        }
        resourcequota::account(inv, &mut ledger);
        ledger.kueue = kueue::KueueLedger::build(inv, &ledger);
        ledger
    }
}

/// HorizontalPodAutoscalers: target object -> (HPA, maxReplicas).
fn hpa_bounds(inv: &Inventory) -> HashMap<ObjectId, (ObjectId, u32)> {
    let mut out: HashMap<ObjectId, (ObjectId, u32)> = HashMap::new();
    for h in inv.of_kind("HorizontalPodAutoscaler") {
        let Some(ns) = h.effective_namespace() else {
            continue;
        };
        let target = h.root.field("spec").field("scaleTargetRef");
        let (Some(kind), Some(name)) = (
            target.get("kind").and_then(Node::as_str),
            target.get("name").and_then(Node::as_str),
        ) else {
            continue;
        };
        let group = target
            .get("apiVersion")
            .and_then(Node::as_str)
            .map(|av| av.rsplit_once('/').map_or("", |(g, _)| g));
        let Some(max) = h
            .root
            .pointer("/spec/maxReplicas")
            .and_then(|n| n.scalar_text())
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        for o in inv.lookup(kind, ns, name) {
            if group.is_none_or(|g| g == o.group()) {
                let e = out.entry(o.id).or_insert((h.id, max));
                if max > e.1 {
                    *e = (h.id, max);
                }
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn usage(
    index: usize,
    w: &Workload,
    lrs: &[limits::LimitRange],
    runtime_overhead: &HashMap<&str, Amounts>,
    hpa: Option<ObjectId>,
    hpa_max: u32,
    rejections: &mut Vec<LimitRejection>,
) -> WorkloadUsage {
    let mut containers = Vec::new();
    let mut kinds = Vec::new();
    for (ci, c) in w.containers.iter().enumerate() {
        if c.kind == ContainerKind::Ephemeral {
            continue;
        }
        let (requests, lims) = declared(&c.spec);
        let mut cu = ContainerUsage {
            index: ci,
            requests,
            limits: lims,
            defaulted: BTreeMap::new(),
            sidecar: c.kind == ContainerKind::Init
                && c.spec.restart_policy.as_deref() == Some("Always"),
        };
        for lr in lrs {
            lr.apply_defaults(&mut cu);
        }
        containers.push(cu);
        kinds.push(c.kind);
    }
    let mut pod_requests = pod_amounts(&containers, &kinds, false);
    let mut pod_limits = pod_amounts(&containers, &kinds, true);
    // Pod-level resources (PodLevelResources) win where set.
    if let Some(pr) = &w.spec.resources {
        let lim = typed_amounts(pr.limits.as_ref());
        let mut req = typed_amounts(pr.requests.as_ref());
        for (k, v) in &lim {
            req.set_default(k, *v);
        }
        pod_requests.extend_from(&req);
        pod_limits.extend_from(&lim);
    }
    let overhead = match &w.spec.overhead {
        Some(o) => typed_amounts(Some(o)),
        None => w
            .spec
            .runtime_class_name
            .as_deref()
            .and_then(|rc| runtime_overhead.get(rc))
            .cloned()
            .unwrap_or_default(),
    };
    for (k, v) in &overhead {
        pod_requests.add(k, *v);
        if let Some(l) = pod_limits.get_mut(k) {
            *l += *v;
        }
    }
    for lr in lrs {
        lr.validate(
            index,
            w,
            &containers,
            &pod_requests,
            &pod_limits,
            rejections,
        );
    }
    let compute = |c: &ContainerUsage| {
        ["cpu", "memory"]
            .iter()
            .any(|r| c.requests.contains_key(r) || c.limits.contains_key(r))
    };
    let best_effort = !containers.iter().any(compute);
    let replicas = w.max_replicas.max(w.replicas).max(hpa_max);
    WorkloadUsage {
        workload: index,
        object: w.object,
        namespace: w.namespace.clone().unwrap_or_default(),
        containers,
        pod_requests,
        pod_limits,
        replicas,
        declared_replicas: w.replicas,
        hpa: hpa.filter(|_| hpa_max > w.max_replicas.max(w.replicas)),
        best_effort,
        terminating: w.spec.active_deadline_seconds.is_some(),
        priority_class: w.spec.priority_class_name.clone(),
    }
}

/// Whether a resource name is a GPU (`nvidia.com/gpu`, `amd.com/gpu`,
/// `nvidia.com/mig-1g.5gb`, `gpu.intel.com/i915`, ...).
pub fn is_gpu(resource: &str) -> bool {
    let r = resource
        .trim_start_matches("requests.")
        .trim_start_matches("limits.");
    match r.split_once('/') {
        Some((domain, name)) => {
            name == "gpu" || name.starts_with("mig-") || domain.starts_with("gpu.")
        }
        None => false,
    }
}

/// Whether a resource name is an extended resource (domain-prefixed, outside
/// `kubernetes.io`), which quota only tracks with the `requests.` prefix.
pub fn is_extended(resource: &str) -> bool {
    match resource.split_once('/') {
        Some((domain, _)) => !(domain == "kubernetes.io" || domain.ends_with(".kubernetes.io")),
        None => false,
    }
}

/// The pointer of a container's request (or limit, where the request
/// defaults from it) of a resource; the container's pointer when it
/// declares neither.
pub fn request_pointer(w: &Workload, container: usize, resource: &str) -> Pointer {
    let c = &w.containers[container];
    let res = c.spec.resources.as_ref();
    for (field, m) in [
        ("requests", res.and_then(|r| r.requests.as_ref())),
        ("limits", res.and_then(|r| r.limits.as_ref())),
    ] {
        if m.is_some_and(|m| m.contains_key(resource)) {
            return c.pointer.keys(&["resources", field, resource]);
        }
    }
    if res.is_some() {
        return c.pointer.key("resources");
    }
    c.pointer.clone()
}

/// The pointer of a container's limit of a resource (see [`request_pointer`]).
pub fn limit_pointer(w: &Workload, container: usize, resource: &str) -> Pointer {
    let c = &w.containers[container];
    let res = c.spec.resources.as_ref();
    if res
        .and_then(|r| r.limits.as_ref())
        .is_some_and(|m| m.contains_key(resource))
    {
        return c.pointer.keys(&["resources", "limits", resource]);
    }
    request_pointer(w, container, resource)
}
