//! Sensitive ML services reachable from another tenant.
use crate::rules::prelude::*;
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use super::{peer_site, reach};
use crate::finding::Severity;
use crate::inventory::Inventory;
use crate::netpol::conn::Protocol;
use crate::netpol::{Endpoint, Peer, Reachability};

declare_rule! {
    id: "cross-tenant-ml-port", category: "network", severity: High, inventory: check,
    title: "Sensitive ML services must not be reachable from other tenants",
    options: [
        option!(
            "tenant-label",
            String,
            "none",
            "A namespace label (`team`) whose value names the tenant; without it, each namespace is a tenant."
        ),
        option!(
            "ports",
            PortList,
            "[6379, 8265, 10001, 8888, 5000, 6006, 8080, 8081, 8082, 8000, 8001, 8002, 8500, 8501]",
            "The sensitive ports checked (replaces the list)."
        ),
    ],
}

/// Ray head (GCS 6379, dashboard/jobs 8265, client 10001), Jupyter 8888,
/// MLflow 5000, TensorBoard 6006, model servers (KServe/TorchServe 8080,
/// 8081, 8082; Triton 8000-8002; TF Serving 8500, 8501).
const DEFAULT_PORTS: &[u16] = &[
    6379, 8265, 10001, 8888, 5000, 6006, 8080, 8081, 8082, 8000, 8001, 8002, 8500, 8501,
];

fn tenant(r: &Reachability, label: Option<&str>, ns: usize) -> String {
    let n = &r.namespaces[ns];
    label
        .and_then(|l| n.labels.get(l))
        .cloned()
        .unwrap_or_else(|| n.name.clone())
}

/// Sensitive ports the peer serves: declared container ports, plus the ports
/// its kind implies (a Ray head, a Notebook, an InferenceService).
fn served(inv: &Inventory, p: &Peer, ports: &[u16]) -> BTreeMap<u16, Option<Pointer>> {
    let mut out = BTreeMap::new();
    for &wi in &p.workloads {
        for c in &inv.workloads[wi].containers {
            for (j, cp) in c.spec.ports.iter().flatten().enumerate() {
                let proto = cp
                    .protocol
                    .as_deref()
                    .and_then(Protocol::parse)
                    .unwrap_or(Protocol::Tcp);
                if let Ok(n) = u16::try_from(cp.container_port) {
                    if proto == Protocol::Tcp && ports.contains(&n) {
                        out.entry(n).or_insert_with(|| {
                            Some(c.pointer.key("ports").idx(j).key("containerPort"))
                        });
                    }
                }
            }
        }
    }
    let implied: &[u16] = match p.kind.as_str() {
        "RayCluster" | "RayService" | "RayJob" if p.name.ends_with("(head)") => {
            &[6379, 8265, 10001]
        }
        "Notebook" => &[8888],
        "InferenceService" => &[8080],
        _ => &[],
    };
    for n in implied {
        if ports.contains(n) {
            out.entry(*n).or_insert(None);
        }
    }
    out
}

/// The sources that reach a target: the first three peers (in class order)
/// and how many in all, sure ones and maybe ones.
#[derive(Clone, Default)]
struct Reached {
    sure: (Vec<usize>, usize),
    maybe: (Vec<usize>, usize),
}

/// Source classes arranged for counting without reading every cell of the
/// matrix: the model stores a row as a default row shared by many sources
/// plus the cells where it differs. A source with no cell of its own at a
/// destination answers as its default row does, so such sources are counted
/// per default row; only the others are looked at one by one.
struct Sources<'a> {
    /// The model.
    r: &'a Reachability,
    /// Real (not synthetic) peers of each class.
    real: &'a [Vec<usize>],
    /// Tenant of each class.
    tenant: Vec<usize>,
    /// Classes with real peers whose rows are stored whole.
    whole: Vec<u32>,
    /// Per destination class, the classes with real peers and a cell of
    /// their own there (sorted).
    own: Vec<Vec<u32>>,
    /// Per default row, the classes stored with it.
    families: Vec<Family>,
}

/// The classes with real peers whose rows share one default row.
#[derive(Clone, Default)]
struct Family {
    /// The classes, sorted.
    classes: Vec<u32>,
    /// Their real peers.
    peers: usize,
    /// Their real peers per tenant.
    by_tenant: HashMap<usize, usize>,
}

impl<'a> Sources<'a> {
    fn new(r: &'a Reachability, real: &'a [Vec<usize>], tenant_of: &[usize]) -> Self {
        let n = r.classes.len();
        let mut s = Sources {
            r,
            real,
            tenant: r.classes.iter().map(|c| tenant_of[c.ns]).collect(),
            whole: Vec::new(),
            own: vec![Vec::new(); n],
            families: vec![Family::default(); r.default_rows()],
        };
        for (ci, peers) in real.iter().enumerate() {
            if peers.is_empty() {
                continue;
            }
            match r.row_shape(ci) {
                None => s.whole.push(ci as u32),
                Some((default, dests)) => {
                    for &d in dests {
                        s.own[d as usize].push(ci as u32);
                    }
                    let f = &mut s.families[default];
                    f.classes.push(ci as u32);
                    f.peers += peers.len();
                    *f.by_tenant.entry(s.tenant[ci]).or_default() += peers.len();
                }
            }
        }
        s
    }

    /// Who reaches TCP `port` of destination class `dc` from a tenant other
    /// than `tenant`.
    fn reach(&self, dc: usize, port: u16, tenant: usize) -> Reached {
        let r = self.r;
        let bucket = |v: &crate::netpol::eval::Verdict| {
            if v.allowed.contains(Protocol::Tcp, port) {
                Some(0)
            } else if v.unknown.contains(Protocol::Tcp, port) {
                Some(1)
            } else {
                None
            }
        };
        let mut counts = [0usize; 2];
        // Candidate classes for the first three peers of each bucket.
        let mut first: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
        let own = &self.own[dc];
        // Classes with a cell of their own here, or a whole row: one by one.
        // Those with a default row are taken out of its count below.
        let mut taken = vec![0usize; self.families.len()];
        let mut direct: Vec<u32> = own.iter().chain(&self.whole).copied().collect();
        direct.sort_unstable();
        for ci in direct {
            let ci = ci as usize;
            if self.tenant[ci] == tenant {
                continue;
            }
            let peers = self.real[ci].len();
            if let Some((default, _)) = r.row_shape(ci) {
                taken[default] += peers;
            }
            if let Some(b) = bucket(r.class_verdict(ci, dc)) {
                counts[b] += peers;
                if first[b].len() < 3 {
                    first[b].push(ci as u32);
                }
            }
        }
        // Every other class answers as its default row.
        for (f, family) in self.families.iter().enumerate() {
            let Some(b) = bucket(r.default_verdict(f, dc)) else {
                continue;
            };
            let same_tenant = family.by_tenant.get(&tenant).copied().unwrap_or(0);
            counts[b] += family.peers - same_tenant - taken[f];
            first[b].extend(
                family
                    .classes
                    .iter()
                    .copied()
                    .filter(|&ci| {
                        self.tenant[ci as usize] != tenant && own.binary_search(&ci).is_err()
                    })
                    .take(3),
            );
        }
        // The first three peers, in class order. (Each class has a real
        // peer, so the first three classes of each list hold them.)
        let peers_of = |mut classes: Vec<u32>| -> Vec<usize> {
            classes.sort_unstable();
            classes
                .iter()
                .flat_map(|&ci| self.real[ci as usize].iter().copied())
                .take(3)
                .collect()
        };
        let [sure, maybe] = first;
        Reached {
            sure: (peers_of(sure), counts[0]),
            maybe: (peers_of(maybe), counts[1]),
        }
    }
}

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let r = reach(cx);
    let inv = cx.inventory;
    let label: Option<String> = cx.settings.get(&META, "tenant-label");
    let ports: Vec<u16> = cx
        .settings
        .get(&META, "ports")
        .unwrap_or_else(|| DEFAULT_PORTS.to_vec());
    // Tenants interned per namespace; a class lies in one namespace, so
    // one comparison per class decides for all of its peers.
    let mut interned: HashMap<String, usize> = HashMap::new();
    let tenant_of: Vec<usize> = (0..r.namespaces.len())
        .map(|n| {
            let t = tenant(&r, label.as_deref(), n);
            let k = interned.len();
            *interned.entry(t).or_insert(k)
        })
        .collect();
    let real: Vec<Vec<usize>> = r
        .classes
        .iter()
        .map(|c| {
            c.peers
                .iter()
                .copied()
                .filter(|&s| !r.peers[s].synthetic)
                .collect()
        })
        .collect();
    let policy_index: HashMap<String, usize> = r
        .policies
        .netpols
        .iter()
        .enumerate()
        .map(|(i, np)| (format!("{}/{}", np.namespace, np.name), i))
        .collect();
    // Every (destination, sensitive port) first; then one pass over the
    // source classes, row by row (the matrix is stored by source, so
    // this reads each row once instead of every row per destination).
    // Per target: the first three sources (for the message) and how
    // many in all, sure ones and maybe ones.
    struct Target {
        d: usize,
        port: u16,
        ptr: Option<Pointer>,
        tenant: usize,
        sure: (Vec<usize>, usize),
        maybe: (Vec<usize>, usize),
    }
    let mut targets: Vec<Target> = Vec::new();
    for (d, dp) in r.peers.iter().enumerate() {
        if dp.synthetic {
            continue;
        }
        for (port, ptr) in served(inv, dp, &ports) {
            targets.push(Target {
                d,
                port,
                ptr,
                tenant: tenant_of[dp.ns],
                sure: (Vec::new(), 0),
                maybe: (Vec::new(), 0),
            });
        }
    }
    // Targets with the same destination class, port and tenant get the
    // same verdict from every source: one lookup per group.
    let mut groups: BTreeMap<(usize, u16, usize), Vec<usize>> = BTreeMap::new();
    for (i, t) in targets.iter().enumerate() {
        groups
            .entry((r.class_of[t.d], t.port, t.tenant))
            .or_default()
            .push(i);
    }
    let groups: Vec<((usize, u16, usize), Vec<usize>)> = groups.into_iter().collect();
    // What sources reach each group: the first three (for the message)
    // and how many, sure and maybe, with sources met in class order.
    let sources = Sources::new(&r, &real, &tenant_of);
    let reached: Vec<Reached> = groups
        .par_iter()
        .map(|((dc, port, tenant), _)| sources.reach(*dc, *port, *tenant))
        .collect();
    for ((_, members), a) in groups.iter().zip(reached) {
        for &m in members {
            targets[m].sure = a.sure.clone();
            targets[m].maybe = a.maybe.clone();
        }
    }
    // One finding per target that other tenants reach, made in
    // parallel (each explains one path).
    out.par_extend(targets.into_par_iter().filter_map(|t| {
        let (d, port, ptr) = (t.d, t.port, t.ptr);
        let dp = &r.peers[d];
        let dt = tenant(&r, label.as_deref(), dp.ns);
        {
            let ((srcs, total), certain) = if t.sure.1 > 0 {
                (t.sure, true)
            } else if t.maybe.1 > 0 {
                (t.maybe, false)
            } else {
                return None;
            };
            let (obj, pod_ptr) = peer_site(inv, dp)?;
            let ptr = ptr.unwrap_or(pod_ptr);
            let names: Vec<String> = srcs.iter().map(|&s| r.peers[s].display()).collect();
            let more = total.saturating_sub(srcs.len());
            let e = r.explain(Endpoint::Peer(srcs[0]), Endpoint::Peer(d));
            let msg =
                format!(
                "{} {} TCP {port} from tenant `{}` ({}{}), not only from its own tenant `{dt}`",
                dp.display(),
                if certain { "accepts" } else { "may accept" },
                tenant(&r, label.as_deref(), r.peers[srcs[0]].ns),
                names.join(", "),
                if more > 0 { format!(", and {more} more") } else { String::new() },
            );
            let mut f = cx
                .finding(&META, obj, &ptr, msg)
                .help("restrict ingress to this port to the tenant's own namespaces (namespaceSelector on the tenant label), or deny it across tenants with an AdminNetworkPolicy");
            if !certain {
                f = f.severity(Severity::Medium);
                if let Some(reason) = e.reasons.first() {
                    f.message.push_str(&format!(": unknown because {reason}"));
                }
            }
            for s in e.steps.iter().filter(|s| {
                s.verdict == "allow" && s.direction == "ingress" && s.tier != "default"
            }) {
                if let Some(np) = policy_index.get(&s.policy).map(|&i| &r.policies.netpols[i]) {
                    let o = inv.object(np.object);
                    let rp = s
                        .rule
                        .map(|i| Pointer::root().keys(&["spec", "ingress"]).idx(i))
                        .unwrap_or_else(|| Pointer::root().key("spec"));
                    f = f.with_related(cx.related(o, &rp, "allowed by this rule"));
                }
            }
            Some(f)
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netpol::Options;

    /// The plain count: every source class, one cell at a time.
    fn naive(
        r: &Reachability,
        real: &[Vec<usize>],
        tenant_of: &[usize],
        dc: usize,
        port: u16,
        tenant: usize,
    ) -> Reached {
        let mut a = Reached::default();
        for (ci, class) in r.classes.iter().enumerate() {
            if real[ci].is_empty() || tenant_of[class.ns] == tenant {
                continue;
            }
            let v = r.class_verdict(ci, dc);
            let bucket = if v.allowed.contains(Protocol::Tcp, port) {
                &mut a.sure
            } else if v.unknown.contains(Protocol::Tcp, port) {
                &mut a.maybe
            } else {
                continue;
            };
            for &s in &real[ci] {
                if bucket.0.len() < 3 {
                    bucket.0.push(s);
                }
            }
            bucket.1 += real[ci].len();
        }
        a
    }

    /// A small random platform: namespaces of two teams, workloads with
    /// ports, ingress and egress policies within and across namespaces, an
    /// AdminNetworkPolicy now and then (so that sources differ in what they
    /// let out to strangers), and many rules at times (rows stored whole).
    fn platform(seed: u64) -> String {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut n = |k: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % k
        };
        let mut docs = Vec::new();
        let nss = 2 + n(6);
        for ns in 0..nss {
            if n(4) > 0 {
                docs.push(format!(
                    "apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{ns}, labels: {{team: t{}}}}}",
                    n(2)
                ));
            }
        }
        for w in 0..(2 + n(40)) {
            docs.push(format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{w}, namespace: ns{}}}\nspec:\n  template:\n    metadata: {{labels: {{app: a{}}}}}\n    spec: {{containers: [{{name: c, image: i, ports: [{{name: http, containerPort: {}}}]}}]}}",
                n(nss),
                n(6),
                [8080, 8888, 6379, 80][n(4) as usize]
            ));
        }
        for p in 0..n(8) {
            let peer = match n(4) {
                0 => format!("{{podSelector: {{matchLabels: {{app: a{}}}}}}}", n(3)),
                1 => format!("{{namespaceSelector: {{matchLabels: {{team: t{}}}}}}}", n(2)),
                2 => "{namespaceSelector: {}}".to_string(),
                _ => format!(
                    "{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns{}}}}}, podSelector: {{matchLabels: {{app: a{}}}}}}}",
                    n(nss),
                    n(3)
                ),
            };
            let ports = ["", ", ports: [{port: 8080}]", ", ports: [{port: http}]"][n(3) as usize];
            let (dir, key) = if n(3) == 0 {
                ("egress", "to")
            } else {
                ("ingress", "from")
            };
            let count = match n(4) {
                0 if dir == "egress" => 0,
                1 => 70,
                _ => 1,
            };
            let rules: Vec<String> = (0..count)
                .map(|_| format!("  - {{{key}: [{peer}]{ports}}}"))
                .collect();
            let rules = if rules.is_empty() {
                " []".to_string()
            } else {
                format!("\n{}", rules.join("\n"))
            };
            docs.push(format!(
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np{p}, namespace: ns{}}}\nspec:\n  podSelector: {{matchLabels: {{app: a{}}}}}\n  {dir}:{rules}",
                n(nss),
                n(3),
            ));
        }
        if n(2) == 0 {
            docs.push(format!(
                "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {{name: anp}}\nspec:\n  priority: 1\n  subject: {{namespaces: {{matchLabels: {{team: t{}}}}}}}\n  egress:\n  - {{name: e, action: Deny, to: [{{namespaces: {{matchLabels: {{team: t{}}}}}}}]}}",
                n(2),
                n(2)
            ));
        }
        docs.join("\n---\n")
    }

    /// Counting per default row gives what reading every cell gives: for
    /// every destination class, port and tenant, with tenants by namespace
    /// and by team.
    #[test]
    fn counting_by_default_rows_matches_reading_every_cell() {
        let mut shapes = (0, 0);
        for seed in 0..400 {
            let text = platform(seed);
            let inv = Inventory::from_text("gen.yaml", &text);
            let r = Reachability::build(&inv, &Options::default());
            let real: Vec<Vec<usize>> = r.classes.iter().map(|c| c.peers.clone()).collect();
            for ci in 0..r.classes.len() {
                match r.row_shape(ci) {
                    Some(_) => shapes.0 += 1,
                    None => shapes.1 += 1,
                }
            }
            let by_ns: Vec<usize> = (0..r.namespaces.len()).collect();
            let by_team: Vec<usize> = r
                .namespaces
                .iter()
                .map(|n| usize::from(n.labels.get("team").is_some_and(|t| t == "t1")))
                .collect();
            for tenant_of in [&by_ns, &by_team] {
                let sources = Sources::new(&r, &real, tenant_of);
                for dc in 0..r.classes.len() {
                    for port in [8080, 8888, 6379, 80] {
                        for tenant in 0..r.namespaces.len() {
                            let got = sources.reach(dc, port, tenant);
                            let want = naive(&r, &real, tenant_of, dc, port, tenant);
                            assert_eq!(
                                (got.sure, got.maybe),
                                (want.sure, want.maybe),
                                "class {dc}, port {port}, tenant {tenant}\n{text}"
                            );
                        }
                    }
                }
            }
        }
        // Both ways of storing a row were met.
        assert!(shapes.0 > 100 && shapes.1 > 100, "{shapes:?}");
    }
}
