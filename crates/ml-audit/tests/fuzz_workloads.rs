//! Inputs the `workloads` fuzz target found (testdata/fuzz-regressions/):
//! every pointer a workload holds resolves inside its object, so findings
//! point at a real line.

use std::path::{Path, PathBuf};

use ml_audit::{Input, Inventory, LoadOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check(inv: &Inventory, what: &str) {
    for w in &inv.workloads {
        let obj = inv.object(w.object);
        assert!(
            obj.root.pointer(w.pod_pointer.as_str()).is_some(),
            "{what}: pod spec {} does not resolve in {}",
            w.pod_pointer,
            obj.display_name()
        );
        for c in &w.containers {
            let node = obj.root.pointer(c.pointer.as_str());
            assert!(
                node.is_some(),
                "{what}: container {} does not resolve in {}",
                c.pointer,
                obj.display_name()
            );
            if let Some(name) = node.and_then(|n| n.get("name")).and_then(|n| n.as_str()) {
                assert_eq!(name, c.name, "{what}: {}", c.pointer);
            }
        }
    }
}

#[test]
fn workload_pointers_resolve_in_fuzz_regressions() {
    let dir = root().join("testdata/fuzz-regressions");
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let inv = Inventory::new(ml_audit::load(
            &[Input::Path(p.clone())],
            &LoadOptions::default(),
        ));
        check(&inv, &p.display().to_string());
    }
}

/// A key written twice: the last one wins, for the tree and the typed view alike.
#[test]
fn duplicate_key_last_one_wins() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n  containers:\n  - name: b\n    image: x\n  - name: c\n    image: x\n";
    let inv = Inventory::from_text("dup.yaml", text);
    check(&inv, "dup.yaml");
    let names: Vec<&str> = inv.workloads[0]
        .containers
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["b", "c"]);
    let obj = inv.object(inv.workloads[0].object);
    assert_eq!(obj.locate("/spec/containers/1/name").line, 11);
}
