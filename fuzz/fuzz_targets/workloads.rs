//! Bytes -> objects -> the inventory's workloads: never a panic, and every
//! pointer a workload holds (pod spec, pod metadata, each container, the
//! pod-level fields it inherits) resolves to a node whose span lies inside
//! the file. The first byte picks a head of a kind with pod templates, or
//! none, so the rest reaches the kinds table.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ml_audit::{load, Input, Inventory, LoadOptions, Span};

const HEADS: [&str; 9] = [
    "",
    "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: r, namespace: n}\n",
    "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {name: p}\n",
    "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\n",
    "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: i}\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
    "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\n",
    "apiVersion: jobset.x-k8s.io/v1alpha2\nkind: JobSet\nmetadata: {name: j}\n",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = ml_audit::decode("f.yaml", rest.to_vec()) else {
        return;
    };
    let text = format!("{}{}", HEADS[*first as usize % HEADS.len()], text);
    let loaded = load(
        &[Input::Text {
            name: "f.yaml".into(),
            text,
        }],
        &LoadOptions::default(),
    );
    let inv = Inventory::new(loaded);
    for w in &inv.workloads {
        let obj = inv.object(w.object);
        let file = &inv.files[obj.file];
        // Lines as YAML counts them: a lone `\r` breaks a line too.
        let lines = file
            .text
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .lines()
            .count() as u32
            + 1;
        let inside = |what: &str, ptr: &str, must_exist: bool| {
            if must_exist {
                assert!(
                    obj.root.pointer(ptr).is_some(),
                    "{what} {ptr} does not resolve in {}",
                    obj.display_name()
                );
            }
            let s: Span = obj.locate(ptr);
            assert!(
                s.line >= 1 && s.line <= lines && s.end_line <= lines + 1,
                "{what} {ptr} at {s:?}, file has {lines} lines"
            );
            assert!(
                (s.line, s.col) <= (s.end_line, s.end_col),
                "{what} {ptr}: span ends before it starts {s:?}"
            );
        };
        inside("pod spec", w.pod_pointer.as_str(), true);
        if let Some(m) = &w.meta_pointer {
            inside("pod metadata", m.as_str(), false);
        }
        for c in &w.containers {
            inside("container", c.pointer.as_str(), true);
        }
        for p in w.field_origins.values() {
            inside("inherited field", p.as_str(), true);
        }
        for f in ["volumes", "securityContext", "serviceAccountName"] {
            inside("field", w.field_pointer(f).as_str(), false);
        }
        let _ = w.describe(obj);
    }
});
