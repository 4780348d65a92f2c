//! Sets of connections: per protocol (TCP, UDP, SCTP), a set of port ranges.

use std::fmt;

/// A transport protocol a NetworkPolicy can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Protocol {
    /// SCTP.
    Sctp,
    /// TCP (the default).
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// Every protocol, in output order.
    pub const ALL: [Protocol; 3] = [Protocol::Sctp, Protocol::Tcp, Protocol::Udp];

    /// Parses `TCP`, `UDP`, `SCTP` (case-insensitive).
    pub fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_uppercase().as_str() {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// `TCP`, `UDP` or `SCTP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// The lowest and highest port.
pub const MIN_PORT: u16 = 1;
/// The highest port.
pub const MAX_PORT: u16 = 65535;

/// A set of connections: for each protocol, sorted disjoint inclusive port
/// ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnSet {
    ranges: [Vec<(u16, u16)>; 3],
}

impl ConnSet {
    /// No connection.
    pub fn none() -> ConnSet {
        ConnSet::default()
    }

    /// Every protocol and port.
    pub fn all() -> ConnSet {
        let full = vec![(MIN_PORT, MAX_PORT)];
        ConnSet {
            ranges: [full.clone(), full.clone(), full],
        }
    }

    /// Every port of one protocol.
    pub fn protocol(p: Protocol) -> ConnSet {
        ConnSet::range(p, MIN_PORT, MAX_PORT)
    }

    /// One port range of one protocol (empty when `lo > hi`).
    pub fn range(p: Protocol, lo: u16, hi: u16) -> ConnSet {
        let mut c = ConnSet::none();
        let lo = lo.max(MIN_PORT);
        if lo <= hi {
            c.ranges[p.idx()].push((lo, hi));
        }
        c
    }

    /// True when nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.ranges.iter().all(|r| r.is_empty())
    }

    /// True when everything is allowed.
    pub fn is_all(&self) -> bool {
        self.ranges
            .iter()
            .all(|r| r.len() == 1 && r[0] == (MIN_PORT, MAX_PORT))
    }

    /// The ranges of one protocol.
    pub fn ranges(&self, p: Protocol) -> &[(u16, u16)] {
        &self.ranges[p.idx()]
    }

    /// True when the set holds this port.
    pub fn contains(&self, p: Protocol, port: u16) -> bool {
        self.ranges[p.idx()]
            .iter()
            .any(|&(lo, hi)| lo <= port && port <= hi)
    }

    /// Adds another set.
    pub fn union_with(&mut self, other: &ConnSet) {
        for i in 0..3 {
            if other.ranges[i].is_empty() {
                continue;
            }
            let mut v: Vec<(u16, u16)> = self.ranges[i]
                .iter()
                .chain(other.ranges[i].iter())
                .copied()
                .collect();
            v.sort_unstable();
            let mut out: Vec<(u16, u16)> = Vec::with_capacity(v.len());
            for (lo, hi) in v {
                match out.last_mut() {
                    Some(last) if (last.1 as u32) + 1 >= lo as u32 => last.1 = last.1.max(hi),
                    _ => out.push((lo, hi)),
                }
            }
            self.ranges[i] = out;
        }
    }

    /// The union.
    pub fn union(&self, other: &ConnSet) -> ConnSet {
        let mut c = self.clone();
        c.union_with(other);
        c
    }

    /// The intersection.
    pub fn intersect(&self, other: &ConnSet) -> ConnSet {
        let mut c = ConnSet::none();
        for i in 0..3 {
            let (a, b) = (&self.ranges[i], &other.ranges[i]);
            let (mut x, mut y) = (0, 0);
            while x < a.len() && y < b.len() {
                let lo = a[x].0.max(b[y].0);
                let hi = a[x].1.min(b[y].1);
                if lo <= hi {
                    c.ranges[i].push((lo, hi));
                }
                if a[x].1 < b[y].1 {
                    x += 1;
                } else {
                    y += 1;
                }
            }
        }
        c
    }

    /// What is in `self` and not in `other`.
    pub fn minus(&self, other: &ConnSet) -> ConnSet {
        let mut c = ConnSet::none();
        for i in 0..3 {
            for &(lo, hi) in &self.ranges[i] {
                let mut cur = lo as u32;
                for &(olo, ohi) in &other.ranges[i] {
                    if (ohi as u32) < cur || olo > hi {
                        continue;
                    }
                    if (olo as u32) > cur {
                        c.ranges[i].push((cur as u16, olo - 1));
                    }
                    cur = ohi as u32 + 1;
                    if cur > hi as u32 {
                        break;
                    }
                }
                if cur <= hi as u32 {
                    c.ranges[i].push((cur as u16, hi));
                }
            }
        }
        c
    }
}

/// netpol-analyzer's text: `All Connections`, `No Connections`, or
/// `SCTP 1-9002,9004-65535,TCP 80,UDP 53`.
impl fmt::Display for ConnSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("All Connections");
        }
        if self.is_empty() {
            return f.write_str("No Connections");
        }
        let mut first = true;
        for p in Protocol::ALL {
            let r = self.ranges(p);
            if r.is_empty() {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{} ", p.as_str())?;
            for (i, (lo, hi)) in r.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                if lo == hi {
                    write!(f, "{lo}")?;
                } else {
                    write!(f, "{lo}-{hi}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations_and_text() {
        let udp53 = ConnSet::range(Protocol::Udp, 53, 53);
        let rest = ConnSet::all().minus(&udp53);
        assert_eq!(
            rest.to_string(),
            "SCTP 1-65535,TCP 1-65535,UDP 1-52,54-65535"
        );
        assert_eq!(rest.union(&udp53), ConnSet::all());
        assert!(rest.intersect(&udp53).is_empty());
        let t = ConnSet::range(Protocol::Tcp, 80, 80).union(&ConnSet::range(Protocol::Tcp, 81, 90));
        assert_eq!(t.to_string(), "TCP 80-90");
    }
}
