//! Counts the nodes of loaded trees: a sizing aid for the located tree.
//! `cargo run --release -p ml-audit --example tree_stats -- DIR`
use ml_audit::{Node, Value};

#[derive(Default, Debug)]
struct C {
    nodes: usize,
    entries: usize,
    seq_items: usize,
    strs: usize,
    long_strs: usize,
    long_bytes: usize,
    long_keys: usize,
    maps: usize,
    seqs: usize,
}

fn walk(n: &Node, c: &mut C) {
    c.nodes += 1;
    match &n.value {
        Value::Str(s) => {
            c.strs += 1;
            if s.len() > 24 {
                c.long_strs += 1;
                c.long_bytes += s.len();
            }
        }
        Value::Seq(items) => {
            c.seqs += 1;
            c.seq_items += items.len();
            items.iter().for_each(|i| walk(i, c));
        }
        Value::Map(es) => {
            c.maps += 1;
            c.entries += es.len();
            for e in es {
                if e.key.len() > 24 {
                    c.long_keys += 1;
                }
                walk(&e.value, c);
            }
        }
        _ => {}
    }
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let loaded = ml_audit::load(
        &[ml_audit::Input::Path(dir.into())],
        &ml_audit::LoadOptions::default(),
    );
    let mut c = C::default();
    let wanted = std::env::args().nth(2).is_some();
    loaded.objects.iter().for_each(|o| walk(&o.root, &mut c));
    println!("{c:#?}");
    println!(
        "sizeof Node {} Entry {} Object {}",
        std::mem::size_of::<Node>(),
        std::mem::size_of::<ml_audit::Entry>(),
        std::mem::size_of::<ml_audit::Object>()
    );
    if wanted {
        let inv = ml_audit::Inventory::new(loaded);
        let containers: usize = inv.workloads.iter().map(|w| w.containers.len()).sum();
        println!(
            "workloads {} containers {} sizeof Workload {} PodSpec {} Container {}",
            inv.workloads.len(),
            containers,
            std::mem::size_of::<ml_audit::Workload>(),
            std::mem::size_of::<k8s_openapi::api::core::v1::PodSpec>(),
            std::mem::size_of::<k8s_openapi::api::core::v1::Container>()
        );
    }
}
