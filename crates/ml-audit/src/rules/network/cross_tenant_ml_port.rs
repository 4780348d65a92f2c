//! Sensitive ML services reachable from another tenant.
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use super::{peer_site, reach};
use crate::finding::{Finding, Severity};
use crate::inventory::Inventory;
use crate::netpol::conn::Protocol;
use crate::netpol::{Endpoint, Peer, Reachability};
use crate::node::Pointer;
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;

pub static META: RuleMeta = RuleMeta::builtin(
    "cross-tenant-ml-port",
    "network",
    Severity::High,
    "Sensitive ML services must not be reachable from other tenants",
    rule_doc!("cross-tenant-ml-port"),
);

/// Ray head (GCS 6379, dashboard/jobs 8265, client 10001), Jupyter 8888,
/// MLflow 5000, TensorBoard 6006, model servers (KServe/TorchServe 8080,
/// 8081, 8082; Triton 8000-8002; TF Serving 8500, 8501).
const DEFAULT_PORTS: &[u16] = &[
    6379, 8265, 10001, 8888, 5000, 6006, 8080, 8081, 8082, 8000, 8001, 8002, 8500, 8501,
];

pub struct CrossTenantMlPort;

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

impl Rule for CrossTenantMlPort {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_inventory(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let r = reach(cx);
        let inv = cx.inventory;
        let label: Option<String> = cx.settings.get(&META.id, "tenant-label");
        let ports: Vec<u16> = cx
            .settings
            .get(&META.id, "ports")
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
        // What sources reach a group: the first three (for the message) and
        // how many, sure and maybe. Groups are split into chunks that run in
        // parallel; each chunk reads the matrix row by row, and sources are
        // met in class order, so the result does not depend on the split.
        #[derive(Clone, Default)]
        struct Reached {
            sure: (Vec<usize>, usize),
            maybe: (Vec<usize>, usize),
        }
        let chunk = (groups.len() / (4 * rayon::current_num_threads())).clamp(64, 8192);
        let reached: Vec<Reached> = groups
            .par_chunks(chunk)
            .flat_map_iter(|part| {
                let mut acc = vec![Reached::default(); part.len()];
                for (ci, class) in r.classes.iter().enumerate() {
                    if real[ci].is_empty() {
                        continue;
                    }
                    let ct = tenant_of[class.ns];
                    for (((_, port, tenant), members), a) in part.iter().zip(acc.iter_mut()) {
                        if *tenant == ct {
                            continue;
                        }
                        let v = r.between(class.rep, targets[members[0]].d);
                        let bucket = if v.allowed.contains(Protocol::Tcp, *port) {
                            &mut a.sure
                        } else if v.unknown.contains(Protocol::Tcp, *port) {
                            &mut a.maybe
                        } else {
                            continue;
                        };
                        for &s in &real[ci] {
                            if bucket.0.len() == 3 {
                                break;
                            }
                            bucket.0.push(s);
                        }
                        bucket.1 += real[ci].len();
                    }
                }
                acc
            })
            .collect();
        for ((_, members), a) in groups.iter().zip(reached) {
            for &m in members {
                targets[m].sure = a.sure.clone();
                targets[m].maybe = a.maybe.clone();
            }
        }
        for t in targets {
            let (d, port, ptr) = (t.d, t.port, t.ptr);
            let dp = &r.peers[d];
            let dt = tenant(&r, label.as_deref(), dp.ns);
            {
                let ((srcs, total), certain) = if t.sure.1 > 0 {
                    (t.sure, true)
                } else if t.maybe.1 > 0 {
                    (t.maybe, false)
                } else {
                    continue;
                };
                let Some((obj, pod_ptr)) = peer_site(inv, dp) else {
                    continue;
                };
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
                out.push(f);
            }
        }
    }
}
