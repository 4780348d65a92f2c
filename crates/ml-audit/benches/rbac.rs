//! RBAC graph at scale: build plus the escalation closure of every subject,
//! on 5,000 ServiceAccounts, 20,000 Roles/ClusterRoles and 40,000 bindings
//! across 1,000 namespaces. Peak memory: `cargo run --release --example rbac_scale`.

use criterion::{criterion_group, criterion_main, Criterion};
use ml_audit::rbac::RbacGraph;
use ml_audit::{Input, Inventory, LoadOptions};

mod rbac_gen;

fn bench(c: &mut Criterion) {
    let text = rbac_gen::generate(&rbac_gen::TARGET);
    let inv = Inventory::new(ml_audit::load(
        &[Input::Text {
            name: "scale.yaml".into(),
            text,
        }],
        &LoadOptions::default(),
    ));
    let mut g = c.benchmark_group("rbac");
    g.sample_size(10);
    g.bench_function("build+closure 5k SA / 20k roles / 40k bindings", |b| {
        b.iter(|| {
            let graph = RbacGraph::build(&inv);
            let closure = graph.closure();
            let admins = graph.cluster_admin_equivalent();
            (graph.node_count(), closure.count(0), admins.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
