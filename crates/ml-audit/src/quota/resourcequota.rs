//! ResourceQuota: what each `spec.hard` entry would hold once every declared
//! pod runs, with quota scopes and `scopeSelector`, and the containers the
//! quota evaluator would refuse for lack of a request or limit.

use std::collections::{BTreeSet, HashMap};

use super::{amounts, Ledger, Quantity, WorkloadUsage};
use crate::inventory::Inventory;
use crate::kinds::KindTable;
use crate::node::{Node, Pointer};
use crate::object::{Object, ObjectId};

/// The scopes of a ResourceQuota (`spec.scopes` and `spec.scopeSelector`).
#[derive(Clone, Debug, Default)]
pub struct Scopes {
    /// `spec.scopes`.
    pub scopes: Vec<String>,
    /// `spec.scopeSelector.matchExpressions`: (scopeName, operator, values).
    pub expressions: Vec<(String, String, Vec<String>)>,
}

impl Scopes {
    fn parse(o: &Object) -> Scopes {
        let spec = o.root.field("spec");
        let scopes = spec
            .field("scopes")
            .items()
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect();
        let expressions = spec
            .field("scopeSelector")
            .field("matchExpressions")
            .items()
            .iter()
            .map(|e| {
                (
                    e.field("scopeName").as_str().unwrap_or("").to_string(),
                    e.field("operator").as_str().unwrap_or("").to_string(),
                    e.field("values")
                        .items()
                        .iter()
                        .filter_map(|v| v.scalar_text())
                        .collect(),
                )
            })
            .collect();
        Scopes {
            scopes,
            expressions,
        }
    }

    /// Whether the quota has no scope (it tracks every object).
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty() && self.expressions.is_empty()
    }

    fn scope_matches(scope: &str, u: &WorkloadUsage) -> bool {
        match scope {
            "BestEffort" => u.best_effort,
            "NotBestEffort" => !u.best_effort,
            "Terminating" => u.terminating,
            "NotTerminating" => !u.terminating,
            "PriorityClass" => u.priority_class.as_deref().is_some_and(|p| !p.is_empty()),
            // CrossNamespacePodAffinity, VolumeAttributesClass: not modelled.
            _ => false,
        }
    }

    /// Whether a workload's pods fall under these scopes.
    pub fn matches(&self, u: &WorkloadUsage) -> bool {
        self.scopes.iter().all(|s| Self::scope_matches(s, u))
            && self.expressions.iter().all(|(name, op, values)| {
                if name == "PriorityClass" {
                    let pc = u.priority_class.as_deref().unwrap_or("");
                    match op.as_str() {
                        "In" => values.iter().any(|v| v == pc),
                        "NotIn" => !values.iter().any(|v| v == pc),
                        "Exists" => !pc.is_empty(),
                        "DoesNotExist" => pc.is_empty(),
                        _ => false,
                    }
                } else {
                    let m = Self::scope_matches(name, u);
                    match op.as_str() {
                        "Exists" => m,
                        "DoesNotExist" => !m,
                        _ => false,
                    }
                }
            })
    }
}

/// One `spec.hard` entry and what it would hold.
#[derive(Clone, Debug)]
pub struct HardUsage {
    /// The key (`requests.cpu`, `count/pods`, ...).
    pub key: String,
    /// Where it is written (`/spec/hard/<key>`).
    pub pointer: Pointer,
    /// The allowed amount.
    pub allowed: Quantity,
    /// What the declared objects would use; `None` for keys not modelled.
    pub used: Option<Quantity>,
    /// Workloads (indices into `Ledger::workloads`) by what they add, largest first.
    pub contributors: Vec<(usize, Quantity)>,
}

impl HardUsage {
    /// Whether the declared objects need more than allowed.
    pub fn exceeded(&self) -> bool {
        self.used.is_some_and(|u| u > self.allowed)
    }
}

/// A ResourceQuota and its usage.
#[derive(Clone, Debug)]
pub struct QuotaUsage {
    /// The ResourceQuota.
    pub object: ObjectId,
    /// Its name.
    pub name: String,
    /// Its scopes.
    pub scopes: Scopes,
    /// Its `spec.hard` entries.
    pub hard: Vec<HardUsage>,
}

/// A container whose pod a ResourceQuota would refuse: the quota tracks a
/// compute resource and the container neither requests (nor limits) it.
#[derive(Clone, Debug)]
pub struct MissingRequest {
    /// Index in `Inventory::workloads`.
    pub workload: usize,
    /// Index in `Workload::containers`.
    pub container: usize,
    /// `requests.cpu`, `limits.memory`, ...
    pub key: String,
    /// The ResourceQuota.
    pub quota: ObjectId,
    /// Its `spec.hard` entry.
    pub hard_pointer: Pointer,
}

/// What a `spec.hard` key measures.
enum Measure {
    Requests(String),
    Limits(String),
    Pods,
    Storage(Option<String>),
    Claims(Option<String>),
    Objects(String),
    LoadBalancers,
    NodePorts,
    Unknown,
}

fn measure(key: &str) -> Measure {
    if let Some((sc, rest)) = key.split_once(".storageclass.storage.k8s.io/") {
        return match rest {
            "requests.storage" => Measure::Storage(Some(sc.to_string())),
            "persistentvolumeclaims" => Measure::Claims(Some(sc.to_string())),
            _ => Measure::Unknown,
        };
    }
    match key {
        "pods" | "count/pods" => Measure::Pods,
        "requests.storage" => Measure::Storage(None),
        "persistentvolumeclaims" | "count/persistentvolumeclaims" => Measure::Claims(None),
        "services.loadbalancers" => Measure::LoadBalancers,
        "services.nodeports" => Measure::NodePorts,
        "cpu" | "memory" | "ephemeral-storage" => Measure::Requests(key.to_string()),
        "services" | "secrets" | "configmaps" | "replicationcontrollers" | "resourcequotas" => {
            Measure::Objects(key.to_string())
        }
        _ => {
            if let Some(r) = key.strip_prefix("requests.") {
                Measure::Requests(r.to_string())
            } else if let Some(r) = key.strip_prefix("limits.") {
                Measure::Limits(r.to_string())
            } else if let Some(r) = key.strip_prefix("count/") {
                Measure::Objects(r.to_string())
            } else if key.starts_with("hugepages-") {
                Measure::Requests(key.to_string())
            } else {
                Measure::Unknown
            }
        }
    }
}

/// `resource` or `resource.group`, as `count/` names an object's kind.
fn count_name(kinds: &KindTable, o: &Object) -> String {
    let group = o.group();
    let plural = kinds
        .get(group, &o.kind)
        .and_then(|s| s.resource.clone())
        .unwrap_or_else(|| {
            let k = o.kind.to_ascii_lowercase();
            if k == "endpoints" {
                k
            } else if k.ends_with('y') && !k.ends_with("ay") && !k.ends_with("ey") {
                format!("{}ies", &k[..k.len() - 1])
            } else if k.ends_with('s') || k.ends_with('x') || k.ends_with("ch") || k.ends_with("sh")
            {
                format!("{k}es")
            } else {
                format!("{k}s")
            }
        });
    if group.is_empty() {
        plural
    } else {
        format!("{plural}.{group}")
    }
}

/// A claim: storage, storage class, and how many (StatefulSet replicas).
fn claims(
    inv: &Inventory,
    ledger: &Ledger,
    ns: &str,
) -> Vec<(usize, Option<String>, Quantity, u32)> {
    let mut out = Vec::new();
    for o in inv.in_namespace(ns) {
        if o.kind == "PersistentVolumeClaim" && o.group().is_empty() {
            out.push(claim(o.root.field("spec"), usize::MAX, 1));
        }
    }
    if let Some(nl) = ledger.namespaces.get(ns) {
        for &i in &nl.workloads {
            let u = &ledger.workloads[i];
            let o = inv.object(u.object);
            if o.kind == "StatefulSet" && o.group() == "apps" {
                for t in o.root.field("spec").field("volumeClaimTemplates").items() {
                    out.push(claim(t.field("spec"), i, u.replicas));
                }
            }
        }
    }
    out
}

fn claim(spec: &Node, who: usize, n: u32) -> (usize, Option<String>, Quantity, u32) {
    // A negative request is refused by the API server: it takes no storage,
    // and must not lower what the other claims use (found by the quota
    // fuzzer: `-1` in one template hid 5 bytes of another's 320Gi).
    let storage = amounts(spec.field("resources").get("requests"))
        .get("storage")
        .copied()
        .unwrap_or_default()
        .max(Quantity::ZERO);
    let sc = spec
        .get("storageClassName")
        .and_then(Node::as_str)
        .map(str::to_string);
    (who, sc, storage, n)
}

/// Fills `NamespaceLedger::quotas` and `Ledger::missing`.
pub(super) fn account(inv: &Inventory, ledger: &mut Ledger) {
    let mut missing_seen = BTreeSet::new();
    for o in inv.of_kind("ResourceQuota") {
        if !o.group().is_empty() {
            continue;
        }
        let Some(ns) = o.effective_namespace() else {
            continue;
        };
        let scopes = Scopes::parse(o);
        let members: Vec<usize> = ledger
            .namespaces
            .get(ns)
            .map(|nl| {
                nl.workloads
                    .iter()
                    .copied()
                    .filter(|&i| scopes.matches(&ledger.workloads[i]))
                    .collect()
            })
            .unwrap_or_default();
        let hard_ptr = Pointer::root().keys(&["spec", "hard"]);
        let mut hard = Vec::new();
        let mut counts: Option<HashMap<String, i64>> = None;
        for e in o.root.field("spec").field("hard").entries() {
            let Some(allowed) = e.value.scalar_text().and_then(|t| Quantity::parse(&t)) else {
                continue;
            };
            let pointer = hard_ptr.key(&e.key);
            let mut contributors: Vec<(usize, Quantity)> = Vec::new();
            let mut used = Some(Quantity::ZERO);
            match measure(&e.key) {
                Measure::Requests(_) | Measure::Limits(_)
                    if scopes.scopes.iter().any(|s| s == "BestEffort") =>
                {
                    used = None;
                }
                Measure::Requests(r) => {
                    for &i in &members {
                        let u = &ledger.workloads[i];
                        if let Some(q) = u.pod_requests.get(&r) {
                            contributors.push((i, *q * u.replicas));
                        }
                        track_missing(ledger, i, &r, false, o.id, &pointer, &mut missing_seen);
                    }
                }
                Measure::Limits(r) => {
                    for &i in &members {
                        let u = &ledger.workloads[i];
                        if let Some(q) = u.pod_limits.get(&r) {
                            contributors.push((i, *q * u.replicas));
                        }
                        track_missing(ledger, i, &r, true, o.id, &pointer, &mut missing_seen);
                    }
                }
                Measure::Pods => {
                    for &i in &members {
                        contributors
                            .push((i, Quantity::units(ledger.workloads[i].replicas.into())));
                    }
                }
                _ if !scopes.is_empty() => used = None,
                m @ (Measure::Storage(_) | Measure::Claims(_)) => {
                    let mut total = Quantity::ZERO;
                    for (who, csc, storage, n) in claims(inv, ledger, ns) {
                        let (want, amount) = match &m {
                            Measure::Storage(sc) => (sc, storage * n),
                            Measure::Claims(sc) => (sc, Quantity::units(n.into())),
                            _ => unreachable!(),
                        };
                        if want.is_some() && *want != csc {
                            continue;
                        }
                        total += amount;
                        if who != usize::MAX {
                            contributors.push((who, amount));
                        }
                    }
                    used = Some(total);
                }
                Measure::Objects(name) => {
                    let counts = counts.get_or_insert_with(|| {
                        let mut m: HashMap<String, i64> = HashMap::new();
                        for x in inv.in_namespace(ns) {
                            *m.entry(count_name(inv.kinds(), x)).or_default() += 1;
                        }
                        m
                    });
                    used = Some(Quantity::units(counts.get(&name).copied().unwrap_or(0)));
                }
                Measure::LoadBalancers | Measure::NodePorts => {
                    let lb = matches!(measure(&e.key), Measure::LoadBalancers);
                    let mut n = 0i64;
                    for s in inv
                        .in_namespace(ns)
                        .filter(|x| x.kind == "Service" && x.group().is_empty())
                    {
                        let ty = s
                            .root
                            .pointer("/spec/type")
                            .and_then(Node::as_str)
                            .unwrap_or("ClusterIP");
                        if lb && ty == "LoadBalancer" {
                            n += 1;
                        } else if !lb && (ty == "NodePort" || ty == "LoadBalancer") {
                            n += s
                                .root
                                .pointer("/spec/ports")
                                .map_or(0, |p| p.items().len() as i64);
                        }
                    }
                    used = Some(Quantity::units(n));
                }
                Measure::Unknown => used = None,
            }
            if !contributors.is_empty() {
                contributors.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                if used == Some(Quantity::ZERO) {
                    used = Some(contributors.iter().map(|c| c.1).sum());
                }
            }
            hard.push(HardUsage {
                key: e.key.to_string(),
                pointer,
                allowed,
                used,
                contributors,
            });
        }
        ledger
            .namespaces
            .entry(ns.to_string())
            .or_default()
            .quotas
            .push(QuotaUsage {
                object: o.id,
                name: o.name.clone(),
                scopes,
                hard,
            });
    }
}

#[allow(clippy::too_many_arguments)]
fn track_missing(
    ledger: &mut Ledger,
    i: usize,
    resource: &str,
    limits: bool,
    quota: ObjectId,
    pointer: &Pointer,
    seen: &mut BTreeSet<(usize, usize, String)>,
) {
    if resource != "cpu" && resource != "memory" {
        return;
    }
    let u = &ledger.workloads[i];
    let side = if limits { "limits" } else { "requests" };
    let mut found = Vec::new();
    for c in &u.containers {
        let m = if limits { &c.limits } else { &c.requests };
        if m.contains_key(resource) {
            continue;
        }
        let norm = format!("{side}.{resource}");
        if seen.insert((u.workload, c.index, norm.clone())) {
            found.push(MissingRequest {
                workload: u.workload,
                container: c.index,
                key: norm.clone(),
                quota,
                hard_pointer: pointer.clone(),
            });
        }
    }
    ledger.missing.extend(found);
}
