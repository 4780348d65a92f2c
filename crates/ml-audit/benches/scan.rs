//! Parse-only vs full scan on the real corpus (../shared/corpus), a
//! repository read as written vs as deployed (`repository/*`: units and
//! kustomize rendering), and the YAML parsers alone (`yaml/events` vs
//! `yaml/fast-first`).
//!
//! `cargo bench -p ml-audit --bench scan` prints criterion's figures; the
//! throughput lines (MB/s, objects/s) come from `Throughput::Bytes` and a
//! printed object count.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ml_audit::{Audit, Input, Inventory, LoadOptions};

fn corpus_inputs() -> Option<(Vec<Input>, u64)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !dir.exists() {
        eprintln!("skipped: {} is absent", dir.display());
        return None;
    }
    // Read the files once so that the benchmark measures parsing, not the disk.
    let opts = LoadOptions {
        hidden: true,
        ..LoadOptions::default()
    };
    let loaded = ml_audit::load(&[Input::Path(dir)], &opts);
    let bytes: u64 = loaded.files.iter().map(|f| f.text.len() as u64).sum();
    let inputs = loaded
        .files
        .into_iter()
        .map(|f| Input::Text {
            name: f.path,
            text: f.text,
        })
        .collect();
    Some((inputs, bytes))
}

fn bench(c: &mut Criterion) {
    let Some((inputs, bytes)) = corpus_inputs() else {
        return;
    };
    let opts = LoadOptions::default();
    let objects = ml_audit::load(&inputs, &opts).objects.len();
    eprintln!(
        "corpus: {} files, {objects} objects, {bytes} bytes",
        inputs.len()
    );
    let mut g = c.benchmark_group("corpus");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("parse-only", |b| b.iter(|| ml_audit::load(&inputs, &opts)));
    let audit = Audit::new();
    g.bench_function("full-scan", |b| {
        b.iter(|| {
            let inv = Inventory::new(ml_audit::load(&inputs, &opts));
            audit.run(&inv)
        })
    });
    g.finish();

    // A repository read as deployed (units, every kustomization root
    // rendered) against the same files read as written, from the disk:
    // the price of the repository model.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    for (name, dir) in [
        ("corpus", shared.join("corpus")),
        (
            "kubeflow-manifests",
            shared.join("repos/kubeflow__manifests"),
        ),
    ] {
        if !dir.exists() {
            continue;
        }
        let mut g = c.benchmark_group(format!("repository/{name}"));
        g.sample_size(10);
        let input = [Input::Path(dir)];
        let plain = LoadOptions {
            render: ml_audit::Render::Off,
            ..LoadOptions::default()
        };
        g.bench_function("as-written", |b| b.iter(|| ml_audit::load(&input, &plain)));
        g.bench_function("as-deployed", |b| {
            b.iter(|| ml_audit::load(&input, &LoadOptions::default()))
        });
        g.finish();
    }

    // The YAML parsers alone, on one thread: the event parser, and the fast
    // parser that `load` uses first (falling back to the events for what it
    // leaves).
    let texts: Vec<&str> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let limits = ml_audit::yaml::Limits::default();
    let mut g = c.benchmark_group("yaml");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    for (name, parse) in ml_audit::yaml::PARSERS {
        g.bench_function(name, |b| {
            b.iter(|| {
                texts
                    .iter()
                    .map(|t| parse(t, limits).0.len())
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
