//! Computing the matrix of class pairs fast: a source class's egress side
//! depends on a destination class only through which of its egress rules
//! match it (a bitmask, from per-rule bitsets over classes computed once)
//! and the destination's named ports, so it is computed once per distinct
//! mask; the ingress side is evaluated only where the egress side lets
//! something through. The proptest differential test checks the result
//! against the naive pod-by-pod evaluation.

use rustc_hash::FxHashMap as HashMap;

use super::conn::ConnSet;
use super::eval::{Ep, Eval, Oracle, Verdict};
use super::policy::{Action, AdminPol, PeerSpec, Policies, PortSpec, RuleSpec};
use super::selector::Tri;
use super::{ClassOracle, Reachability, Row, RowIds};

/// Bits over classes, for both assumptions about unknown namespace labels.
struct Bits {
    f: Vec<u64>,
    t: Vec<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tier {
    Admin,
    Net,
    Baseline,
}

/// One egress rule that applies to a source class.
#[derive(Clone, Copy)]
struct Applied<'p> {
    tier: Tier,
    rule: &'p RuleSpec,
    bits: usize,
}

struct Plan<'p> {
    rules: Vec<Applied<'p>>,
    isolated: bool,
    named: bool,
}

fn set(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

impl Reachability {
    fn tri_subject(&self, ns_sel: usize, pod_sel: usize, class: usize) -> Tri {
        let c = &self.classes[class];
        if c.pod_bits[pod_sel / 64] >> (pod_sel % 64) & 1 == 0 {
            return Tri::No;
        }
        self.ns_table[c.ns][ns_sel]
    }

    /// Which classes a rule's peers match.
    fn rule_bits(&self, r: &RuleSpec, home: Option<usize>, by_ns: &[Vec<usize>]) -> Bits {
        let words = self.classes.len().div_ceil(64).max(1);
        let mut b = Bits {
            f: vec![0; words],
            t: vec![0; words],
        };
        let Some(peers) = &r.peers else {
            for c in 0..self.classes.len() {
                set(&mut b.f, c);
                set(&mut b.t, c);
            }
            return b;
        };
        for p in peers {
            let PeerSpec::Pods { ns, pod } = p else {
                continue;
            };
            for (n, classes) in by_ns.iter().enumerate() {
                let tri = match ns {
                    Some(s) => self.ns_table[n][*s],
                    None if home == Some(n) => Tri::Yes,
                    None => Tri::No,
                };
                if tri == Tri::No {
                    continue;
                }
                for &c in classes {
                    let cl = &self.classes[c];
                    if cl.pod_bits[pod / 64] >> (pod % 64) & 1 == 1 {
                        if tri == Tri::Yes {
                            set(&mut b.f, c);
                        }
                        set(&mut b.t, c);
                    }
                }
            }
        }
        b
    }

    /// The egress plan of a class under one assumption.
    fn plan<'p>(&'p self, c: usize, assume: bool, ids: &Ids) -> Plan<'p> {
        let pol = &self.policies;
        let ok = |t: Tri| t == Tri::Yes || (assume && t == Tri::Unknown);
        let mut rules = Vec::new();
        for (ai, a) in pol.anps.iter().enumerate() {
            if ok(self.tri_subject(a.subject_ns, a.subject_pod, c)) {
                for (ri, r) in a.egress.iter().enumerate() {
                    rules.push(Applied {
                        tier: Tier::Admin,
                        rule: r,
                        bits: ids.anp[ai] + ri,
                    });
                }
            }
        }
        let mut isolated = false;
        for &ni in &self.classes[c].netpols {
            if let Some(rs) = &pol.netpols[ni].egress {
                isolated = true;
                for (ri, r) in rs.iter().enumerate() {
                    rules.push(Applied {
                        tier: Tier::Net,
                        rule: r,
                        bits: ids.np[ni] + ri,
                    });
                }
            }
        }
        if let Some(b) = &pol.banp {
            if ok(self.tri_subject(b.subject_ns, b.subject_pod, c)) {
                for (ri, r) in b.egress.iter().enumerate() {
                    rules.push(Applied {
                        tier: Tier::Baseline,
                        rule: r,
                        bits: ids.banp + ri,
                    });
                }
            }
        }
        let named = rules.iter().any(|a| {
            a.rule
                .ports
                .iter()
                .flatten()
                .any(|p| matches!(p, PortSpec::Named(..)))
        });
        Plan {
            rules,
            isolated,
            named,
        }
    }
}

/// Where each policy's egress rules start in the rule-bits table.
struct Ids {
    anp: Vec<usize>,
    np: Vec<usize>,
    banp: usize,
}

/// The egress side for one mask of matching rules, to destination class `d`.
fn egress_side<O: Oracle>(e: &Eval<'_, O>, plan: &Plan<'_>, mask: u64, d: usize) -> ConnSet {
    let dst = Ep::Pod(d);
    let ports = |r: &RuleSpec| -> ConnSet {
        let Some(ps) = &r.ports else {
            return ConnSet::all();
        };
        let mut c = ConnSet::none();
        for p in ps {
            match p {
                PortSpec::AllOf(proto) => c.union_with(&ConnSet::protocol(*proto)),
                PortSpec::Range(proto, lo, hi) => c.union_with(&ConnSet::range(*proto, *lo, *hi)),
                PortSpec::Named(name, proto) => {
                    if let Ep::Pod(x) = dst {
                        for (pp, n) in e.o.named_port(x, name) {
                            if proto.is_none_or(|q| q == pp) {
                                c.union_with(&ConnSet::range(pp, n, n));
                            }
                        }
                    }
                }
            }
        }
        c
    };
    let mut allowed = ConnSet::none();
    let mut open = ConnSet::all();
    let mut passed = ConnSet::none();
    let hit = |i: usize| mask >> i & 1 == 1;
    for (i, a) in plan.rules.iter().enumerate() {
        if a.tier != Tier::Admin || !hit(i) || open.is_empty() {
            continue;
        }
        let c = ports(a.rule).intersect(&open);
        if c.is_empty() {
            continue;
        }
        open = open.minus(&c);
        match a.rule.action {
            Action::Allow => allowed.union_with(&c),
            Action::Deny => {}
            Action::Pass => passed.union_with(&c),
        }
    }
    let lower = open.union(&passed);
    if lower.is_empty() {
        return allowed;
    }
    if plan.isolated {
        for (i, a) in plan.rules.iter().enumerate() {
            if a.tier == Tier::Net && hit(i) {
                allowed.union_with(&ports(a.rule).intersect(&lower));
            }
        }
        return allowed;
    }
    let mut open = lower;
    for (i, a) in plan.rules.iter().enumerate() {
        if a.tier != Tier::Baseline || !hit(i) {
            continue;
        }
        let c = ports(a.rule).intersect(&open);
        if c.is_empty() {
            continue;
        }
        open = open.minus(&c);
        if a.rule.action == Action::Allow {
            allowed.union_with(&c);
        }
    }
    allowed.union_with(&open);
    allowed
}

/// The ingress side of one destination class: which ingress rules can apply
/// to it (bit indices into the ingress rule bitsets) and, for each distinct
/// answer of those rules about a source (a mask under each assumption), the
/// ingress side it gives, as an index into a table shared by all classes.
/// The ingress side depends on the source only through that answer, so it
/// is evaluated once per distinct answer, not once per pair.
struct InSide {
    rules: Vec<usize>,
    /// More than 64 rules: evaluate each pair.
    generic: bool,
    memo: HashMap<(u64, u64), u32>,
    /// The ingress side when no rule applies (the same for every source).
    fixed: Option<u32>,
    /// The ingress side for a source no rule's peers match (the common
    /// case: the rows take it without hashing).
    zero: Option<u32>,
}

impl InSide {
    /// The ingress side (an index into the shared table) for source `s`.
    fn of(&self, bits: &[Bits], s: usize) -> u32 {
        self.fixed
            .unwrap_or_else(|| self.memo[&self.masks(bits, s)])
    }

    fn masks(&self, bits: &[Bits], s: usize) -> (u64, u64) {
        let (mut f, mut t) = (0u64, 0u64);
        for (i, &b) in self.rules.iter().enumerate() {
            let (w, o) = (s / 64, s % 64);
            f |= (bits[b].f[w] >> o & 1) << i;
            t |= (bits[b].t[w] >> o & 1) << i;
        }
        (f, t)
    }
}

/// The rule bitsets of one direction (ANPs, NetworkPolicies, then the BANP)
/// and where each policy's rules start among them.
fn rule_bitsets<'p>(r: &'p Reachability, by_ns: &[Vec<usize>], ingress: bool) -> (Vec<Bits>, Ids) {
    let pol = &r.policies;
    let pick = |a: &'p AdminPol| -> &'p [RuleSpec] {
        if ingress {
            &a.ingress
        } else {
            &a.egress
        }
    };
    let mut bits: Vec<Bits> = Vec::new();
    let mut ids = Ids {
        anp: Vec::new(),
        np: Vec::new(),
        banp: 0,
    };
    for a in &pol.anps {
        ids.anp.push(bits.len());
        for rule in pick(a) {
            bits.push(r.rule_bits(rule, None, by_ns));
        }
    }
    for (ni, np) in pol.netpols.iter().enumerate() {
        ids.np.push(bits.len());
        let rules = if ingress { &np.ingress } else { &np.egress };
        for rule in rules.iter().flatten() {
            bits.push(r.rule_bits(rule, r.np_ns[ni], by_ns));
        }
    }
    ids.banp = bits.len();
    if let Some(b) = &pol.banp {
        for rule in pick(b) {
            bits.push(r.rule_bits(rule, None, by_ns));
        }
    }
    (bits, ids)
}

/// The ingress side of destination `d` for source `s` under both
/// assumptions (the second evaluated only when an unknown label was asked).
fn ingress_pair<O: Oracle>(pol: &Policies, o: &O, d: usize, s: usize) -> (ConnSet, ConnSet) {
    let e0 = Eval::new(pol, o, false, false);
    let i0 = e0.side(d, Ep::Pod(s), true);
    let i1 = if e0.touched.get() {
        Eval::new(pol, o, true, false).side(d, Ep::Pod(s), true)
    } else {
        i0.clone()
    };
    (i0, i1)
}

/// The id of a verdict in a row's table, adding it when new.
fn intern(table: &mut Vec<Verdict>, seen: &mut HashMap<Verdict, u32>, v: Verdict) -> u32 {
    if let Some(&id) = seen.get(&v) {
        return id;
    }
    table.push(v.clone());
    let id = (table.len() - 1) as u32;
    seen.insert(v, id);
    id
}

/// Every ingress rule that can apply to class `d` (its subject answer is
/// yes or unknown), as bit indices.
fn ingress_rules(r: &Reachability, d: usize, ids: &Ids) -> Vec<usize> {
    let pol = &r.policies;
    let mut v = Vec::new();
    for (ai, a) in pol.anps.iter().enumerate() {
        if r.tri_subject(a.subject_ns, a.subject_pod, d) != Tri::No {
            v.extend((0..a.ingress.len()).map(|ri| ids.anp[ai] + ri));
        }
    }
    for &ni in &r.classes[d].netpols {
        if let Some(rs) = &pol.netpols[ni].ingress {
            v.extend((0..rs.len()).map(|ri| ids.np[ni] + ri));
        }
    }
    if let Some(b) = &pol.banp {
        if r.tri_subject(b.subject_ns, b.subject_pod, d) != Tri::No {
            v.extend((0..b.ingress.len()).map(|ri| ids.banp + ri));
        }
    }
    v
}

/// Computes every row of the class matrix.
pub(super) fn compute_rows(r: &Reachability) -> Vec<Row> {
    use rayon::prelude::*;
    let o = ClassOracle { r };
    let pol = &r.policies;
    let n = r.classes.len();
    let mut by_ns: Vec<Vec<usize>> = vec![Vec::new(); r.namespaces.len()];
    for (c, cl) in r.classes.iter().enumerate() {
        by_ns[cl.ns].push(c);
    }
    let (bits, ids) = rule_bitsets(r, &by_ns, false);
    let sig: Vec<usize> = {
        let mut m: HashMap<&[(String, super::conn::Protocol, u16)], usize> = HashMap::default();
        r.classes
            .iter()
            .map(|c| {
                let k = r.peers[c.rep].ports.as_slice();
                let l = m.len();
                *m.entry(k).or_insert(l)
            })
            .collect()
    };
    let (in_bits, in_ids) = rule_bitsets(r, &by_ns, true);
    let sides: Vec<(InSide, Vec<(ConnSet, ConnSet)>)> = (0..n)
        .into_par_iter()
        .map(|d| {
            let rules = ingress_rules(r, d, &in_ids);
            let mut side = InSide {
                generic: rules.len() > 64,
                rules,
                memo: HashMap::default(),
                fixed: None,
                zero: None,
            };
            let mut local = Vec::new();
            if side.generic {
                return (side, local);
            }
            // With no rule, every source has the empty mask: the first
            // decides (the loop below would find only that one).
            let sources = if side.rules.is_empty() { n.min(1) } else { n };
            let mut zero_seen = false;
            for s in 0..sources {
                let key = side.masks(&in_bits, s);
                if key == (0, 0) {
                    if zero_seen {
                        continue;
                    }
                    zero_seen = true;
                }
                if side.memo.contains_key(&key) {
                    continue;
                }
                side.memo.insert(key, local.len() as u32);
                local.push(ingress_pair(pol, &o, d, s));
            }
            (side, local)
        })
        .collect();
    // One table of ingress sides for all destinations.
    let mut in_table: Vec<(ConnSet, ConnSet)> = Vec::new();
    let mut in_seen: HashMap<(ConnSet, ConnSet), u32> = HashMap::default();
    let sides: Vec<InSide> = sides
        .into_iter()
        .map(|(mut side, local)| {
            let remap: Vec<u32> = local
                .into_iter()
                .map(|pair| {
                    *in_seen.entry(pair.clone()).or_insert_with(|| {
                        in_table.push(pair);
                        (in_table.len() - 1) as u32
                    })
                })
                .collect();
            for v in side.memo.values_mut() {
                *v = remap[*v as usize];
            }
            if side.rules.is_empty() && !side.generic {
                side.fixed = side.memo.get(&(0, 0)).copied();
            }
            side.zero = side.memo.get(&(0, 0)).copied();
            side
        })
        .collect();
    // Which destinations' ingress rules can name each source: the sources
    // each rule's peers take in (under either assumption), and the
    // destinations each rule applies to. A row asks a destination's
    // ingress side about its source only where one of those rules does;
    // elsewhere the answer is the destination's answer for strangers.
    let mut rule_dests: Vec<Vec<u32>> = vec![Vec::new(); in_bits.len()];
    for (d, side) in sides.iter().enumerate() {
        if side.fixed.is_none() && !side.generic {
            for &b in &side.rules {
                rule_dests[b].push(d as u32);
            }
        }
    }
    let mut member_rules: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (b, bits) in in_bits.iter().enumerate() {
        if rule_dests[b].is_empty() {
            continue;
        }
        for (w, &word) in bits.t.iter().enumerate() {
            let mut x = word;
            while x != 0 {
                let c = w * 64 + x.trailing_zeros() as usize;
                x &= x - 1;
                if c < n {
                    member_rules[c].push(b as u32);
                }
            }
        }
    }
    (0..n)
        .into_par_iter()
        .map(|s| {
            // The destinations whose ingress rules name this source.
            let mut named = vec![false; n];
            for &b in &member_rules[s] {
                for &d in &rule_dests[b as usize] {
                    named[d as usize] = true;
                }
            }
            // (A destination with a fixed answer is never named: its
            // `zero` is that answer.)
            let ingress_of = |side: &InSide, d: usize| -> u32 {
                match side.zero {
                    Some(z) if !named[d] => z,
                    _ => side.of(&in_bits, s),
                }
            };
            let plans = [r.plan(s, false, &ids), r.plan(s, true, &ids)];
            if plans.iter().any(|p| p.rules.len() > 64) {
                // too many rules for a mask: evaluate each pair
                return generic_row(r, &o, s);
            }
            let masks: Vec<Vec<u64>> = plans
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    if p.rules.is_empty() {
                        return Vec::new();
                    }
                    let mut m = vec![0u64; n];
                    for (i, a) in p.rules.iter().enumerate() {
                        let b = if k == 0 {
                            &bits[a.bits].f
                        } else {
                            &bits[a.bits].t
                        };
                        for (w, &word) in b.iter().enumerate() {
                            let mut x = word;
                            while x != 0 {
                                let d = w * 64 + x.trailing_zeros() as usize;
                                x &= x - 1;
                                if d < n {
                                    m[d] |= 1 << i;
                                }
                            }
                        }
                    }
                    m
                })
                .collect();
            let ef = Eval::new(pol, &o, false, false);
            let et = Eval::new(pol, &o, true, false);
            let same_plan = plans[0].rules.len() == plans[1].rules.len()
                && plans[0].isolated == plans[1].isolated
                && plans[0]
                    .rules
                    .iter()
                    .zip(plans[1].rules.iter())
                    .all(|(a, b)| a.bits == b.bits);
            // no rule matching: the same for every destination
            let mut sets: Vec<ConnSet> = vec![
                egress_side(&ef, &plans[0], 0, s),
                egress_side(&et, &plans[1], 0, s),
            ];
            let zero_empty = sets[0].is_empty() && sets[1].is_empty();
            let mut memo: [HashMap<(u64, usize), u32>; 2] =
                [HashMap::default(), HashMap::default()];
            let mut ids_out = Vec::with_capacity(n);
            let mut table: Vec<Verdict> = vec![Verdict::default()];
            let mut seen: HashMap<Verdict, u32> = HashMap::default();
            seen.insert(Verdict::default(), 0);
            // (egress under each assumption, ingress) -> verdict id
            let mut pairs: HashMap<(u32, u32, u32), u32> = HashMap::default();
            // The verdict id by ingress side, when no egress rule matches
            // the destination (the common case: no hashing).
            let mut plain: Vec<u32> = vec![u32::MAX; in_table.len()];
            for d in 0..n {
                let (m0, m1) = (
                    masks[0].get(d).copied().unwrap_or(0),
                    masks[1].get(d).copied().unwrap_or(0),
                );
                if m0 == 0 && m1 == 0 && zero_empty {
                    ids_out.push(0);
                    continue;
                }
                let mut eg = [0u32, 1u32];
                for k in 0..2 {
                    let m = if k == 0 { m0 } else { m1 };
                    if k == 1 && same_plan && m1 == m0 {
                        eg[1] = eg[0];
                        continue;
                    }
                    if m == 0 {
                        continue;
                    }
                    let key = (m, if plans[k].named { sig[d] } else { usize::MAX });
                    let ev = if k == 0 { &ef } else { &et };
                    eg[k] = *memo[k].entry(key).or_insert_with(|| {
                        sets.push(egress_side(ev, &plans[k], m, d));
                        (sets.len() - 1) as u32
                    });
                }
                if sets[eg[0] as usize].is_empty() && sets[eg[1] as usize].is_empty() {
                    ids_out.push(0);
                    continue;
                }
                let side = &sides[d];
                let fast = if m0 == 0 && m1 == 0 && !side.generic {
                    Some(ingress_of(side, d))
                } else {
                    None
                };
                if let Some(gi) = fast {
                    let id = plain[gi as usize];
                    if id != u32::MAX {
                        ids_out.push(id);
                        continue;
                    }
                }
                let verdict_of = |i0: &ConnSet, i1: &ConnSet| {
                    let a = sets[eg[0] as usize].intersect(i0);
                    let b = sets[eg[1] as usize].intersect(i1);
                    let both = a.intersect(&b);
                    Verdict {
                        unknown: a.union(&b).minus(&both),
                        allowed: both,
                    }
                };
                let v = if side.generic {
                    let (i0, i1) = ingress_pair(pol, &o, d, s);
                    verdict_of(&i0, &i1)
                } else {
                    let gi = match fast {
                        Some(gi) => gi,
                        None => ingress_of(side, d),
                    };
                    if let Some(&id) = pairs.get(&(eg[0], eg[1], gi)) {
                        ids_out.push(id);
                        continue;
                    }
                    let (i0, i1) = &in_table[gi as usize];
                    let id = intern(&mut table, &mut seen, verdict_of(i0, i1));
                    pairs.insert((eg[0], eg[1], gi), id);
                    if m0 == 0 && m1 == 0 {
                        plain[gi as usize] = id;
                    }
                    ids_out.push(id);
                    continue;
                };
                ids_out.push(intern(&mut table, &mut seen, v));
            }
            Row {
                ids: RowIds::pack(ids_out, table.len()),
                table,
            }
        })
        .collect()
}

fn generic_row(r: &Reachability, o: &ClassOracle<'_>, s: usize) -> Row {
    let n = r.classes.len();
    let mut ids = Vec::with_capacity(n);
    let mut table: Vec<Verdict> = Vec::new();
    let mut seen: HashMap<Verdict, u32> = HashMap::default();
    for d in 0..n {
        let v = super::eval::verdict(&r.policies, o, Ep::Pod(s), Ep::Pod(d));
        let id = *seen.entry(v.clone()).or_insert_with(|| {
            table.push(v);
            (table.len() - 1) as u32
        });
        ids.push(id);
    }
    Row {
        ids: RowIds::pack(ids, table.len()),
        table,
    }
}
