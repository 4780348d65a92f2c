//! Times the RBAC graph at the scale and reports peak memory
//! (VmHWM from /proc/self/status): `cargo run --release --example rbac_scale [DIR]`
//! (generated RBAC objects, or the manifests under DIR).

use std::time::Instant;

use ml_audit::rbac::RbacGraph;
use ml_audit::{Input, Inventory, LoadOptions};

#[path = "../benches/rbac_gen.rs"]
mod rbac_gen;

fn hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: unknown")
        .to_string()
}

fn main() {
    let t = Instant::now();
    let input = match std::env::args().nth(1) {
        Some(dir) => Input::Path(dir.into()),
        None => Input::Text {
            name: "scale.yaml".into(),
            text: rbac_gen::generate(&rbac_gen::TARGET),
        },
    };
    let inv = Inventory::new(ml_audit::load(&[input], &LoadOptions::default()));
    println!(
        "inventory: {} objects in {:?}; {}",
        inv.objects.len(),
        t.elapsed(),
        hwm()
    );
    let t = Instant::now();
    let g = RbacGraph::build(&inv);
    let built = t.elapsed();
    let closure = g.closure();
    let admins = g.cluster_admin_equivalent();
    let total = t.elapsed();
    let reach: usize = (0..g.node_count())
        .map(|n| closure.count(n))
        .max()
        .unwrap_or(0);
    println!(
        "graph: {} nodes, {} edges; build {:?}, build+closure+admin paths {:?}; {} cluster-admin equivalent; widest reach {} nodes; {}",
        g.node_count(),
        g.edge_count(),
        built,
        total,
        admins.len(),
        reach,
        hwm()
    );
    let mut by_kind = std::collections::BTreeMap::new();
    for (_, _, e) in g.edges() {
        *by_kind.entry(e.kind.as_str()).or_insert(0usize) += 1;
    }
    println!("edges by kind: {by_kind:?}");
}
