//! Workload extraction and every rule on structured-but-hostile objects: the
//! fuzzer's bytes fill a Kubernetes object of a kind that has pod templates
//! (RayCluster, PyTorchJob, Argo Workflow, ...), so the input reaches the
//! kinds table, the typed views and the rules.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ml_audit::{load, Audit, Input, Inventory, LoadOptions};

const HEADS: [&str; 6] = [
    "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: r, namespace: n}\n",
    "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {name: p}\n",
    "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\n",
    "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: i}\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else { return };
    let Ok(body) = std::str::from_utf8(rest) else { return };
    let text = format!("{}{}", HEADS[*first as usize % HEADS.len()], body);
    let loaded = load(&[Input::Text { name: "f.yaml".into(), text }], &LoadOptions::default());
    let inv = Inventory::new(loaded);
    let report = Audit::new().run(&inv);
    let _ = report.to_json();
});
