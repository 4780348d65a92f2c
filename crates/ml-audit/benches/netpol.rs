//! Reachability at scale: N workloads in N/20 namespaces with 6 policies per
//! namespace (10,000 workloads, 500 namespaces, 3,000 policies at the top).
//! Prints, per size, the classes, the time of one full build and the peak
//! resident memory of the process, then runs criterion on each size.
//!
//! `cargo bench --bench netpol -- --warm-up-time 1 --measurement-time 3`

use std::time::Instant;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ml_audit::netpol::{Options, Reachability};
use ml_audit::{Input, Inventory, LoadOptions};

const ROLES: [&str; 6] = ["web", "api", "db", "ray-head", "ray-worker", "notebook"];

/// An ML platform: per namespace 20 workloads of 6 roles (each with a unique
/// `instance` label no policy reads), a Namespace with a team label, and 6
/// policies: default deny, DNS egress, web from the ingress namespace, api
/// from web, db from api on 5432, the Ray head from the team's workers.
fn corpus(workloads: usize) -> String {
    let namespaces = workloads / 20;
    let mut s = String::with_capacity(workloads * 600);
    for n in 0..namespaces {
        let team = n % 50;
        s.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{n}, labels: {{team: t{team}, env: {}}}}}\n---\n",
            if n % 2 == 0 { "prod" } else { "dev" }
        ));
        for w in 0..20 {
            let role = ROLES[w % ROLES.len()];
            let port = match role {
                "db" => 5432,
                "ray-head" => 6379,
                "notebook" => 8888,
                _ => 8080,
            };
            s.push_str(&format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {role}-{w}, namespace: ns{n}}}\nspec:\n  template:\n    metadata: {{labels: {{app: {role}, instance: i{n}-{w}, team: t{team}}}}}\n    spec:\n      containers:\n      - name: main\n        image: example/{role}:1\n        ports: [{{name: main, containerPort: {port}}}]\n---\n"
            ));
        }
        let np = |name: &str, spec: &str| {
            format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: ns{n}}}\nspec:\n{spec}---\n")
        };
        s.push_str(&np(
            "default-deny",
            "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n",
        ));
        s.push_str(&np("dns", "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]\n    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n"));
        s.push_str(&np("web", "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]\n    ports: [{port: main}]\n  egress:\n  - to: [{podSelector: {matchLabels: {app: api}}}]\n"));
        s.push_str(&np("api", "  podSelector: {matchLabels: {app: api}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 8080}]\n  egress:\n  - to: [{podSelector: {matchLabels: {app: db}}}]\n    ports: [{port: 5432}]\n"));
        s.push_str(&np("db", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: api}}}]\n    ports: [{port: 5432}]\n"));
        s.push_str(&np("ray", &format!("  podSelector: {{matchLabels: {{app: ray-head}}}}\n  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{team: t{team}}}}}, podSelector: {{matchExpressions: [{{key: app, operator: In, values: [ray-worker, notebook]}}]}}}}]\n    ports: [{{port: 6379}}, {{port: 8265}}, {{port: 10001}}]\n")));
    }
    s
}

fn inventory(workloads: usize) -> Inventory {
    let text = corpus(workloads);
    Inventory::new(ml_audit::load(
        &[Input::Text {
            name: "scale.yaml".into(),
            text,
        }],
        &LoadOptions::default(),
    ))
}

fn rss_mib(field: &str) -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(0.0, |k| k / 1024.0)
}

fn bench(c: &mut Criterion) {
    let sizes = [1_000usize, 2_500, 5_000, 10_000];
    let invs: Vec<(usize, Inventory)> = sizes.iter().map(|&n| (n, inventory(n))).collect();
    for (n, inv) in &invs {
        let before = rss_mib("VmRSS:");
        let t = Instant::now();
        let r = Reachability::build(inv, &Options::default());
        let dt = t.elapsed();
        let after = rss_mib("VmRSS:");
        let policies = r.policies.netpols.len();
        eprintln!(
            "netpol scale: {n} workloads, {} namespaces, {policies} policies -> {} classes, {} class-pair cells stored; one build {:.3} s; RSS {:.0} -> {:.0} MiB with the model; peak RSS of the process so far {:.0} MiB",
            n / 20,
            r.classes.len(),
            r.class_pairs(),
            dt.as_secs_f64(),
            before,
            after,
            rss_mib("VmHWM:")
        );
    }
    let mut g = c.benchmark_group("netpol-reachability");
    g.sample_size(10);
    for (n, inv) in &invs {
        g.bench_with_input(BenchmarkId::from_parameter(n), inv, |b, inv| {
            b.iter(|| Reachability::build(inv, &Options::default()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
