//! Times the reachability model on the manifests under DIR and prints its
//! size: `cargo run --release -p ml-audit --example netpol_scale -- DIR`.
use std::time::Instant;

use ml_audit::netpol::{Options, Reachability};
use ml_audit::{Input, Inventory, LoadOptions};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let t = Instant::now();
    let inv = Inventory::new(ml_audit::load(
        &[Input::Path(dir.into())],
        &LoadOptions::default(),
    ));
    println!(
        "inventory: {} objects in {:?}",
        inv.objects.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let r = Reachability::build(&inv, &Options::default());
    println!(
        "reachability: {} namespaces, {} peers, {} classes, {} policies, {} class-pair cells stored; built in {:?}",
        r.namespaces.len(),
        r.peers.len(),
        r.classes.len(),
        r.policies.netpols.len(),
        r.class_pairs(),
        t.elapsed()
    );
}
