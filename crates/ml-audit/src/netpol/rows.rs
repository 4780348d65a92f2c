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
use super::{ClassOracle, DenseRow, Reachability, Row, RowIds};

/// The classes one rule's peers match (a bitset over classes), under both
/// assumptions about namespace labels the input does not declare.
struct ClassMatches {
    /// Matched when undeclared labels are taken not to match (the rule
    /// surely matches these classes).
    certain: Vec<u64>,
    /// Matched when undeclared labels are taken to match (the rule may
    /// match these classes; a superset of `certain`).
    possible: Vec<u64>,
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
    fn rule_bits(&self, r: &RuleSpec, home: Option<usize>, layout: &Layout) -> ClassMatches {
        let words = self.classes.len().div_ceil(64).max(1);
        let mut b = ClassMatches {
            certain: vec![0; words],
            possible: vec![0; words],
        };
        let Some(peers) = &r.peers else {
            for c in 0..self.classes.len() {
                set(&mut b.certain, c);
                set(&mut b.possible, c);
            }
            return b;
        };
        for p in peers {
            let PeerSpec::Pods { ns, pod } = p else {
                continue;
            };
            let home = home.map(|n| (n, Tri::Yes));
            let namespaces = match ns {
                Some(s) => &layout.sel_ns[*s][..],
                None => home.as_slice(),
            };
            for &(n, tri) in namespaces {
                for &c in &layout.by_ns[n] {
                    let cl = &self.classes[c];
                    if cl.pod_bits[pod / 64] >> (pod % 64) & 1 == 1 {
                        if tri == Tri::Yes {
                            set(&mut b.certain, c);
                        }
                        set(&mut b.possible, c);
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
    /// The ingress side for a source no rule's peers name but those that
    /// take in every class (the common case: the rows take it without
    /// hashing).
    zero: Option<u32>,
    /// The masks of such a source.
    stranger: (u64, u64),
}

impl InSide {
    /// The ingress side (an index into the shared table) for source `s`.
    fn of(&self, bits: &[ClassMatches], s: usize) -> u32 {
        self.fixed
            .unwrap_or_else(|| self.memo[&self.masks(bits, s)])
    }

    /// Which of this side's rules match source `s`: (surely, possibly).
    fn masks(&self, bits: &[ClassMatches], s: usize) -> (u64, u64) {
        let (mut certain, mut possible) = (0u64, 0u64);
        for (i, &b) in self.rules.iter().enumerate() {
            let (w, o) = (s / 64, s % 64);
            certain |= (bits[b].certain[w] >> o & 1) << i;
            possible |= (bits[b].possible[w] >> o & 1) << i;
        }
        (certain, possible)
    }
}

/// The classes of each namespace, and the namespaces each namespace
/// selector may match (with its answer), so that a rule visits only the
/// namespaces its peers can be in.
struct Layout {
    by_ns: Vec<Vec<usize>>,
    sel_ns: Vec<Vec<(usize, Tri)>>,
}

impl Layout {
    fn new(r: &Reachability) -> Layout {
        let mut by_ns: Vec<Vec<usize>> = vec![Vec::new(); r.namespaces.len()];
        for (c, cl) in r.classes.iter().enumerate() {
            by_ns[cl.ns].push(c);
        }
        let mut sel_ns: Vec<Vec<(usize, Tri)>> = vec![Vec::new(); r.policies.ns_sels.list.len()];
        for (n, answers) in r.ns_table.iter().enumerate() {
            for (sel, &tri) in answers.iter().enumerate() {
                if tri != Tri::No {
                    sel_ns[sel].push((n, tri));
                }
            }
        }
        Layout { by_ns, sel_ns }
    }
}

/// The rule bitsets of one direction (ANPs, NetworkPolicies, then the BANP)
/// and where each policy's rules start among them.
fn rule_bitsets<'p>(
    r: &'p Reachability,
    layout: &Layout,
    ingress: bool,
) -> (Vec<ClassMatches>, Ids) {
    use rayon::prelude::*;
    let pol = &r.policies;
    let pick = |a: &'p AdminPol| -> &'p [RuleSpec] {
        if ingress {
            &a.ingress
        } else {
            &a.egress
        }
    };
    // Every rule with the namespace its pod selectors default to.
    let mut rules: Vec<(&RuleSpec, Option<usize>)> = Vec::new();
    let mut ids = Ids {
        anp: Vec::new(),
        np: Vec::new(),
        banp: 0,
    };
    for a in &pol.anps {
        ids.anp.push(rules.len());
        rules.extend(pick(a).iter().map(|rule| (rule, None)));
    }
    for (ni, np) in pol.netpols.iter().enumerate() {
        ids.np.push(rules.len());
        let own = if ingress { &np.ingress } else { &np.egress };
        rules.extend(own.iter().flatten().map(|rule| (rule, r.np_ns[ni])));
    }
    ids.banp = rules.len();
    if let Some(b) = &pol.banp {
        rules.extend(pick(b).iter().map(|rule| (rule, None)));
    }
    let bits = rules
        .par_iter()
        .map(|(rule, home)| r.rule_bits(rule, *home, layout))
        .collect();
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

/// The id of a value (a verdict, an ingress side, a default row's key) in
/// a table of distinct values, adding it when new.
fn intern<T: Clone + Eq + std::hash::Hash>(
    table: &mut Vec<T>,
    seen: &mut HashMap<T, u32>,
    v: T,
) -> u32 {
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

/// Computes every row of the class matrix, and the default rows that sparse
/// rows refer to.
pub(super) fn compute_rows(r: &Reachability) -> (Vec<Row>, Vec<DenseRow>) {
    use rayon::prelude::*;
    let o = ClassOracle { r };
    let pol = &r.policies;
    let n = r.classes.len();
    let layout = Layout::new(r);
    let (bits, ids) = rule_bitsets(r, &layout, false);
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
    let (in_bits, in_ids) = rule_bitsets(r, &layout, true);
    // The sources each ingress rule's peers take in (under either
    // assumption).
    let rule_members: Vec<Vec<u32>> = in_bits
        .par_iter()
        .map(|b| {
            let mut v = Vec::new();
            for_each_bit(&b.possible, n, |c| v.push(c as u32));
            v
        })
        .collect();
    // A rule whose peers take in every class under both assumptions names
    // no source in particular: it gives every source the same answer.
    let universal: Vec<bool> = in_bits
        .iter()
        .zip(&rule_members)
        .map(|(b, m)| {
            m.len() == n
                && b.certain
                    .iter()
                    .map(|w| w.count_ones() as usize)
                    .sum::<usize>()
                    == n
        })
        .collect();
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
                stranger: (0, 0),
            };
            let mut local = Vec::new();
            if side.generic {
                return (side, local);
            }
            // Only the sources some rule's peers name can have a mask of
            // their own; every other source (a stranger) has the mask of the
            // universal rules alone, and the first of them stands for all
            // (with no rule, that is every source). So the cost is the
            // rules' reach, not all sources.
            for (i, &b) in side.rules.iter().enumerate() {
                if universal[b] {
                    side.stranger.0 |= 1 << i;
                    side.stranger.1 |= 1 << i;
                }
            }
            let mut sources: Vec<u32> = side
                .rules
                .iter()
                .filter(|&&b| !universal[b])
                .flat_map(|&b| rule_members[b].iter().copied())
                .collect();
            sources.sort_unstable();
            sources.dedup();
            let stranger = (0..n as u32)
                .zip(sources.iter().copied().chain(std::iter::repeat(u32::MAX)))
                .find(|(i, c)| i != c)
                .map(|(i, _)| i);
            if let Some(z) = stranger {
                sources.insert(z as usize, z);
            }
            for s in sources {
                let s = s as usize;
                let key = side.masks(&in_bits, s);
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
                .map(|pair| intern(&mut in_table, &mut in_seen, pair))
                .collect();
            for v in side.memo.values_mut() {
                *v = remap[*v as usize];
            }
            if side.rules.is_empty() && !side.generic {
                side.fixed = side.memo.get(&(0, 0)).copied();
            }
            side.zero = side.memo.get(&side.stranger).copied();
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
            for &b in side.rules.iter().filter(|&&b| !universal[b]) {
                rule_dests[b].push(d as u32);
            }
        }
    }
    let mut member_rules: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (b, members) in rule_members.iter().enumerate() {
        if rule_dests[b].is_empty() {
            continue;
        }
        for &c in members {
            member_rules[c as usize].push(b as u32);
        }
    }
    let generic_dests: Vec<u32> = sides
        .iter()
        .enumerate()
        .filter(|(_, side)| side.generic)
        .map(|(d, _)| d as u32)
        .collect();
    let shared = RowInputs {
        reach: r,
        oracle: &o,
        ingress_sides: &sides,
        ingress_matches: &in_bits,
        ingress_table: &in_table,
        port_signature: &sig,
        egress_matches: &bits,
        egress_ids: &ids,
        member_rules: &member_rules,
        rule_dests: &rule_dests,
        generic_dests: &generic_dests,
    };
    let built: Vec<(Row, Option<(ConnSet, ConnSet)>)> = (0..n)
        .into_par_iter()
        .map(|s| source_row(&shared, s))
        .collect();
    // One default row per distinct egress-to-strangers answer.
    let mut keys: Vec<(ConnSet, ConnSet)> = Vec::new();
    let mut key_ids: HashMap<(ConnSet, ConnSet), u32> = HashMap::default();
    let rows: Vec<Row> = built
        .into_iter()
        .map(|(mut row, key)| {
            if let (Row::Sparse { default, .. }, Some(key)) = (&mut row, key) {
                *default = intern(&mut keys, &mut key_ids, key) as usize;
            }
            row
        })
        .collect();
    let defaults = keys
        .par_iter()
        .map(|(e0, e1)| default_row(&shared, e0, e1))
        .collect();
    (rows, defaults)
}

/// What every row reads: the model, the ingress sides of the destinations,
/// the destinations' named-port signatures, the egress rule bitsets, and
/// which destinations' ingress rules name each source.
struct RowInputs<'a> {
    /// The model.
    reach: &'a Reachability,
    /// Named ports and policy answers per class.
    oracle: &'a ClassOracle<'a>,
    /// Per destination class, its ingress side.
    ingress_sides: &'a [InSide],
    /// Per ingress rule, the classes its peers match.
    ingress_matches: &'a [ClassMatches],
    /// The distinct ingress sides, which `ingress_sides` index.
    ingress_table: &'a [(ConnSet, ConnSet)],
    /// Per destination class, the id of its named-port set (classes with
    /// the same named ports get the same egress side).
    port_signature: &'a [usize],
    /// Per egress rule, the classes its peers match.
    egress_matches: &'a [ClassMatches],
    /// Where each policy's egress rules start in `egress_matches`.
    egress_ids: &'a Ids,
    /// Per source class, the ingress rules (not universal) whose peers
    /// take it in.
    member_rules: &'a [Vec<u32>],
    /// Per ingress rule, the destinations it applies to.
    rule_dests: &'a [Vec<u32>],
    /// The destinations whose ingress is evaluated pair by pair.
    generic_dests: &'a [u32],
}

/// The classes an applied egress rule matches under assumption `k` (0:
/// unknown namespace labels do not match, 1: they do).
fn rule_set<'b>(bits: &'b [ClassMatches], a: &Applied<'_>, k: usize) -> &'b [u64] {
    if k == 0 {
        &bits[a.bits].certain
    } else {
        &bits[a.bits].possible
    }
}

/// The row of source class `s`, and the key of its default row when it is
/// stored sparse.
fn source_row(sh: &RowInputs<'_>, s: usize) -> (Row, Option<(ConnSet, ConnSet)>) {
    let (r, n) = (sh.reach, sh.ingress_sides.len());
    let plans = [
        r.plan(s, false, sh.egress_ids),
        r.plan(s, true, sh.egress_ids),
    ];
    if plans.iter().any(|p| p.rules.len() > 64) {
        // too many rules for a mask: evaluate each pair
        return (Row::Dense(generic_row(r, sh.oracle, s)), None);
    }
    // A row is sparse when few cells differ from its default: the
    // destinations its egress rules match, those whose ingress rules name
    // it, and those whose ingress is evaluated pair by pair. Count before
    // collecting: a rule may match every class.
    let egress_bits: usize = (0..2)
        .flat_map(|k| plans[k].rules.iter().map(move |a| (k, a)))
        .map(|(k, a)| {
            rule_set(sh.egress_matches, a, k)
                .iter()
                .map(|w| w.count_ones() as usize)
                .sum::<usize>()
        })
        .sum();
    let naming: usize = sh.member_rules[s]
        .iter()
        .map(|&b| sh.rule_dests[b as usize].len())
        .sum();
    let mut cells = Cells::new(sh, s, &plans);
    if egress_bits + naming + sh.generic_dests.len() > n / 4 {
        return (Row::Dense(dense_row(cells)), None);
    }
    let masks = sparse_masks(&plans, sh.egress_matches, n);
    let mut named: Vec<u32> = sh.member_rules[s]
        .iter()
        .flat_map(|&b| sh.rule_dests[b as usize].iter().copied())
        .collect();
    named.sort_unstable();
    named.dedup();
    let mut dests: Vec<u32> = masks
        .iter()
        .map(|m| m.0)
        .chain(named.iter().copied())
        .chain(sh.generic_dests.iter().copied())
        .collect();
    dests.sort_unstable();
    dests.dedup();
    let mut out = Vec::with_capacity(dests.len());
    for &d in &dests {
        let (m0, m1) = match masks.binary_search_by_key(&d, |m| m.0) {
            Ok(i) => (masks[i].1, masks[i].2),
            Err(_) => (0, 0),
        };
        let is_named = named.binary_search(&d).is_ok();
        out.push(cells.cell(d as usize, m0, m1, is_named));
    }
    let default = cells.default_egress();
    let row = Row::Sparse {
        default: 0,
        dests,
        cells: cells.finish(out),
    };
    (row, Some(default))
}

/// The verdict of egress sets `e0`, `e1` (under each assumption) against
/// ingress sides `i0`, `i1`.
fn combine(e0: &ConnSet, e1: &ConnSet, i0: &ConnSet, i1: &ConnSet) -> Verdict {
    let a = e0.intersect(i0);
    let b = e1.intersect(i1);
    let both = a.intersect(&b);
    Verdict {
        unknown: a.union(&b).minus(&both),
        allowed: both,
    }
}

/// The default row of the sources whose egress lets `e0`, `e1` out to
/// destinations none of their rules name: each destination's answer for
/// sources none of its ingress rules name. (Destinations whose ingress is
/// evaluated pair by pair are never read from a default row.)
fn default_row(sh: &RowInputs<'_>, e0: &ConnSet, e1: &ConnSet) -> DenseRow {
    let mut table = vec![Verdict::default()];
    let mut ids = Vec::with_capacity(sh.ingress_sides.len());
    if e0.is_empty() && e1.is_empty() {
        ids.resize(sh.ingress_sides.len(), 0);
    } else {
        let mut seen: HashMap<Verdict, u32> = HashMap::default();
        seen.insert(Verdict::default(), 0);
        let mut by_side: Vec<u32> = vec![u32::MAX; sh.ingress_table.len()];
        for side in sh.ingress_sides {
            let gi = match side.zero {
                Some(z) if !side.generic => z as usize,
                _ => {
                    ids.push(0);
                    continue;
                }
            };
            if by_side[gi] == u32::MAX {
                let (i0, i1) = &sh.ingress_table[gi];
                by_side[gi] = intern(&mut table, &mut seen, combine(e0, e1, i0, i1));
            }
            ids.push(by_side[gi]);
        }
    }
    DenseRow {
        ids: RowIds::pack(ids, table.len()),
        table,
    }
}

/// The egress masks of a source's rules towards the destinations they
/// match, under each assumption, as (destination, mask, mask) sorted by
/// destination.
fn sparse_masks(plans: &[Plan<'_>; 2], bits: &[ClassMatches], n: usize) -> Vec<(u32, u64, u64)> {
    let mut hits: Vec<(u32, usize, usize)> = Vec::new();
    for (k, p) in plans.iter().enumerate() {
        for (i, a) in p.rules.iter().enumerate() {
            let b = if k == 0 {
                &bits[a.bits].certain
            } else {
                &bits[a.bits].possible
            };
            for_each_bit(b, n, |d| hits.push((d as u32, k, i)));
        }
    }
    hits.sort_unstable();
    let mut out: Vec<(u32, u64, u64)> = Vec::new();
    for (d, k, i) in hits {
        if out.last().is_none_or(|m| m.0 != d) {
            out.push((d, 0, 0));
        }
        let m = out.last_mut().expect("just pushed");
        if k == 0 {
            m.1 |= 1 << i;
        } else {
            m.2 |= 1 << i;
        }
    }
    out
}

/// Calls `f` with every set bit below `n`.
fn for_each_bit(bits: &[u64], n: usize, mut f: impl FnMut(usize)) {
    for (w, &word) in bits.iter().enumerate() {
        let mut x = word;
        while x != 0 {
            let i = w * 64 + x.trailing_zeros() as usize;
            x &= x - 1;
            if i < n {
                f(i);
            }
        }
    }
}

/// A whole row, one cell per destination.
fn dense_row(mut cells: Cells<'_, '_>) -> DenseRow {
    let sh = cells.sh;
    let n = sh.ingress_sides.len();
    let mut named = vec![false; n];
    for &b in &sh.member_rules[cells.s] {
        for &d in &sh.rule_dests[b as usize] {
            named[d as usize] = true;
        }
    }
    let masks: Vec<Vec<u64>> = cells
        .plans
        .iter()
        .enumerate()
        .map(|(k, p)| {
            if p.rules.is_empty() {
                return Vec::new();
            }
            let mut m = vec![0u64; n];
            for (i, a) in p.rules.iter().enumerate() {
                for_each_bit(rule_set(sh.egress_matches, a, k), n, |d| m[d] |= 1 << i);
            }
            m
        })
        .collect();
    let out = (0..n)
        .map(|d| {
            let m0 = masks[0].get(d).copied().unwrap_or(0);
            let m1 = masks[1].get(d).copied().unwrap_or(0);
            cells.cell(d, m0, m1, named[d])
        })
        .collect();
    cells.finish(out)
}

/// The cells of one source's row, with what they share: the egress sides
/// computed so far (by mask), the row's distinct verdicts, and caches.
struct Cells<'a, 'p> {
    sh: &'a RowInputs<'a>,
    s: usize,
    plans: &'p [Plan<'a>; 2],
    ef: Eval<'a, ClassOracle<'a>>,
    et: Eval<'a, ClassOracle<'a>>,
    same_plan: bool,
    /// Egress sides; 0 and 1 are those for destinations no rule matches.
    sets: Vec<ConnSet>,
    zero_empty: bool,
    memo: [HashMap<(u64, usize), u32>; 2],
    table: Vec<Verdict>,
    seen: HashMap<Verdict, u32>,
    /// (egress under each assumption, ingress) -> verdict id
    pairs: HashMap<(u32, u32, u32), u32>,
    /// The verdict id by ingress side, when no egress rule matches the
    /// destination (the common case: no hashing).
    plain: Vec<u32>,
}

impl<'a, 'p> Cells<'a, 'p> {
    fn new(sh: &'a RowInputs<'a>, s: usize, plans: &'p [Plan<'a>; 2]) -> Self {
        let pol = &sh.reach.policies;
        let ef = Eval::new(pol, sh.oracle, false, false);
        let et = Eval::new(pol, sh.oracle, true, false);
        let same_plan = plans[0].rules.len() == plans[1].rules.len()
            && plans[0].isolated == plans[1].isolated
            && plans[0]
                .rules
                .iter()
                .zip(plans[1].rules.iter())
                .all(|(a, b)| a.bits == b.bits);
        // no rule matching: the same for every destination
        let sets: Vec<ConnSet> = vec![
            egress_side(&ef, &plans[0], 0, s),
            egress_side(&et, &plans[1], 0, s),
        ];
        let zero_empty = sets[0].is_empty() && sets[1].is_empty();
        let mut seen: HashMap<Verdict, u32> = HashMap::default();
        seen.insert(Verdict::default(), 0);
        Cells {
            sh,
            s,
            plans,
            ef,
            et,
            same_plan,
            sets,
            zero_empty,
            memo: [HashMap::default(), HashMap::default()],
            table: vec![Verdict::default()],
            seen,
            pairs: HashMap::default(),
            plain: vec![u32::MAX; sh.ingress_table.len()],
        }
    }

    /// What the source's egress lets out to a destination none of its
    /// rules match, under each assumption (the key of its default row).
    fn default_egress(&self) -> (ConnSet, ConnSet) {
        let e1 = if self.same_plan { 0 } else { 1 };
        (self.sets[0].clone(), self.sets[e1].clone())
    }

    fn finish(self, ids: Vec<u32>) -> DenseRow {
        DenseRow {
            ids: RowIds::pack(ids, self.table.len()),
            table: self.table,
        }
    }

    /// The verdict id towards destination `d`, given the masks of the
    /// source's egress rules that match it and whether one of its ingress
    /// rules names the source.
    fn cell(&mut self, d: usize, m0: u64, m1: u64, named: bool) -> u32 {
        let sh = self.sh;
        let s = self.s;
        if m0 == 0 && m1 == 0 && self.zero_empty {
            return 0;
        }
        let mut eg = [0u32, 1u32];
        for k in 0..2 {
            let m = if k == 0 { m0 } else { m1 };
            if k == 1 && self.same_plan && m1 == m0 {
                eg[1] = eg[0];
                continue;
            }
            if m == 0 {
                continue;
            }
            let key = (
                m,
                if self.plans[k].named {
                    sh.port_signature[d]
                } else {
                    usize::MAX
                },
            );
            let ev = if k == 0 { &self.ef } else { &self.et };
            let sets = &mut self.sets;
            let plan = &self.plans[k];
            eg[k] = *self.memo[k].entry(key).or_insert_with(|| {
                sets.push(egress_side(ev, plan, m, d));
                (sets.len() - 1) as u32
            });
        }
        let (e0, e1) = (&self.sets[eg[0] as usize], &self.sets[eg[1] as usize]);
        if e0.is_empty() && e1.is_empty() {
            return 0;
        }
        let side = &sh.ingress_sides[d];
        if side.generic {
            let (i0, i1) = ingress_pair(&sh.reach.policies, sh.oracle, d, s);
            let v = combine(e0, e1, &i0, &i1);
            return intern(&mut self.table, &mut self.seen, v);
        }
        // (A destination with a fixed answer is never named: its `zero` is
        // that answer.)
        let gi = match side.zero {
            Some(z) if !named => z,
            _ => side.of(sh.ingress_matches, s),
        };
        let plain = m0 == 0 && m1 == 0;
        if plain && self.plain[gi as usize] != u32::MAX {
            return self.plain[gi as usize];
        }
        if let Some(&id) = self.pairs.get(&(eg[0], eg[1], gi)) {
            return id;
        }
        let (i0, i1) = &sh.ingress_table[gi as usize];
        let id = intern(&mut self.table, &mut self.seen, combine(e0, e1, i0, i1));
        self.pairs.insert((eg[0], eg[1], gi), id);
        if plain {
            self.plain[gi as usize] = id;
        }
        id
    }
}

fn generic_row(r: &Reachability, o: &ClassOracle<'_>, s: usize) -> DenseRow {
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
    DenseRow {
        ids: RowIds::pack(ids, table.len()),
        table,
    }
}
