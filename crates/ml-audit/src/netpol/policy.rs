//! The policies as the analysis reads them: NetworkPolicy
//! (networking.k8s.io/v1), AdminNetworkPolicy and BaselineAdminNetworkPolicy
//! (policy.networking.k8s.io/v1alpha1). Read leniently from the source tree,
//! with the pointer of every part for findings.

use std::collections::HashMap;

use super::conn::Protocol;
use super::ip::{IpRange, IpSet};
use super::selector::Selector;
use crate::node::{Node, Pointer};
use crate::object::{Object, ObjectId};

/// Selectors, interned: policies refer to them by index so that matching is
/// computed once per distinct selector.
#[derive(Debug, Default)]
pub struct Selectors {
    /// Distinct selectors.
    pub list: Vec<Selector>,
    index: HashMap<Selector, usize>,
}

impl Selectors {
    /// The index of a selector, added when new.
    pub fn intern(&mut self, s: Selector) -> usize {
        if let Some(&i) = self.index.get(&s) {
            return i;
        }
        self.list.push(s.clone());
        self.index.insert(s, self.list.len() - 1);
        self.list.len() - 1
    }
}

/// A port as a rule names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PortSpec {
    /// Every port of a protocol.
    AllOf(Protocol),
    /// A range of one protocol.
    Range(Protocol, u16, u16),
    /// A named container port of the destination pod, with the protocol
    /// (`None`: the container port's own protocol, as in admin policies).
    Named(String, Option<Protocol>),
}

/// Who a rule talks to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PeerSpec {
    /// Pods: namespaces by selector (`None`: the policy's own namespace),
    /// pods by selector.
    Pods {
        /// Namespace selector index (None: the policy's namespace).
        ns: Option<usize>,
        /// Pod selector index.
        pod: usize,
    },
    /// Addresses.
    Ip(IpSet),
    /// Something the analysis does not model (`nodes`, IPv6 only); matches
    /// nothing.
    Unsupported(String),
}

/// One rule.
#[derive(Clone, Debug)]
pub struct RuleSpec {
    /// Peers (`None`: every peer, in-cluster and external).
    pub peers: Option<Vec<PeerSpec>>,
    /// Ports (`None`: every port).
    pub ports: Option<Vec<PortSpec>>,
    /// Where the rule is written.
    pub pointer: Pointer,
    /// Admin policies: the action; NetworkPolicy rules allow.
    pub action: Action,
    /// Admin policies: the rule's name.
    pub name: String,
}

/// What an admin policy rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Action {
    /// Allows, overriding lower tiers.
    Allow,
    /// Denies, overriding lower tiers.
    Deny,
    /// Hands the decision to NetworkPolicies (then the baseline).
    Pass,
}

/// A NetworkPolicy.
#[derive(Clone, Debug)]
pub struct NetPol {
    /// The object.
    pub object: ObjectId,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Pod selector index.
    pub pod: usize,
    /// Ingress rules when the policy isolates for ingress.
    pub ingress: Option<Vec<RuleSpec>>,
    /// Egress rules when the policy isolates for egress.
    pub egress: Option<Vec<RuleSpec>>,
}

/// An AdminNetworkPolicy or the BaselineAdminNetworkPolicy.
#[derive(Clone, Debug)]
pub struct AdminPol {
    /// The object.
    pub object: ObjectId,
    /// Name.
    pub name: String,
    /// Priority (0 is the highest; the baseline has none).
    pub priority: Option<i64>,
    /// Subject: namespace selector index.
    pub subject_ns: usize,
    /// Subject: pod selector index.
    pub subject_pod: usize,
    /// Ingress rules, in order.
    pub ingress: Vec<RuleSpec>,
    /// Egress rules, in order.
    pub egress: Vec<RuleSpec>,
}

/// Every policy of the inventory.
#[derive(Debug, Default)]
pub struct Policies {
    /// Pod selectors.
    pub pod_sels: Selectors,
    /// Namespace selectors.
    pub ns_sels: Selectors,
    /// NetworkPolicies.
    pub netpols: Vec<NetPol>,
    /// AdminNetworkPolicies, by priority.
    pub anps: Vec<AdminPol>,
    /// The BaselineAdminNetworkPolicy.
    pub banp: Option<AdminPol>,
    /// Problems reading the policies.
    pub notes: Vec<String>,
}

fn ip_set(node: &Node, cidr_key: &str) -> Option<IpSet> {
    let include = IpRange::parse_cidr(node.field(cidr_key).as_str()?)?;
    let except = node
        .field("except")
        .items()
        .iter()
        .filter_map(|e| e.as_str().and_then(IpRange::parse_cidr))
        .collect();
    Some(IpSet {
        include: vec![include],
        except,
    })
}

fn port_number(node: &Node) -> Option<u16> {
    node.as_i64()
        .or_else(|| node.as_str().and_then(|s| s.parse().ok()))
        .and_then(|n| u16::try_from(n).ok())
}

impl Policies {
    /// Reads every policy object of the inventory.
    pub fn read(objects: &[Object]) -> Policies {
        let mut p = Policies::default();
        for o in objects {
            match (o.group(), o.kind.as_str()) {
                ("networking.k8s.io", "NetworkPolicy") => p.read_netpol(o),
                ("policy.networking.k8s.io", "AdminNetworkPolicy") => {
                    if let Some(a) = p.read_admin(o, true) {
                        p.anps.push(a);
                    }
                }
                ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy") => {
                    if let Some(a) = p.read_admin(o, false) {
                        if p.banp.is_some() {
                            p.notes.push(format!(
                                "more than one BaselineAdminNetworkPolicy: `{}` ignored",
                                o.name
                            ));
                        } else {
                            p.banp = Some(a);
                        }
                    }
                }
                _ => {}
            }
        }
        p.anps
            .sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        p
    }

    fn np_ports(&mut self, rule: &Node) -> Option<Vec<PortSpec>> {
        let ports = rule.field("ports").items();
        if ports.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        for pn in ports {
            let proto = pn
                .field("protocol")
                .as_str()
                .map_or(Some(Protocol::Tcp), Protocol::parse);
            let Some(proto) = proto else {
                self.notes.push(format!(
                    "unknown protocol `{}`",
                    pn.field("protocol").as_str().unwrap_or("")
                ));
                continue;
            };
            let port = pn.field("port");
            if port.is_null() {
                out.push(PortSpec::AllOf(proto));
            } else if let Some(n) = port_number(port) {
                let end = port_number(pn.field("endPort")).unwrap_or(n);
                out.push(PortSpec::Range(proto, n, end.max(n)));
            } else if let Some(name) = port.as_str() {
                out.push(PortSpec::Named(name.to_string(), Some(proto)));
            }
        }
        Some(out)
    }

    fn np_peers(&mut self, rule: &Node, key: &str) -> Option<Vec<PeerSpec>> {
        let peers = rule.field(key).items();
        if peers.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        for pn in peers {
            let ip = pn.field("ipBlock");
            let nss = pn.get("namespaceSelector");
            let pods = pn.get("podSelector");
            if !ip.is_null() {
                match ip_set(ip, "cidr") {
                    Some(s) => out.push(PeerSpec::Ip(s)),
                    None => out.push(PeerSpec::Unsupported(format!(
                        "ipBlock `{}` (only IPv4 is modelled)",
                        ip.field("cidr").as_str().unwrap_or("")
                    ))),
                }
            } else if nss.is_some() || pods.is_some() {
                let ns = nss.map(|n| self.ns_sels.intern(Selector::parse(n)));
                let pod = self
                    .pod_sels
                    .intern(pods.map(Selector::parse).unwrap_or_default());
                out.push(PeerSpec::Pods { ns, pod });
            } else {
                out.push(PeerSpec::Unsupported("empty peer".into()));
            }
        }
        Some(out)
    }

    fn read_netpol(&mut self, o: &Object) {
        let spec = o.root.field("spec");
        let sp = Pointer::root().key("spec");
        let pod = self
            .pod_sels
            .intern(Selector::parse(spec.field("podSelector")));
        let types: Vec<&str> = spec
            .field("policyTypes")
            .items()
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        let (ing, egr) = if types.is_empty() {
            (true, !spec.field("egress").items().is_empty())
        } else {
            (types.contains(&"Ingress"), types.contains(&"Egress"))
        };
        let read_rules = |this: &mut Policies, dir: &str, peer_key: &str| {
            spec.field(dir)
                .items()
                .iter()
                .enumerate()
                .map(|(i, r)| RuleSpec {
                    peers: this.np_peers(r, peer_key),
                    ports: this.np_ports(r),
                    pointer: sp.key(dir).idx(i),
                    action: Action::Allow,
                    name: String::new(),
                })
                .collect::<Vec<_>>()
        };
        let ingress = ing.then(|| read_rules(self, "ingress", "from"));
        let egress = egr.then(|| read_rules(self, "egress", "to"));
        self.netpols.push(NetPol {
            object: o.id,
            namespace: o.effective_namespace().unwrap_or("default").to_string(),
            name: o.name.clone(),
            pod,
            ingress,
            egress,
        });
    }

    fn admin_subject(&mut self, n: &Node) -> (usize, usize) {
        if let Some(ns) = n.get("namespaces") {
            let ns = self.ns_sels.intern(Selector::parse(ns));
            (ns, self.pod_sels.intern(Selector::default()))
        } else if let Some(p) = n.get("pods") {
            (
                self.ns_sels
                    .intern(Selector::parse(p.field("namespaceSelector"))),
                self.pod_sels
                    .intern(Selector::parse(p.field("podSelector"))),
            )
        } else {
            let none = Selector {
                reqs: Vec::new(),
                invalid: true,
            };
            (
                self.ns_sels.intern(none.clone()),
                self.pod_sels.intern(none),
            )
        }
    }

    fn admin_ports(&mut self, rule: &Node) -> Option<Vec<PortSpec>> {
        let ports = rule.get("ports")?;
        let mut out = Vec::new();
        for pn in ports.items() {
            if let Some(n) = pn.get("portNumber") {
                let proto = Protocol::parse(n.field("protocol").as_str().unwrap_or("TCP"))
                    .unwrap_or(Protocol::Tcp);
                if let Some(p) = port_number(n.field("port")) {
                    out.push(PortSpec::Range(proto, p, p));
                }
            } else if let Some(name) = pn.field("namedPort").as_str() {
                out.push(PortSpec::Named(name.to_string(), None));
            } else if let Some(r) = pn.get("portRange") {
                let proto = Protocol::parse(r.field("protocol").as_str().unwrap_or("TCP"))
                    .unwrap_or(Protocol::Tcp);
                if let (Some(a), Some(b)) =
                    (port_number(r.field("start")), port_number(r.field("end")))
                {
                    out.push(PortSpec::Range(proto, a, b));
                }
            }
        }
        Some(out)
    }

    fn admin_peers(&mut self, rule: &Node, key: &str) -> Vec<PeerSpec> {
        let mut out = Vec::new();
        for pn in rule.field(key).items() {
            if let Some(ns) = pn.get("namespaces") {
                let ns = Some(self.ns_sels.intern(Selector::parse(ns)));
                let pod = self.pod_sels.intern(Selector::default());
                out.push(PeerSpec::Pods { ns, pod });
            } else if let Some(p) = pn.get("pods") {
                let ns = Some(
                    self.ns_sels
                        .intern(Selector::parse(p.field("namespaceSelector"))),
                );
                let pod = self
                    .pod_sels
                    .intern(Selector::parse(p.field("podSelector")));
                out.push(PeerSpec::Pods { ns, pod });
            } else if let Some(nets) = pn.get("networks") {
                let mut set = IpSet::default();
                for c in nets.items() {
                    if let Some(r) = c.as_str().and_then(IpRange::parse_cidr) {
                        set.include.push(r);
                    }
                }
                // each CIDR of the list is its own range; keep them as one peer
                out.push(PeerSpec::Ip(set));
            } else if pn.get("nodes").is_some() {
                out.push(PeerSpec::Unsupported("nodes".into()));
            } else {
                out.push(PeerSpec::Unsupported("empty peer".into()));
            }
        }
        out
    }

    fn read_admin(&mut self, o: &Object, is_anp: bool) -> Option<AdminPol> {
        let spec = o.root.field("spec");
        let sp = Pointer::root().key("spec");
        let (subject_ns, subject_pod) = self.admin_subject(spec.field("subject"));
        let priority = if is_anp {
            match spec.field("priority").as_i64() {
                Some(p) => Some(p),
                None => {
                    self.notes.push(format!(
                        "AdminNetworkPolicy `{}` has no priority: ignored",
                        o.name
                    ));
                    return None;
                }
            }
        } else {
            None
        };
        let rules = |this: &mut Policies, dir: &str, peer_key: &str| {
            spec.field(dir)
                .items()
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let action = match r.field("action").as_str().unwrap_or("") {
                        "Allow" => Action::Allow,
                        "Pass" if is_anp => Action::Pass,
                        _ => Action::Deny,
                    };
                    RuleSpec {
                        peers: Some(this.admin_peers(r, peer_key)),
                        ports: this.admin_ports(r),
                        pointer: sp.key(dir).idx(i),
                        action,
                        name: r.field("name").as_str().unwrap_or("").to_string(),
                    }
                })
                .collect::<Vec<_>>()
        };
        let ingress = rules(self, "ingress", "from");
        let egress = rules(self, "egress", "to");
        Some(AdminPol {
            object: o.id,
            name: o.name.clone(),
            priority,
            subject_ns,
            subject_pod,
            ingress,
            egress,
        })
    }

    /// Every address set a rule of this direction names (for the partition
    /// of external addresses).
    pub fn ip_sets(&self, ingress: bool) -> Vec<&IpSet> {
        let mut out = Vec::new();
        fn add<'x>(out: &mut Vec<&'x IpSet>, rules: &'x [RuleSpec]) {
            for r in rules {
                for p in r.peers.iter().flatten() {
                    if let PeerSpec::Ip(s) = p {
                        out.push(s);
                    }
                }
            }
        }
        for np in &self.netpols {
            let rules = if ingress { &np.ingress } else { &np.egress };
            if let Some(r) = rules {
                add(&mut out, r);
            }
        }
        for a in self.anps.iter().chain(self.banp.iter()) {
            add(&mut out, if ingress { &a.ingress } else { &a.egress });
        }
        out
    }
}
