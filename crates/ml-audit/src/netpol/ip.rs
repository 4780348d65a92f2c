//! IPv4 address ranges: CIDRs, `except`, and the partition of the address
//! space into the disjoint ranges the policies distinguish.

use std::fmt;

/// An inclusive IPv4 range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpRange {
    /// First address.
    pub lo: u32,
    /// Last address.
    pub hi: u32,
}

impl IpRange {
    /// The whole IPv4 space.
    pub const ALL: IpRange = IpRange {
        lo: 0,
        hi: u32::MAX,
    };

    /// Parses `a.b.c.d/n` (or a bare address). IPv6 gives `None`.
    pub fn parse_cidr(s: &str) -> Option<IpRange> {
        let (addr, len) = match s.trim().split_once('/') {
            Some((a, l)) => (a, l.parse::<u32>().ok()?),
            None => (s.trim(), 32),
        };
        if len > 32 {
            return None;
        }
        let ip: std::net::Ipv4Addr = addr.parse().ok()?;
        let ip = u32::from(ip);
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        Some(IpRange {
            lo: ip & mask,
            hi: (ip & mask) | !mask,
        })
    }

    /// True when `other` lies inside this range.
    pub fn contains(&self, other: &IpRange) -> bool {
        self.lo <= other.lo && other.hi <= self.hi
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            std::net::Ipv4Addr::from(self.lo),
            std::net::Ipv4Addr::from(self.hi)
        )
    }
}

/// A set of addresses: a CIDR minus its exceptions (or several CIDRs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IpSet {
    /// Included ranges.
    pub include: Vec<IpRange>,
    /// Excluded ranges.
    pub except: Vec<IpRange>,
}

impl IpSet {
    /// True when the whole range `r` is in the set (ranges of the partition
    /// are either wholly in or wholly out).
    pub fn covers(&self, r: &IpRange) -> bool {
        self.include.iter().any(|i| i.contains(r))
            && !self.except.iter().any(|e| e.lo <= r.hi && r.lo <= e.hi)
    }

    /// Every boundary of the set: the first address of each range and the
    /// address after its end.
    pub fn cuts(&self, out: &mut Vec<u64>) {
        for r in self.include.iter().chain(self.except.iter()) {
            out.push(r.lo as u64);
            out.push(r.hi as u64 + 1);
        }
    }
}

/// Splits the IPv4 space into the ranges the given sets distinguish: two
/// addresses are in the same range when every set holds both or neither and
/// no address between them is distinguished (the maximal intervals of the
/// disjoint blocks, as netpol-analyzer lists them).
pub fn partition<'a>(sets: impl Iterator<Item = &'a IpSet>) -> Vec<IpRange> {
    let sets: Vec<&IpSet> = sets.collect();
    let mut cuts = vec![0u64, 1u64 << 32];
    for s in &sets {
        s.cuts(&mut cuts);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut out: Vec<(IpRange, Vec<bool>)> = Vec::new();
    for w in cuts.windows(2) {
        let r = IpRange {
            lo: w[0] as u32,
            hi: (w[1] - 1) as u32,
        };
        let sig: Vec<bool> = sets.iter().map(|s| s.covers(&r)).collect();
        match out.last_mut() {
            Some((last, lsig)) if *lsig == sig => last.hi = r.hi,
            _ => out.push((r, sig)),
        }
    }
    out.into_iter().map(|(r, _)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_and_partition() {
        let r = IpRange::parse_cidr("10.0.0.0/8").unwrap();
        assert_eq!(r.to_string(), "10.0.0.0-10.255.255.255");
        let s = IpSet {
            include: vec![r],
            except: vec![IpRange::parse_cidr("10.10.0.0/16").unwrap()],
        };
        let p = partition(std::iter::once(&s));
        let text: Vec<String> = p.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            text,
            [
                "0.0.0.0-9.255.255.255",
                "10.0.0.0-10.9.255.255",
                "10.10.0.0-10.10.255.255",
                "10.11.0.0-10.255.255.255",
                "11.0.0.0-255.255.255.255"
            ]
        );
        assert!(!s.covers(&p[2]) && s.covers(&p[1]) && s.covers(&p[3]));
        assert!(IpRange::parse_cidr("fd00::/8").is_none());
    }
}
