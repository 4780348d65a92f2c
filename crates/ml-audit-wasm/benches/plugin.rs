//! The same rule, native and as a plugin: `gpu-job-without-kueue-queue`
//! (plugins/gpu-kueue-queue), over the corpus (`../shared/corpus`, skipped
//! when absent) and over 100,000 generated objects; and plugin start-up,
//! compiling vs from the disk cache. Before the criterion groups, each set
//! prints the two runs interleaved (median of 15 pairs and of their ratio),
//! the figure to read on a machine shared with other work.
//!
//! `cargo bench -p ml-audit-wasm --bench plugin -- --warm-up-time 1 --measurement-time 3`

#[path = "../tests/common/mod.rs"]
mod common;

// The allocator `kubectl ml-audit` ships with, for both sides.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ml_audit::{
    Audit, Context, Finding, Input, Inventory, LoadOptions, Pointer, Rule, RuleMeta, Severity,
    Workload,
};
use ml_audit_wasm::{CacheMode, HostOptions, PluginHost};

const KINDS: [&str; 11] = [
    "Job",
    "JobSet",
    "RayJob",
    "RayCluster",
    "PyTorchJob",
    "TFJob",
    "MPIJob",
    "XGBoostJob",
    "PaddleJob",
    "JAXJob",
    "TrainJob",
];
const QUEUE: &str = "kueue.x-k8s.io/queue-name";

static META: RuleMeta = RuleMeta::builtin(
    "native-gpu-job-without-kueue-queue",
    "bench",
    Severity::Medium,
    "GPU jobs must name a Kueue queue (native)",
    "",
);

/// The plugin's rule, written natively the house way.
struct Native;

/// The workloads of each object, computed once per run.
struct ByObject(Vec<Vec<usize>>);

/// The first container asking for a GPU, and the resource name: the same
/// search, in the same order, as the plugin (pod templates, then init, app
/// and ephemeral containers, limits before requests).
fn gpu_of(w: &Workload) -> Option<(&str, &'static str)> {
    w.containers.iter().find_map(|c| {
        let r = c.spec.resources.as_ref()?;
        [r.limits.as_ref(), r.requests.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|m| {
                ["nvidia.com/gpu", "amd.com/gpu"]
                    .into_iter()
                    .find(|n| m.get(*n).is_some_and(|q| q.0 != "0"))
            })
            .map(|n| (c.name.as_str(), n))
    })
}

impl Rule for Native {
    fn meta(&self) -> &RuleMeta {
        &META
    }
    fn check_object(&self, cx: &Context<'_>, obj: &ml_audit::Object, out: &mut Vec<Finding>) {
        if !KINDS.contains(&obj.kind.as_str()) || obj.labels.contains_key(QUEUE) {
            return;
        }
        let index = cx.analysis(|inv| {
            let mut v = vec![Vec::new(); inv.objects.len()];
            for (i, w) in inv.workloads.iter().enumerate() {
                v[w.object].push(i);
            }
            ByObject(v)
        });
        let inv = cx.inventory;
        if let Some((container, name)) = index.0[obj.id]
            .iter()
            .find_map(|&i| gpu_of(&inv.workloads[i]))
        {
            let at = if obj.root.pointer("/metadata/labels").is_some() {
                Pointer::root().keys(&["metadata", "labels"])
            } else {
                Pointer::root().key("metadata")
            };
            // The same message as the plugin's.
            let who = match obj.effective_namespace() {
                Some(ns) => format!("{} {ns}/{}", obj.kind, obj.name),
                None => format!("{} {}", obj.kind, obj.name),
            };
            out.push(
                cx.finding(
                    &META,
                    obj,
                    &at,
                    format!(
                        "{who} asks for `{name}` (container `{container}`) but names no Kueue queue"
                    ),
                )
                .help(format!("add the label `{QUEUE}: <local queue>`")),
            );
        }
    }
}

fn generated(n: usize) -> Inventory {
    let mut text = String::new();
    for i in 0..n {
        let labels = if i % 3 == 0 {
            format!("  labels:\n    {QUEUE}: q\n")
        } else {
            "  labels:\n    app: x\n".to_string()
        };
        let gpu = if i % 2 == 0 {
            "nvidia.com/gpu: 1"
        } else {
            "cpu: 2"
        };
        let kind = ["Job", "Deployment", "PyTorchJob"][i % 3];
        let spec = if kind == "PyTorchJob" {
            format!("spec:\n  pytorchReplicaSpecs:\n    Worker:\n      replicas: 2\n      template:\n        spec:\n          containers:\n          - name: c\n            image: trainer:{i}\n            resources:\n              limits: {{{gpu}}}\n")
        } else {
            format!("spec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: trainer:{i}\n        resources:\n          limits: {{{gpu}}}\n")
        };
        let api = match kind {
            "Job" => "batch/v1",
            "Deployment" => "apps/v1",
            _ => "kubeflow.org/v1",
        };
        text += &format!("---\napiVersion: {api}\nkind: {kind}\nmetadata:\n  name: o{i}\n  namespace: ns{}\n{labels}{spec}", i % 50);
    }
    Inventory::new(ml_audit::load(
        &[Input::Text {
            name: "generated.yaml".into(),
            text,
        }],
        &LoadOptions::default(),
    ))
}

fn corpus() -> Option<Inventory> {
    let dir = common::root().join("../shared/corpus");
    if !dir.is_dir() {
        eprintln!("skipping the corpus: {} is absent", dir.display());
        return None;
    }
    Some(Inventory::new(ml_audit::load(
        &[Input::Path(dir)],
        &LoadOptions::default(),
    )))
}

fn audits(cache: &std::path::Path) -> (Audit, Audit) {
    let mut native = Audit::new();
    native.add_rule(Box::new(Native));
    native.select(&[META.id.as_ref()]).unwrap();
    let host = PluginHost::new(HostOptions {
        cache: CacheMode::Dir(cache.to_path_buf()),
        ..HostOptions::default()
    })
    .unwrap();
    let wasm = common::release_plugin_dir().join("gpu_kueue_queue.wasm");
    let plugin = host.load(&wasm).unwrap();
    let mut wasm_audit = Audit::new();
    ml_audit_wasm::register(&mut wasm_audit, &[plugin]).unwrap();
    wasm_audit.select(&["gpu-job-without-kueue-queue"]).unwrap();
    (native, wasm_audit)
}

fn rules(c: &mut Criterion) {
    let cache = tempfile::tempdir().unwrap();
    let (native, plugin) = audits(cache.path());
    let mut sets = vec![("generated-100k", generated(100_000))];
    if let Some(inv) = corpus() {
        sets.insert(0, ("corpus", inv));
    }
    for (name, inv) in &sets {
        // The same work: the same findings, message and help included.
        let key = |f: &Finding| {
            (
                f.object.clone(),
                f.pointer.clone(),
                f.message.clone(),
                f.help.clone(),
            )
        };
        let nf: Vec<_> = native.run(inv).findings.iter().map(key).collect();
        let pf: Vec<_> = plugin.run(inv).findings.iter().map(key).collect();
        assert!(nf == pf, "{name}: native and plugin disagree");
        let n = nf.len();
        eprintln!(
            "{name}: {} objects, {} workloads, {n} findings",
            inv.objects.len(),
            inv.workloads.len()
        );
        interleaved(name, inv.objects.len(), &native, &plugin, inv);
        let mut g = c.benchmark_group(*name);
        g.sample_size(10);
        g.throughput(Throughput::Elements(inv.objects.len() as u64));
        g.bench_function("native", |b| b.iter(|| native.run(inv)));
        g.bench_function("plugin", |b| b.iter(|| plugin.run(inv)));
        g.finish();
    }
}

/// The two runs alternated, so that both see the same load on a shared
/// machine (criterion measures one, then the other): the median of each
/// and of the per-pair ratio.
fn interleaved(name: &str, objects: usize, native: &Audit, plugin: &Audit, inv: &Inventory) {
    let time = |a: &Audit| {
        let t = Instant::now();
        std::hint::black_box(a.run(inv));
        t.elapsed().as_secs_f64()
    };
    let (mut n, mut p, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..15 {
        let (a, b) = (time(native), time(plugin));
        n.push(a);
        p.push(b);
        r.push(b / a);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (n, p, r) = (median(&mut n), median(&mut p), median(&mut r));
    eprintln!(
        "{name} interleaved (median of 15 pairs): native {:.2} ms ({:.0} objects/s), plugin {:.2} ms ({:.0} objects/s), plugin/native {r:.2}",
        n * 1e3,
        objects as f64 / n,
        p * 1e3,
        objects as f64 / p,
    );
}

fn startup(c: &mut Criterion) {
    let wasm = std::fs::read(common::release_plugin_dir().join("gpu_kueue_queue.wasm")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let load = |mode: CacheMode| {
        let host = PluginHost::new(HostOptions {
            cache: mode,
            ..HostOptions::default()
        })
        .unwrap();
        let p = host.load_bytes("gpu_kueue_queue.wasm", &wasm).unwrap();
        let mut audit = Audit::new();
        ml_audit_wasm::register(&mut audit, &[p]).unwrap();
        audit
    };
    let t = Instant::now();
    drop(load(CacheMode::Dir(cache.path().to_path_buf())));
    eprintln!("first run (compile and store): {:?}", t.elapsed());
    let mut g = c.benchmark_group("startup");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("builtin-only", |b| b.iter(Audit::new));
    g.bench_function("plugin-compile", |b| b.iter(|| load(CacheMode::Off)));
    g.bench_function("plugin-cached", |b| {
        b.iter(|| load(CacheMode::Dir(cache.path().to_path_buf())))
    });
    g.finish();
}

criterion_group!(benches, rules, startup);
criterion_main!(benches);
