//! Kueue: ResourceFlavors, ClusterQueues with nominal quotas per flavor,
//! cohorts with borrowing and lending limits, LocalQueues, and the workloads
//! that name a queue with the `kueue.x-k8s.io/queue-name` label.
//!
//! Kueue admits a job at its declared replica counts (not an autoscaler's
//! upper bound), one flavor per resource and pod set, so the most a
//! ClusterQueue can ever grant of a resource is, per flavor, its nominal
//! quota plus what it may borrow from its cohort: the smaller of its
//! `borrowingLimit` and what the other members (and a Cohort object's own
//! quotas) lend, each member's `lendingLimit` or else its whole nominal quota.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{add_into, times, Amounts, Ledger, Quantity, QUEUE_LABEL};
use crate::inventory::Inventory;
use crate::node::{Node, Pointer};
use crate::object::{Object, ObjectId};

/// One `resources` entry of a ClusterQueue (or Cohort) flavor.
#[derive(Clone, Debug)]
pub struct FlavorQuota {
    /// The ResourceFlavor.
    pub flavor: String,
    /// The resource.
    pub resource: String,
    /// `nominalQuota`.
    pub nominal: Quantity,
    /// `borrowingLimit` (none = unlimited within the cohort).
    pub borrowing_limit: Option<Quantity>,
    /// `lendingLimit` (none = lends all of its nominal quota).
    pub lending_limit: Option<Quantity>,
    /// Where `nominalQuota` is written.
    pub pointer: Pointer,
}

/// A ClusterQueue (or a Cohort object) as declared.
#[derive(Clone, Debug)]
pub struct ClusterQueueInfo {
    /// The object.
    pub object: ObjectId,
    /// Its name.
    pub name: String,
    /// `spec.cohort` / `spec.cohortName` (for a Cohort: its parent).
    pub cohort: Option<String>,
    /// Every flavor quota.
    pub quotas: Vec<FlavorQuota>,
    /// `coveredResources` of every resource group.
    pub covered: BTreeSet<String>,
}

fn parse_queue(o: &Object) -> ClusterQueueInfo {
    let spec = o.root.field("spec");
    let cohort = ["cohort", "cohortName", "parent", "parentName"]
        .iter()
        .find_map(|k| spec.get(k).and_then(Node::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let mut quotas = Vec::new();
    let mut covered = BTreeSet::new();
    let base = Pointer::root().keys(&["spec", "resourceGroups"]);
    for (gi, g) in spec.field("resourceGroups").items().iter().enumerate() {
        for r in g.field("coveredResources").items() {
            if let Some(r) = r.as_str() {
                covered.insert(r.to_string());
            }
        }
        for (fi, f) in g.field("flavors").items().iter().enumerate() {
            let flavor = f.field("name").as_str().unwrap_or("").to_string();
            for (ri, r) in f.field("resources").items().iter().enumerate() {
                let q = |k: &str| {
                    r.get(k)
                        .and_then(Node::scalar_text)
                        .and_then(|t| Quantity::parse(&t))
                };
                let Some(resource) = r.field("name").as_str() else {
                    continue;
                };
                quotas.push(FlavorQuota {
                    flavor: flavor.clone(),
                    resource: resource.to_string(),
                    nominal: q("nominalQuota").unwrap_or_default(),
                    borrowing_limit: q("borrowingLimit"),
                    lending_limit: q("lendingLimit"),
                    pointer: base
                        .idx(gi)
                        .key("flavors")
                        .idx(fi)
                        .key("resources")
                        .idx(ri)
                        .key("nominalQuota"),
                });
            }
        }
    }
    ClusterQueueInfo {
        object: o.id,
        name: o.name.clone(),
        cohort,
        quotas,
        covered,
    }
}

/// A ClusterQueue and what the workloads routed to it ask for.
#[derive(Clone, Debug)]
pub struct QueueLedger {
    /// The ClusterQueue.
    pub info: ClusterQueueInfo,
    /// LocalQueues pointing to it.
    pub local_queues: Vec<ObjectId>,
    /// Indices into `KueueLedger::workloads`.
    pub workloads: Vec<usize>,
    /// Sum of what they ask for, at declared replicas.
    pub requested: Amounts,
    /// Nominal quota per resource, every flavor together.
    pub nominal: Amounts,
    /// The most it can grant per resource, borrowing included, every flavor together.
    pub max_grant: Amounts,
    /// The most one flavor can grant per resource, borrowing included
    /// (a pod set gets one flavor per resource).
    pub max_flavor: Amounts,
}

/// A job (object) that names a queue.
#[derive(Clone, Debug)]
pub struct QueuedWorkload {
    /// The object.
    pub object: ObjectId,
    /// Its namespace.
    pub namespace: String,
    /// The LocalQueue name.
    pub queue: String,
    /// Where the label is written.
    pub label_pointer: Pointer,
    /// The LocalQueue, when it exists.
    pub local_queue: Option<ObjectId>,
    /// The ClusterQueue the LocalQueue names.
    pub cluster_queue: Option<String>,
    /// Pod sets: (index into `Ledger::workloads`, requests at declared replicas).
    pub podsets: Vec<(usize, Amounts)>,
    /// Requests of every pod set together.
    pub requests: Amounts,
}

/// The Kueue part of the ledger.
#[derive(Clone, Debug, Default)]
pub struct KueueLedger {
    /// ClusterQueues by name.
    pub queues: BTreeMap<String, QueueLedger>,
    /// Jobs that name a queue.
    pub workloads: Vec<QueuedWorkload>,
    /// ResourceFlavor names.
    pub flavors: BTreeSet<String>,
}

/// Who lends how much of one (cohort, flavor, resource).
type Lenders<'a> = Vec<(&'a str, Quantity)>;

fn is_kueue(o: &Object) -> bool {
    o.group() == "kueue.x-k8s.io"
}

impl KueueLedger {
    pub(super) fn build(inv: &Inventory, ledger: &Ledger) -> KueueLedger {
        let mut k = KueueLedger {
            flavors: inv
                .of_kind("ResourceFlavor")
                .filter(|o| is_kueue(o))
                .map(|o| o.name.clone())
                .collect(),
            ..KueueLedger::default()
        };
        let cqs: Vec<ClusterQueueInfo> = inv
            .of_kind("ClusterQueue")
            .filter(|o| is_kueue(o))
            .map(parse_queue)
            .collect();
        let cohorts: HashMap<String, ClusterQueueInfo> = inv
            .of_kind("Cohort")
            .filter(|o| is_kueue(o))
            .map(|o| (o.name.clone(), parse_queue(o)))
            .collect();
        // What each cohort lends per (flavor, resource), member by member.
        let mut lent: HashMap<(&str, &str, &str), Lenders<'_>> = HashMap::new();
        for cq in &cqs {
            if let Some(c) = &cq.cohort {
                for q in &cq.quotas {
                    lent.entry((c.as_str(), q.flavor.as_str(), q.resource.as_str()))
                        .or_default()
                        .push((
                            cq.name.as_str(),
                            q.lending_limit.unwrap_or(q.nominal).min(q.nominal),
                        ));
                }
            }
        }
        for (name, c) in &cohorts {
            for q in &c.quotas {
                lent.entry((name.as_str(), q.flavor.as_str(), q.resource.as_str()))
                    .or_default()
                    .push(("", q.nominal));
            }
        }
        for cq in &cqs {
            let mut nominal = Amounts::new();
            let mut max_grant = Amounts::new();
            let mut max_flavor = Amounts::new();
            for q in &cq.quotas {
                let pool: Quantity = cq
                    .cohort
                    .as_deref()
                    .and_then(|c| lent.get(&(c, q.flavor.as_str(), q.resource.as_str())))
                    .map(|v| {
                        v.iter()
                            .filter(|(n, _)| *n != cq.name)
                            .map(|(_, x)| *x)
                            .sum()
                    })
                    .unwrap_or_default();
                let borrow = match q.borrowing_limit {
                    Some(b) => b.min(pool),
                    None => pool,
                };
                let cap = q.nominal + borrow;
                nominal.add(&q.resource, q.nominal);
                max_grant.add(&q.resource, cap);
                let m = max_flavor.entry_or(&q.resource, Quantity::ZERO);
                *m = (*m).max(cap);
            }
            k.queues.insert(
                cq.name.clone(),
                QueueLedger {
                    info: cq.clone(),
                    local_queues: Vec::new(),
                    workloads: Vec::new(),
                    requested: Amounts::new(),
                    nominal,
                    max_grant,
                    max_flavor,
                },
            );
        }
        for lq in inv.of_kind("LocalQueue").filter(|o| is_kueue(o)) {
            if let Some(cq) = lq.root.pointer("/spec/clusterQueue").and_then(Node::as_str) {
                if let Some(q) = k.queues.get_mut(cq) {
                    q.local_queues.push(lq.id);
                }
            }
        }
        // Group the ledger's workloads by object: Kueue admits a job whole.
        let mut by_object: BTreeMap<ObjectId, Vec<usize>> = BTreeMap::new();
        for (i, u) in ledger.workloads.iter().enumerate() {
            by_object.entry(u.object).or_default().push(i);
        }
        for (oid, ws) in by_object {
            let o = inv.object(oid);
            let label = match o.labels.get(QUEUE_LABEL) {
                Some(q) => Some((
                    q.clone(),
                    Pointer::root().keys(&["metadata", "labels", QUEUE_LABEL]),
                )),
                None => ws.iter().find_map(|&i| {
                    let w = &inv.workloads[ledger.workloads[i].workload];
                    let q = w.labels.get(QUEUE_LABEL)?;
                    let p = w.meta_pointer.as_ref()?.keys(&["labels", QUEUE_LABEL]);
                    Some((q.clone(), p))
                }),
            };
            let Some((queue, label_pointer)) = label else {
                continue;
            };
            let ns = ledger.workloads[ws[0]].namespace.clone();
            let local = inv.lookup("LocalQueue", &ns, &queue).find(|o| is_kueue(o));
            let cluster_queue = local.and_then(|l| {
                l.root
                    .pointer("/spec/clusterQueue")
                    .and_then(Node::as_str)
                    .map(str::to_string)
            });
            let mut requests = Amounts::new();
            let podsets: Vec<(usize, Amounts)> = ws
                .iter()
                .map(|&i| {
                    let u = &ledger.workloads[i];
                    let a = times(&u.pod_requests, u.declared_replicas);
                    add_into(&mut requests, &a);
                    (i, a)
                })
                .collect();
            let idx = k.workloads.len();
            if let Some(q) = cluster_queue.as_deref().and_then(|c| k.queues.get_mut(c)) {
                q.workloads.push(idx);
                add_into(&mut q.requested, &requests);
            }
            k.workloads.push(QueuedWorkload {
                object: oid,
                namespace: ns,
                queue,
                label_pointer,
                local_queue: local.map(|l| l.id),
                cluster_queue,
                podsets,
                requests,
            });
        }
        k
    }
}
