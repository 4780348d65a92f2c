//! The semantics, once: what the tiers (AdminNetworkPolicy by priority,
//! NetworkPolicy, BaselineAdminNetworkPolicy) allow from one endpoint to
//! another. It asks an [`Oracle`] which selectors match which pod, so the
//! same code runs on classes of pods (the analysis) and on single pods (the
//! naive reference the tests compare it with).

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use super::conn::{ConnSet, Protocol};
use super::ip::IpRange;
use super::policy::{Action, PeerSpec, Policies, PortSpec, RuleSpec};
use super::selector::Tri;

/// One end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ep {
    /// A pod (a class or a peer, depending on the oracle).
    Pod(usize),
    /// External addresses (one range of the partition).
    Ip(IpRange),
}

/// Answers selector questions about pods.
pub trait Oracle {
    /// The namespace (index) of a pod.
    fn ns(&self, pod: usize) -> usize;
    /// Does pod selector `sel` match the pod's labels?
    fn pod_sel(&self, pod: usize, sel: usize) -> bool;
    /// Does namespace selector `sel` match namespace `ns`?
    fn ns_sel(&self, ns: usize, sel: usize) -> Tri;
    /// The namespace index of a NetworkPolicy's namespace (None: no pod there).
    fn np_ns(&self, np: usize) -> Option<usize>;
    /// Container ports of the pod with this name (protocol, port).
    fn named_port(&self, pod: usize, name: &str) -> Vec<(Protocol, u16)>;
    /// NetworkPolicies that select the pod (any direction).
    fn netpols_of(&self, pod: usize) -> Cow<'_, [usize]>;
}

/// One step of an explanation.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Step {
    /// `ingress` or `egress`.
    pub direction: &'static str,
    /// `AdminNetworkPolicy`, `NetworkPolicy`, `BaselineAdminNetworkPolicy`
    /// or `default`.
    pub tier: &'static str,
    /// The policy (`ns/name` or name), empty for defaults.
    pub policy: String,
    /// Rule index inside the policy, when a rule decided.
    pub rule: Option<usize>,
    /// `allow`, `deny` or `pass`.
    pub verdict: &'static str,
    /// The connections concerned.
    pub conns: String,
}

/// An evaluation: the policies, an oracle, how unknown selector answers are
/// resolved, and what was consulted.
pub struct Eval<'a, O: Oracle> {
    /// The policies.
    pub pol: &'a Policies,
    /// The oracle.
    pub o: &'a O,
    /// What an unknown namespace-selector answer is taken to be.
    pub assume: bool,
    /// Set when an unknown answer was consulted.
    pub touched: Cell<bool>,
    /// Unknown answers consulted: (namespace index, selector index).
    pub unknowns: RefCell<Vec<(usize, usize)>>,
    /// Explanation steps, when collecting.
    pub trace: Option<RefCell<Vec<Step>>>,
}

impl<'a, O: Oracle> Eval<'a, O> {
    /// A new evaluation.
    pub fn new(pol: &'a Policies, o: &'a O, assume: bool, explain: bool) -> Self {
        Eval {
            pol,
            o,
            assume,
            touched: Cell::new(false),
            unknowns: RefCell::new(Vec::new()),
            trace: explain.then(|| RefCell::new(Vec::new())),
        }
    }

    fn ns_match(&self, ns: usize, sel: usize) -> bool {
        match self.o.ns_sel(ns, sel) {
            Tri::Yes => true,
            Tri::No => false,
            Tri::Unknown => {
                self.touched.set(true);
                if self.trace.is_some() {
                    self.unknowns.borrow_mut().push((ns, sel));
                }
                self.assume
            }
        }
    }

    fn step(
        &self,
        direction: &'static str,
        tier: &'static str,
        policy: String,
        rule: Option<usize>,
        verdict: &'static str,
        conns: &ConnSet,
    ) {
        if let Some(t) = &self.trace {
            if !conns.is_empty() {
                t.borrow_mut().push(Step {
                    direction,
                    tier,
                    policy,
                    rule,
                    verdict,
                    conns: conns.to_string(),
                });
            }
        }
    }

    /// Does a rule peer match endpoint `ep`? `home` is the namespace of a
    /// NetworkPolicy (peers without a namespace selector).
    fn peer_match(&self, p: &PeerSpec, ep: Ep, home: Option<usize>) -> bool {
        match (p, ep) {
            (PeerSpec::Pods { ns, pod }, Ep::Pod(x)) => {
                let in_ns = match ns {
                    Some(s) => self.ns_match(self.o.ns(x), *s),
                    None => home == Some(self.o.ns(x)),
                };
                in_ns && self.o.pod_sel(x, *pod)
            }
            (PeerSpec::Ip(set), Ep::Ip(r)) => set.covers(&r),
            _ => false,
        }
    }

    fn rule_peers_match(&self, r: &RuleSpec, ep: Ep, home: Option<usize>) -> bool {
        match &r.peers {
            None => true,
            Some(ps) => ps.iter().any(|p| self.peer_match(p, ep, home)),
        }
    }

    /// The connections a rule's ports give towards destination `dst`.
    fn rule_ports(&self, r: &RuleSpec, dst: Ep) -> ConnSet {
        let Some(ports) = &r.ports else {
            return ConnSet::all();
        };
        let mut c = ConnSet::none();
        for p in ports {
            match p {
                PortSpec::AllOf(proto) => c.union_with(&ConnSet::protocol(*proto)),
                PortSpec::Range(proto, lo, hi) => c.union_with(&ConnSet::range(*proto, *lo, *hi)),
                PortSpec::Named(name, proto) => {
                    if let Ep::Pod(d) = dst {
                        for (pp, n) in self.o.named_port(d, name) {
                            if proto.is_none_or(|x| x == pp) {
                                c.union_with(&ConnSet::range(pp, n, n));
                            }
                        }
                    }
                }
            }
        }
        c
    }

    fn subject(&self, a_ns: usize, a_pod: usize, pod: usize) -> bool {
        self.o.pod_sel(pod, a_pod) && self.ns_match(self.o.ns(pod), a_ns)
    }

    /// What `pod`'s side allows for traffic with `other`: its egress when
    /// `ingress` is false (`other` is the destination), its ingress otherwise
    /// (`other` is the source).
    pub fn side(&self, pod: usize, other: Ep, ingress: bool) -> ConnSet {
        let dir = if ingress { "ingress" } else { "egress" };
        let dst = if ingress { Ep::Pod(pod) } else { other };
        let mut allowed = ConnSet::none();
        let mut open = ConnSet::all();
        let mut passed = ConnSet::none();
        // tier 1: admin network policies, by priority
        for a in &self.pol.anps {
            if open.is_empty() {
                break;
            }
            if !self.subject(a.subject_ns, a.subject_pod, pod) {
                continue;
            }
            let rules = if ingress { &a.ingress } else { &a.egress };
            for (i, r) in rules.iter().enumerate() {
                if !self.rule_peers_match(r, other, None) {
                    continue;
                }
                let c = self.rule_ports(r, dst).intersect(&open);
                if c.is_empty() {
                    continue;
                }
                open = open.minus(&c);
                let v = match r.action {
                    Action::Allow => {
                        allowed.union_with(&c);
                        "allow"
                    }
                    Action::Deny => "deny",
                    Action::Pass => {
                        passed.union_with(&c);
                        "pass"
                    }
                };
                self.step(dir, "AdminNetworkPolicy", a.name.clone(), Some(i), v, &c);
            }
        }
        let lower = open.union(&passed);
        if lower.is_empty() {
            return allowed;
        }
        // tier 2: network policies
        let mut isolated = false;
        let mut np_allowed = ConnSet::none();
        for &ni in self.o.netpols_of(pod).iter() {
            let np = &self.pol.netpols[ni];
            let Some(rules) = (if ingress { &np.ingress } else { &np.egress }) else {
                continue;
            };
            isolated = true;
            let home = self.o.np_ns(ni);
            for (i, r) in rules.iter().enumerate() {
                if self.rule_peers_match(r, other, home) {
                    let c = self.rule_ports(r, dst).intersect(&lower);
                    if self.trace.is_some() {
                        self.step(
                            dir,
                            "NetworkPolicy",
                            format!("{}/{}", np.namespace, np.name),
                            Some(i),
                            "allow",
                            &c,
                        );
                    }
                    np_allowed.union_with(&c);
                }
            }
        }
        if isolated {
            if self.trace.is_some() {
                let denied = lower.minus(&np_allowed);
                let names: Vec<String> = self
                    .o
                    .netpols_of(pod)
                    .iter()
                    .map(|&n| &self.pol.netpols[n])
                    .filter(|np| {
                        if ingress {
                            np.ingress.is_some()
                        } else {
                            np.egress.is_some()
                        }
                    })
                    .map(|np| format!("{}/{}", np.namespace, np.name))
                    .collect();
                self.step(dir, "NetworkPolicy", names.join(","), None, "deny", &denied);
            }
            allowed.union_with(&np_allowed);
            return allowed;
        }
        // tier 3: the baseline admin network policy
        let mut open = lower;
        if let Some(b) = &self.pol.banp {
            if self.subject(b.subject_ns, b.subject_pod, pod) {
                let rules = if ingress { &b.ingress } else { &b.egress };
                for (i, r) in rules.iter().enumerate() {
                    if !self.rule_peers_match(r, other, None) {
                        continue;
                    }
                    let c = self.rule_ports(r, dst).intersect(&open);
                    if c.is_empty() {
                        continue;
                    }
                    open = open.minus(&c);
                    let v = if r.action == Action::Allow {
                        allowed.union_with(&c);
                        "allow"
                    } else {
                        "deny"
                    };
                    self.step(
                        dir,
                        "BaselineAdminNetworkPolicy",
                        b.name.clone(),
                        Some(i),
                        v,
                        &c,
                    );
                }
            }
        }
        self.step(dir, "default", String::new(), None, "allow", &open);
        allowed.union_with(&open);
        allowed
    }

    /// The connections allowed from `src` to `dst` (at least one is a pod).
    pub fn pair(&self, src: Ep, dst: Ep) -> ConnSet {
        match (src, dst) {
            (Ep::Pod(s), Ep::Pod(d)) => {
                let e = self.side(s, dst, false);
                if e.is_empty() && self.trace.is_none() {
                    return e;
                }
                e.intersect(&self.side(d, src, true))
            }
            (Ep::Pod(s), Ep::Ip(_)) => self.side(s, dst, false),
            (Ep::Ip(_), Ep::Pod(d)) => self.side(d, src, true),
            (Ep::Ip(_), Ep::Ip(_)) => ConnSet::none(),
        }
    }
}

/// A verdict: what is allowed for certain, and what depends on namespace
/// labels the input does not declare.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Verdict {
    /// Allowed whatever the unknown labels are.
    pub allowed: ConnSet,
    /// Allowed or denied depending on unknown namespace labels.
    pub unknown: ConnSet,
}

/// Evaluates a pair; when an unknown namespace label was consulted, evaluates
/// again with the other assumption and splits the result.
pub fn verdict<O: Oracle>(pol: &Policies, o: &O, src: Ep, dst: Ep) -> Verdict {
    let e = Eval::new(pol, o, false, false);
    let a = e.pair(src, dst);
    if !e.touched.get() {
        return Verdict {
            allowed: a,
            unknown: ConnSet::none(),
        };
    }
    let b = Eval::new(pol, o, true, false).pair(src, dst);
    let both = a.intersect(&b);
    let either = a.union(&b);
    Verdict {
        unknown: either.minus(&both),
        allowed: both,
    }
}
