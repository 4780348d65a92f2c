//! The reachability query: which workloads can reach which, filtered by
//! source, destination and port, as `kubectl ml-audit reach` and a linking
//! tool ask it.
//!
//! ```
//! use ml_audit::netpol::{Options, Query, Reachability};
//!
//! let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x, labels: {app: a}}\nspec: {containers: [{name: c, image: i}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: x, labels: {app: b}}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}\n";
//! let inv = ml_audit::Inventory::from_text("pods.yaml", yaml);
//! let model = Reachability::build(&inv, &Options::default());
//! let q = Query::parse(Some("x/a"), Some("x/b"), Some("8080")).unwrap();
//! let found = model.query(&q);
//! assert_eq!(found.len(), 1);
//! assert_eq!(found[0].allowed.to_string(), "TCP 8080");
//! ```

use std::str::FromStr;

use super::conn::{ConnSet, Protocol};
use super::{Endpoint, Reachability};
use crate::Error;

/// Which endpoints a query keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Addresses outside the cluster (`external`).
    External,
    /// Every workload of a namespace (`namespace`).
    Namespace(String),
    /// One workload (`namespace/workload`).
    Workload {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// The workloads of a namespace with a label (`namespace:label=value`).
    Label {
        /// The namespace.
        namespace: String,
        /// The label key.
        key: String,
        /// The label value.
        value: String,
    },
}

impl FromStr for Selector {
    type Err = Error;

    /// `namespace/workload`, `namespace`, `namespace:label=value`, or
    /// `external`.
    fn from_str(s: &str) -> Result<Selector, Error> {
        if s == "external" {
            return Ok(Selector::External);
        }
        if let Some((ns, rest)) = s.split_once(':') {
            let (k, v) = rest.split_once('=').ok_or_else(|| {
                Error::Reach(format!("selector `{s}`: expected namespace:label=value"))
            })?;
            return Ok(Selector::Label {
                namespace: ns.into(),
                key: k.into(),
                value: v.into(),
            });
        }
        if let Some((ns, w)) = s.split_once('/') {
            return Ok(Selector::Workload {
                namespace: ns.into(),
                name: w.into(),
            });
        }
        if s.is_empty() {
            return Err(Error::Reach("empty selector".into()));
        }
        Ok(Selector::Namespace(s.into()))
    }
}

impl Selector {
    /// Whether an endpoint of the model is selected.
    pub fn matches(&self, r: &Reachability, e: Endpoint) -> bool {
        match (self, e) {
            (Selector::External, Endpoint::Ip(_)) => true,
            (_, Endpoint::Ip(_)) | (Selector::External, _) => false,
            (Selector::Namespace(ns), Endpoint::Peer(p)) => r.peers[p].namespace == *ns,
            (Selector::Workload { namespace, name }, Endpoint::Peer(p)) => {
                let p = &r.peers[p];
                p.namespace == *namespace
                    && (p.name == *name
                        || p.name
                            .strip_prefix(name.as_str())
                            .is_some_and(|x| x.starts_with('(')))
            }
            (
                Selector::Label {
                    namespace,
                    key,
                    value,
                },
                Endpoint::Peer(p),
            ) => {
                let p = &r.peers[p];
                p.namespace == *namespace && p.labels.get(key) == Some(value)
            }
        }
    }
}

/// One port: `8080` (TCP) or `PROTO/PORT` (`udp/53`).
pub fn parse_port(s: &str) -> Result<ConnSet, Error> {
    let (proto, n) = match s.split_once('/') {
        Some((p, n)) => (
            Protocol::parse(p).ok_or_else(|| Error::Reach(format!("unknown protocol `{p}`")))?,
            n,
        ),
        None => (Protocol::Tcp, s),
    };
    let n: u16 = n
        .parse()
        .map_err(|_| Error::Reach(format!("port `{s}`: expected 1-65535 or proto/port")))?;
    if n == 0 {
        return Err(Error::Reach("port 0".into()));
    }
    Ok(ConnSet::range(proto, n, n))
}

/// A reachability question: connections from, to and on what.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Only connections from these endpoints.
    pub from: Option<Selector>,
    /// Only connections to these endpoints.
    pub to: Option<Selector>,
    /// Only these connections (a port).
    pub port: Option<ConnSet>,
}

impl Query {
    /// A query from its text form (selectors as [`Selector::from_str`]
    /// reads them, the port as [`parse_port`]).
    pub fn parse(from: Option<&str>, to: Option<&str>, port: Option<&str>) -> Result<Query, Error> {
        Ok(Query {
            from: from.map(str::parse).transpose()?,
            to: to.map(str::parse).transpose()?,
            port: port.map(parse_port).transpose()?,
        })
    }

    /// Whether nothing is filtered.
    pub fn is_everything(&self) -> bool {
        self.from.is_none() && self.to.is_none() && self.port.is_none()
    }

    /// Whether one workload to one workload is asked: the pair is answered
    /// even when nothing is allowed.
    pub fn is_pair(&self) -> bool {
        matches!(self.from, Some(Selector::Workload { .. }))
            && matches!(self.to, Some(Selector::Workload { .. }))
    }
}

/// One answer of a query: what one source may open to one destination.
#[derive(Clone, Debug)]
pub struct Connection {
    /// The source.
    pub src: Endpoint,
    /// The destination.
    pub dst: Endpoint,
    /// The source's display name (`namespace/workload[Kind]` or `ip[External]`).
    pub src_name: String,
    /// The destination's display name.
    pub dst_name: String,
    /// Connections allowed whatever the undeclared namespace labels.
    pub allowed: ConnSet,
    /// Connections whose verdict depends on undeclared namespace labels.
    pub unknown: ConnSet,
}

impl Reachability {
    /// The display name of an endpoint.
    pub fn endpoint_name(&self, e: Endpoint) -> String {
        match e {
            Endpoint::Peer(p) => self.peers[p].display(),
            Endpoint::Ip(ip) => format!("{ip}[External]"),
        }
    }

    /// The connections a query asks for, sorted by source then destination
    /// name: those with something allowed or unknown, and a pair asked for
    /// explicitly ([`Query::is_pair`]) even when denied.
    pub fn query(&self, q: &Query) -> Vec<Connection> {
        let mut lines = Vec::new();
        let selected =
            |sel: &Option<Selector>, e: Endpoint| sel.as_ref().is_none_or(|s| s.matches(self, e));
        let mut push = |src: Endpoint, dst: Endpoint, v: &super::eval::Verdict| {
            if !selected(&q.from, src) || !selected(&q.to, dst) {
                return;
            }
            let (mut a, mut u) = (v.allowed.clone(), v.unknown.clone());
            if let Some(p) = &q.port {
                a = a.intersect(p);
                u = u.intersect(p);
            }
            lines.push(Connection {
                src,
                dst,
                src_name: self.endpoint_name(src),
                dst_name: self.endpoint_name(dst),
                allowed: a,
                unknown: u,
            });
        };
        for s in 0..self.peers.len() {
            if self.peers[s].synthetic {
                continue;
            }
            for d in 0..self.peers.len() {
                if s != d && !self.peers[d].synthetic {
                    push(Endpoint::Peer(s), Endpoint::Peer(d), self.between(s, d));
                }
            }
            for (b, ip) in self.out_blocks.iter().enumerate() {
                push(Endpoint::Peer(s), Endpoint::Ip(*ip), self.to_external(s, b));
            }
            for (b, ip) in self.in_blocks.iter().enumerate() {
                push(
                    Endpoint::Ip(*ip),
                    Endpoint::Peer(s),
                    self.from_external(b, s),
                );
            }
        }
        lines.sort_by(|a, b| (&a.src_name, &a.dst_name).cmp(&(&b.src_name, &b.dst_name)));
        let explicit = q.is_pair();
        lines.retain(|l| explicit || !l.allowed.is_empty() || !l.unknown.is_empty());
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_ports_parse_or_say_why_not() {
        let sel = |s: &str| s.parse::<Selector>().map_err(|e| e.to_string());
        assert_eq!(sel("external"), Ok(Selector::External));
        assert_eq!(sel("ml"), Ok(Selector::Namespace("ml".into())));
        assert_eq!(
            sel("ml/ray-head"),
            Ok(Selector::Workload {
                namespace: "ml".into(),
                name: "ray-head".into()
            })
        );
        assert_eq!(
            sel("ml:app"),
            Err("selector `ml:app`: expected namespace:label=value".into())
        );
        assert_eq!(sel(""), Err("empty selector".into()));
        let port = |s: &str| {
            parse_port(s)
                .map(|c| c.to_string())
                .map_err(|e| e.to_string())
        };
        assert_eq!(port("8080"), Ok("TCP 8080".into()));
        assert_eq!(port("udp/53"), Ok("UDP 53".into()));
        assert_eq!(port("0"), Err("port 0".into()));
        assert_eq!(
            port("tcp/x"),
            Err("port `tcp/x`: expected 1-65535 or proto/port".into())
        );
        assert_eq!(port("foo/1"), Err("unknown protocol `foo`".into()));
    }
}
