//! Network reachability: which workloads can reach which, on which ports,
//! and what is exposed outside the cluster.
//!
//! The analysis follows the networking.k8s.io/v1 NetworkPolicy semantics and
//! the AdminNetworkPolicy / BaselineAdminNetworkPolicy tiers
//! (policy.networking.k8s.io/v1alpha1): admin policies by priority (Allow,
//! Deny, Pass), then NetworkPolicies (a pod is isolated in a direction when a
//! policy selecting it has that policy type; allowed is the union of their
//! rules), then the baseline policy, then allow. Traffic between two pods
//! needs the source's egress and the destination's ingress.
//!
//! Peers are the workloads of the inventory (each pod template, ML CRD pods
//! included; bare Pods are grouped by their owner) and external address
//! ranges. Peers are grouped into classes (same namespace, same answers to
//! every pod selector, same named ports), the tiers are evaluated once per
//! pair of classes, and results are expanded only for output: the cost grows
//! with distinct label sets, not with pods squared.
//!
//! Choices the API leaves open, with their defaults ([`Options`]):
//! - `ipBlock` peers match external addresses only, never pod addresses
//!   (pod IPs are not in manifests).
//! - Host-network pods are treated as ordinary pods (most CNIs do not apply
//!   policies to them; the analysis cannot know).
//! - A namespace without a Namespace object has only its automatic
//!   `kubernetes.io/metadata.name` label for certain; a selector that depends
//!   on other labels gives an **unknown** verdict with the reason, never a
//!   silent allow or deny ([`MissingNamespaces::Unknown`]). With
//!   [`MissingNamespaces::NameLabelOnly`] such namespaces are taken to have
//!   only that label (what np-guard's netpol-analyzer assumes).
//!
//! ```
//! use ml_audit::Inventory;
//! use ml_audit::netpol::{Reachability, Options};
//! let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: x}\nspec:\n  template:\n    metadata: {labels: {app: a}}\n    spec: {containers: [{name: c, image: i}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec: {podSelector: {}}\n";
//! let inv = Inventory::from_text("a.yaml", yaml);
//! let r = Reachability::build(&inv, &Options::default());
//! assert_eq!(r.connlist(), vec!["x/a[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections"]);
//! ```

pub(crate) mod conn;
pub(crate) mod eval;
pub(crate) mod exposure;
pub(crate) mod ip;
pub(crate) mod policy;
mod query;
mod rows;
pub(crate) mod selector;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use crate::inventory::Inventory;
use crate::object::ObjectId;
use eval::{Eval, Oracle, Step};
use selector::{Labels, Tri, NAME_LABEL};

pub use conn::{ConnSet, Protocol};
pub use eval::Verdict;
#[doc(hidden)]
pub use eval::{verdict, Ep};
pub use exposure::{Exposure, ExposureVia};
pub use ip::IpRange;
pub use policy::Policies;
pub use query::{parse_port, Connection, Query, Selector};

/// How namespaces without a Namespace object are treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingNamespaces {
    /// Only the name label is known: verdicts depending on others are unknown.
    #[default]
    Unknown,
    /// Assume the name label is their only label (netpol-analyzer's view).
    NameLabelOnly,
}

/// Options of the analysis.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Namespaces without a Namespace object.
    pub missing_namespaces: MissingNamespaces,
}

/// Kinds whose pod templates never run by themselves.
const TEMPLATE_KINDS: &[&str] = &[
    "PodTemplate",
    "ServingRuntime",
    "ClusterServingRuntime",
    "WorkflowTemplate",
    "ClusterWorkflowTemplate",
    "TrainingRuntime",
    "ClusterTrainingRuntime",
];

/// The namespace of the pseudo-peer standing for ingress controllers.
pub const INGRESS_CONTROLLER_NS: &str = "ingress-controller-ns";
/// The name of the pseudo-peer standing for ingress controllers.
pub const INGRESS_CONTROLLER: &str = "{ingress-controller}";

/// A namespace as the analysis sees it.
#[derive(Clone, Debug)]
pub struct Namespace {
    /// Name.
    pub name: String,
    /// Labels (the name label included).
    pub labels: Labels,
    /// True when a Namespace object declares the labels.
    pub known: bool,
}

/// A peer: one workload (pod template), or pods grouped by owner.
#[derive(Clone, Debug)]
pub struct Peer {
    /// Namespace index.
    pub ns: usize,
    /// Namespace name.
    pub namespace: String,
    /// Name (`object` or `object(role)`).
    pub name: String,
    /// Kind (the owner's kind for owned Pods).
    pub kind: String,
    /// The object it comes from.
    pub object: Option<ObjectId>,
    /// Inventory workloads it stands for.
    pub workloads: Vec<usize>,
    /// Pod labels.
    pub labels: Labels,
    /// Named container ports: (name, protocol, port).
    pub ports: Vec<(String, Protocol, u16)>,
    /// Every container port: (protocol, port).
    pub container_ports: Vec<(Protocol, u16)>,
    /// The ingress-controller pseudo-peer.
    pub synthetic: bool,
}

impl Peer {
    /// `ns/name[Kind]` (netpol-analyzer's naming), or `{ingress-controller}`.
    pub fn display(&self) -> String {
        if self.synthetic {
            INGRESS_CONTROLLER.to_string()
        } else {
            format!("{}/{}[{}]", self.namespace, self.name, self.kind)
        }
    }
}

/// A class of peers: same namespace, same selector answers, same named ports.
#[derive(Clone, Debug)]
pub struct Class {
    /// Namespace index.
    pub ns: usize,
    /// A peer of the class (its labels and ports stand for all).
    pub rep: usize,
    /// The peers.
    pub peers: Vec<usize>,
    pod_bits: Vec<u64>,
    netpols: Vec<usize>,
}

/// One verdict id per destination class, into the row's own table.
struct DenseRow {
    ids: RowIds,
    table: Vec<Verdict>,
}

impl DenseRow {
    fn get(&self, d: usize) -> &Verdict {
        &self.table[self.ids.get(d)]
    }
}

/// The verdicts of one source class towards every destination class.
///
/// Most cells of a row are "stranger" cells: no egress rule of the source
/// names the destination and no ingress rule of the destination names the
/// source. Such a cell depends on the source only through what its egress
/// allows to strangers, which few distinct values cover (everything, or
/// nothing, for most sources). So a row is stored as a shared default row
/// plus the cells that differ from it, and the cost grows with the rules'
/// reach, not with classes x classes; a row with many exceptions is stored
/// whole.
enum Row {
    Dense(DenseRow),
    Sparse {
        /// Index into [`Reachability::defaults`].
        default: usize,
        /// The destination classes whose cell is computed here, sorted.
        dests: Vec<u32>,
        /// Their verdicts, one per entry of `dests`.
        cells: DenseRow,
    },
}

/// The verdict ids of one row, one per destination class, stored as narrowly
/// as the row's table allows: most rows have a handful of distinct verdicts.
enum RowIds {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl RowIds {
    fn pack(ids: Vec<u32>, distinct: usize) -> RowIds {
        if distinct <= 1 << 8 {
            RowIds::U8(ids.into_iter().map(|i| i as u8).collect())
        } else if distinct <= 1 << 16 {
            RowIds::U16(ids.into_iter().map(|i| i as u16).collect())
        } else {
            RowIds::U32(ids)
        }
    }

    fn get(&self, i: usize) -> usize {
        match self {
            RowIds::U8(v) => v[i] as usize,
            RowIds::U16(v) => v[i] as usize,
            RowIds::U32(v) => v[i] as usize,
        }
    }
}

/// The reachability model of an inventory.
pub struct Reachability {
    /// Options it was built with.
    pub options: Options,
    /// The policies.
    pub policies: Policies,
    /// Namespaces.
    pub namespaces: Vec<Namespace>,
    ns_index: HashMap<String, usize>,
    /// Peers, sorted by display name.
    pub peers: Vec<Peer>,
    /// Class of each peer.
    pub class_of: Vec<usize>,
    /// Classes.
    pub classes: Vec<Class>,
    ns_table: Vec<Vec<Tri>>,
    np_ns: Vec<Option<usize>>,
    rows: Vec<Row>,
    defaults: Vec<DenseRow>,
    /// External ranges seen as sources (from ingress rules).
    pub in_blocks: Vec<IpRange>,
    /// External ranges seen as destinations (from egress rules).
    pub out_blocks: Vec<IpRange>,
    ext_in: Vec<Vec<Verdict>>,
    ext_out: Vec<Vec<Verdict>>,
    /// What Services, Ingresses and HTTPRoutes expose.
    pub exposures: Vec<Exposure>,
}

/// One end of a connection, for queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A peer (index into [`Reachability::peers`]).
    Peer(usize),
    /// An external range.
    Ip(IpRange),
}

/// An explained verdict.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Explanation {
    /// Allowed connections.
    pub allowed: String,
    /// Connections whose fate depends on undeclared namespace labels.
    pub unknown: String,
    /// The steps: which policy allowed, denied or passed what.
    pub steps: Vec<Step>,
    /// Why the unknown part is unknown.
    pub reasons: Vec<String>,
}

fn bits_get(bits: &[u64], i: usize) -> bool {
    bits[i / 64] >> (i % 64) & 1 == 1
}

/// The oracle over classes (precomputed tables).
struct ClassOracle<'a> {
    r: &'a Reachability,
}

impl Oracle for ClassOracle<'_> {
    fn ns(&self, pod: usize) -> usize {
        self.r.classes[pod].ns
    }
    fn pod_sel(&self, pod: usize, sel: usize) -> bool {
        bits_get(&self.r.classes[pod].pod_bits, sel)
    }
    fn ns_sel(&self, ns: usize, sel: usize) -> Tri {
        self.r.ns_table[ns][sel]
    }
    fn np_ns(&self, np: usize) -> Option<usize> {
        self.r.np_ns[np]
    }
    fn named_port(&self, pod: usize, name: &str) -> Vec<(Protocol, u16)> {
        let p = &self.r.peers[self.r.classes[pod].rep];
        p.ports
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|&(_, pr, po)| (pr, po))
            .collect()
    }
    fn netpols_of(&self, pod: usize) -> Cow<'_, [usize]> {
        Cow::Borrowed(&self.r.classes[pod].netpols)
    }
}

/// The naive oracle: every question answered from a peer's own labels, no
/// precomputation. The reference the class-based analysis is tested against.
#[doc(hidden)]
pub struct NaiveOracle<'a> {
    /// The model (peers, namespaces, policies).
    pub r: &'a Reachability,
}

impl Oracle for NaiveOracle<'_> {
    fn ns(&self, pod: usize) -> usize {
        self.r.peers[pod].ns
    }
    fn pod_sel(&self, pod: usize, sel: usize) -> bool {
        self.r.policies.pod_sels.list[sel].matches(&self.r.peers[pod].labels)
    }
    fn ns_sel(&self, ns: usize, sel: usize) -> Tri {
        let n = &self.r.namespaces[ns];
        self.r.policies.ns_sels.list[sel].matches_ns(&n.labels, n.known)
    }
    fn np_ns(&self, np: usize) -> Option<usize> {
        self.r
            .ns_index
            .get(&self.r.policies.netpols[np].namespace)
            .copied()
    }
    fn named_port(&self, pod: usize, name: &str) -> Vec<(Protocol, u16)> {
        self.r.peers[pod]
            .ports
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|&(_, pr, po)| (pr, po))
            .collect()
    }
    fn netpols_of(&self, pod: usize) -> Cow<'_, [usize]> {
        let p = &self.r.peers[pod];
        Cow::Owned(
            self.r
                .policies
                .netpols
                .iter()
                .enumerate()
                .filter(|(_, np)| {
                    np.namespace == p.namespace
                        && self.r.policies.pod_sels.list[np.pod].matches(&p.labels)
                })
                .map(|(i, _)| i)
                .collect(),
        )
    }
}

/// The owner a bare Pod is grouped under: its controller (the reference
/// marked `controller: true`, else the first). A Pod owned by a `Node` is a
/// mirror pod of a static manifest: each is a workload of its own, named
/// after the pod (as netpol-analyzer and the cluster see it), not grouped
/// with every other static pod of that node.
fn owner_of(obj: &crate::object::Object) -> Option<(String, String)> {
    let refs = obj.root.pointer("/metadata/ownerReferences")?.items();
    let o = refs
        .iter()
        .find(|r| r.field("controller").as_bool() == Some(true))
        .or(refs.first())?;
    let kind = o.field("kind").as_str().unwrap_or("Pod");
    if kind == "Node" {
        return None;
    }
    Some((kind.to_string(), o.field("name").as_str()?.to_string()))
}

impl Reachability {
    /// Builds the model and computes every verdict.
    pub fn build(inv: &Inventory, options: &Options) -> Reachability {
        let policies = Policies::read(&inv.objects);
        let mut r = Reachability {
            options: options.clone(),
            policies,
            namespaces: Vec::new(),
            ns_index: HashMap::new(),
            peers: Vec::new(),
            class_of: Vec::new(),
            classes: Vec::new(),
            ns_table: Vec::new(),
            np_ns: Vec::new(),
            rows: Vec::new(),
            defaults: Vec::new(),
            in_blocks: Vec::new(),
            out_blocks: Vec::new(),
            ext_in: Vec::new(),
            ext_out: Vec::new(),
            exposures: Vec::new(),
        };
        r.read_namespaces(inv);
        r.read_peers(inv);
        if exposure::has_ingress_objects(inv) {
            let ns = r.ns_id(INGRESS_CONTROLLER_NS, true);
            r.peers.push(Peer {
                ns,
                namespace: INGRESS_CONTROLLER_NS.into(),
                name: INGRESS_CONTROLLER.into(),
                kind: String::new(),
                object: None,
                workloads: Vec::new(),
                labels: Labels::new(),
                ports: Vec::new(),
                container_ports: Vec::new(),
                synthetic: true,
            });
        }
        r.np_ns = (0..r.policies.netpols.len())
            .map(|i| r.ns_index.get(&r.policies.netpols[i].namespace).copied())
            .collect();
        r.build_tables();
        r.compute();
        r.exposures = exposure::compute(inv, &r);
        r
    }

    fn ns_id(&mut self, name: &str, known_default: bool) -> usize {
        if let Some(&i) = self.ns_index.get(name) {
            return i;
        }
        let mut labels = Labels::new();
        labels.insert(NAME_LABEL.into(), name.into());
        self.namespaces.push(Namespace {
            name: name.into(),
            labels,
            known: known_default,
        });
        self.ns_index.insert(name.into(), self.namespaces.len() - 1);
        self.namespaces.len() - 1
    }

    fn read_namespaces(&mut self, inv: &Inventory) {
        let assume = self.options.missing_namespaces == MissingNamespaces::NameLabelOnly;
        for (name, info) in &inv.namespaces {
            let i = self.ns_id(name, assume);
            if info.object.is_some() {
                self.namespaces[i].labels = info.labels.clone();
                self.namespaces[i].known = true;
            }
        }
    }

    fn read_peers(&mut self, inv: &Inventory) {
        let assume = self.options.missing_namespaces == MissingNamespaces::NameLabelOnly;
        let mut by_key: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        let mut peers: Vec<Peer> = Vec::new();
        for (wi, w) in inv.workloads.iter().enumerate() {
            let Some(ns) = &w.namespace else { continue };
            let obj = inv.object(w.object);
            if TEMPLATE_KINDS.contains(&obj.kind.as_str()) {
                continue;
            }
            let (kind, name) = match (obj.kind.as_str(), owner_of(obj)) {
                ("Pod", Some((k, n))) => (k, n),
                _ if w.role.is_empty() => (obj.kind.clone(), obj.name.clone()),
                _ => (obj.kind.clone(), format!("{}({})", obj.name, w.role)),
            };
            let key = (ns.clone(), name.clone(), kind.clone());
            if let Some(&p) = by_key.get(&key) {
                peers[p].workloads.push(wi);
                continue;
            }
            let mut ports = Vec::new();
            let mut container_ports = Vec::new();
            for c in &w.containers {
                for p in c.spec.ports.iter().flatten() {
                    let proto = p
                        .protocol
                        .as_deref()
                        .and_then(Protocol::parse)
                        .unwrap_or(Protocol::Tcp);
                    let Ok(port) = u16::try_from(p.container_port) else {
                        continue;
                    };
                    container_ports.push((proto, port));
                    if let Some(n) = &p.name {
                        ports.push((n.clone(), proto, port));
                    }
                }
            }
            ports.sort();
            container_ports.sort();
            container_ports.dedup();
            by_key.insert(key, peers.len());
            peers.push(Peer {
                ns: 0,
                namespace: ns.clone(),
                name,
                kind,
                object: Some(w.object),
                workloads: vec![wi],
                labels: w.labels.clone(),
                ports,
                container_ports,
                synthetic: false,
            });
        }
        peers.sort_by_cached_key(|p| p.display());
        for mut p in peers {
            p.ns = self.ns_id(&p.namespace.clone(), assume);
            self.peers.push(p);
        }
    }

    fn build_tables(&mut self) {
        let pol = &self.policies;
        let nsel = pol.ns_sels.list.len();
        self.ns_table = self
            .namespaces
            .iter()
            .map(|n| {
                (0..nsel)
                    .map(|s| pol.ns_sels.list[s].matches_ns(&n.labels, n.known))
                    .collect()
            })
            .collect();
        let npsel = pol.pod_sels.list.len();
        let words = npsel.div_ceil(64).max(1);
        // selector answers per distinct label set
        let mut by_labels: HashMap<&Labels, Vec<u64>> = HashMap::new();
        for p in &self.peers {
            by_labels.entry(&p.labels).or_insert_with(|| {
                let mut bits = vec![0u64; words];
                for (s, sel) in pol.pod_sels.list.iter().enumerate() {
                    if sel.matches(&p.labels) {
                        bits[s / 64] |= 1 << (s % 64);
                    }
                }
                bits
            });
        }
        let mut np_by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, np) in pol.netpols.iter().enumerate() {
            np_by_ns.entry(&np.namespace).or_default().push(i);
        }
        type Key<'k> = (usize, Vec<u64>, &'k [(String, Protocol, u16)]);
        let mut index: HashMap<Key<'_>, usize> = HashMap::new();
        let mut classes: Vec<Class> = Vec::new();
        let mut class_of = Vec::with_capacity(self.peers.len());
        for (pi, p) in self.peers.iter().enumerate() {
            let bits = by_labels[&p.labels].clone();
            let key = (p.ns, bits, p.ports.as_slice());
            let c = *index.entry(key.clone()).or_insert_with(|| {
                let netpols = np_by_ns
                    .get(p.namespace.as_str())
                    .map(|v| {
                        v.iter()
                            .copied()
                            .filter(|&n| bits_get(&key.1, pol.netpols[n].pod))
                            .collect()
                    })
                    .unwrap_or_default();
                classes.push(Class {
                    ns: p.ns,
                    rep: pi,
                    peers: Vec::new(),
                    pod_bits: key.1.clone(),
                    netpols,
                });
                classes.len() - 1
            });
            classes[c].peers.push(pi);
            class_of.push(c);
        }
        self.classes = classes;
        self.class_of = class_of;
    }

    fn compute(&mut self) {
        let o = ClassOracle { r: self };
        let pol = &self.policies;
        let n = self.classes.len();
        let (rows, defaults) = rows::compute_rows(self);
        let in_blocks = ip::partition(pol.ip_sets(true).into_iter());
        let out_blocks = ip::partition(pol.ip_sets(false).into_iter());
        let ext_in: Vec<Vec<Verdict>> = (0..n)
            .into_par_iter()
            .map(|c| {
                in_blocks
                    .iter()
                    .map(|b| verdict(pol, &o, Ep::Ip(*b), Ep::Pod(c)))
                    .collect()
            })
            .collect();
        let ext_out: Vec<Vec<Verdict>> = (0..n)
            .into_par_iter()
            .map(|c| {
                out_blocks
                    .iter()
                    .map(|b| verdict(pol, &o, Ep::Pod(c), Ep::Ip(*b)))
                    .collect()
            })
            .collect();
        self.rows = rows;
        self.defaults = defaults;
        self.in_blocks = in_blocks;
        self.out_blocks = out_blocks;
        self.ext_in = ext_in;
        self.ext_out = ext_out;
    }

    /// The verdict for a pair of peers.
    pub fn between(&self, src: usize, dst: usize) -> &Verdict {
        self.class_verdict(self.class_of[src], self.class_of[dst])
    }

    /// The verdict for a pair of classes.
    pub(crate) fn class_verdict(&self, src: usize, dst: usize) -> &Verdict {
        match &self.rows[src] {
            Row::Dense(row) => row.get(dst),
            Row::Sparse {
                default,
                dests,
                cells,
            } => match dests.binary_search(&(dst as u32)) {
                Ok(i) => cells.get(i),
                Err(_) => self.defaults[*default].get(dst),
            },
        }
    }

    /// How a source class's row is stored: `None` when whole, else its
    /// default row (see [`Self::default_verdict`]) and the destination
    /// classes where it differs from it (sorted).
    pub(crate) fn row_shape(&self, src: usize) -> Option<(usize, &[u32])> {
        match &self.rows[src] {
            Row::Dense(_) => None,
            Row::Sparse { default, dests, .. } => Some((*default, dests)),
        }
    }

    /// Number of default rows.
    pub(crate) fn default_rows(&self) -> usize {
        self.defaults.len()
    }

    /// The verdict of default row `default` towards destination class `dst`.
    pub(crate) fn default_verdict(&self, default: usize, dst: usize) -> &Verdict {
        self.defaults[default].get(dst)
    }

    /// The verdict from an external range (of [`Self::in_blocks`]) to a peer.
    pub fn from_external(&self, block: usize, dst: usize) -> &Verdict {
        &self.ext_in[self.class_of[dst]][block]
    }

    /// The verdict from a peer to an external range (of [`Self::out_blocks`]).
    pub fn to_external(&self, src: usize, block: usize) -> &Verdict {
        &self.ext_out[self.class_of[src]][block]
    }

    /// A peer by namespace and name (`name` or `name(role)`).
    pub fn peer(&self, namespace: &str, name: &str) -> Option<usize> {
        self.peers
            .iter()
            .position(|p| p.namespace == namespace && p.name == name)
    }

    /// The namespace index of a name.
    pub fn namespace(&self, name: &str) -> Option<usize> {
        self.ns_index.get(name).copied()
    }

    /// Evaluates a pair again, collecting which policies decided what.
    pub fn explain(&self, src: Endpoint, dst: Endpoint) -> Explanation {
        let o = ClassOracle { r: self };
        let ep = |e: Endpoint| match e {
            Endpoint::Peer(p) => Ep::Pod(self.class_of[p]),
            Endpoint::Ip(r) => Ep::Ip(r),
        };
        let v = verdict(&self.policies, &o, ep(src), ep(dst));
        let e = Eval::new(&self.policies, &o, false, true);
        e.pair(ep(src), ep(dst));
        let mut reasons: Vec<String> = e
            .unknowns
            .borrow()
            .iter()
            .map(|&(ns, sel)| {
                format!(
                    "namespace `{}` has no Namespace object, so whether it matches namespaceSelector `{}` is unknown",
                    self.namespaces[ns].name, self.policies.ns_sels.list[sel]
                )
            })
            .collect();
        reasons.sort();
        reasons.dedup();
        Explanation {
            allowed: v.allowed.to_string(),
            unknown: v.unknown.to_string(),
            steps: e.trace.map(|t| t.into_inner()).unwrap_or_default(),
            reasons,
        }
    }

    /// Every allowed connection in netpol-analyzer's `connlist` line format
    /// (`src => dst : conns`), sorted; unknown verdicts are left out (see
    /// [`Self::unknown_list`]).
    pub fn connlist(&self) -> Vec<String> {
        self.lines(|v| &v.allowed)
    }

    /// The connections whose verdict is unknown, in the same line format.
    pub fn unknown_list(&self) -> Vec<String> {
        self.lines(|v| &v.unknown)
    }

    fn lines(&self, pick: impl Fn(&Verdict) -> &ConnSet) -> Vec<String> {
        let mut out = Vec::new();
        let ext = |r: &IpRange| format!("{r}[External]");
        for (si, s) in self.peers.iter().enumerate() {
            if s.synthetic {
                continue;
            }
            for (di, d) in self.peers.iter().enumerate() {
                if si == di || d.synthetic {
                    continue;
                }
                let c = pick(self.between(si, di));
                if !c.is_empty() {
                    out.push(format!("{} => {} : {c}", s.display(), d.display()));
                }
            }
            for (b, r) in self.out_blocks.iter().enumerate() {
                let c = pick(self.to_external(si, b));
                if !c.is_empty() {
                    out.push(format!("{} => {} : {c}", s.display(), ext(r)));
                }
            }
            for (b, r) in self.in_blocks.iter().enumerate() {
                let c = pick(self.from_external(b, si));
                if !c.is_empty() {
                    out.push(format!("{} => {} : {c}", ext(r), s.display()));
                }
            }
        }
        if let Some(ic) = self.peers.iter().position(|p| p.synthetic) {
            let mut per_peer: BTreeMap<usize, ConnSet> = BTreeMap::new();
            for x in self
                .exposures
                .iter()
                .filter(|x| x.via.through_ingress_controller())
            {
                per_peer.entry(x.peer).or_default().union_with(&x.ports);
            }
            for (p, ports) in per_peer {
                let c = pick(self.between(ic, p)).intersect(&ports);
                if !c.is_empty() {
                    out.push(format!(
                        "{INGRESS_CONTROLLER} => {} : {c}",
                        self.peers[p].display()
                    ));
                }
            }
        }
        out.sort();
        out
    }

    /// Number of class-pair cells computed and stored: whole rows, the
    /// cells where sparse rows differ from their default row, and the
    /// default rows (classes x classes before sparse rows).
    pub fn class_pairs(&self) -> usize {
        let n = self.classes.len();
        let rows: usize = self
            .rows
            .iter()
            .map(|r| match r {
                Row::Dense(_) => n,
                Row::Sparse { dests, .. } => dests.len(),
            })
            .sum();
        rows + self.defaults.len() * n
    }
}
