//! The core contracts: locations inside ML CRDs, the corpus loads, bad input
//! is reported and the rest still audited.

#[path = "support/shared.rs"]
mod shared;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ml_audit::{Audit, Input, Inventory, Level, LoadOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn audit_path(p: &Path) -> (Inventory, ml_audit::Report) {
    let inv = Inventory::new(ml_audit::load(
        &[Input::Path(p.to_path_buf())],
        &LoadOptions::default(),
    ));
    let report = Audit::new().run(&inv);
    (inv, report)
}

fn audit_text(name: &str, text: &str) -> ml_audit::Report {
    let inv = Inventory::from_text(name, text);
    Audit::new().run(&inv)
}

#[test]
fn privileged_containers_in_ml_crds_point_at_their_line() {
    let (_, report) = audit_path(&root().join("testdata/examples/team-a"));
    let mut got: Vec<(String, u32, u32)> = report
        .findings
        .iter()
        .filter(|f| f.rule == "pss-privileged")
        .map(|f| {
            (
                f.file.rsplit('/').next().unwrap().to_string(),
                f.span.line,
                f.span.col,
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("inferenceservice.yaml".into(), 15, 9),
            ("notebook.yaml".into(), 17, 13),
            ("pytorchjob.yaml".into(), 30, 17),
            ("raycluster.yaml".into(), 40, 17),
        ]
    );
    // The namespace enforces baseline: the API server would reject these pods.
    assert!(report
        .findings
        .iter()
        .filter(|f| f.rule == "pss-privileged")
        .all(|f| f.severity == ml_audit::Severity::Critical && f.message.contains("will reject")));
}

#[test]
fn workloads_are_found_in_every_ml_crd() {
    let (inv, _) = audit_path(&root().join("testdata/examples/team-a"));
    let roles: Vec<(String, String, u32, u32)> = inv
        .workloads
        .iter()
        .map(|w| {
            (
                inv.object(w.object).kind.clone(),
                w.role.clone(),
                w.replicas,
                w.max_replicas,
            )
        })
        .collect();
    assert!(roles.contains(&("RayCluster".into(), "head".into(), 1, 1)));
    assert!(roles.contains(&("RayCluster".into(), "worker gpu-workers".into(), 2, 8)));
    assert!(roles.contains(&("PyTorchJob".into(), "Master".into(), 1, 1)));
    assert!(roles.contains(&("PyTorchJob".into(), "Worker".into(), 3, 3)));
    assert!(roles.contains(&("Notebook".into(), "".into(), 1, 1)));
    assert!(roles.contains(&("InferenceService".into(), "predictor".into(), 1, 4)));
}

#[test]
fn corpus_loads_without_errors() {
    let Some(corpus) = shared::shared("corpus") else {
        return;
    };
    // The corpus holds the YAML files of two repositories, not their other
    // files (a generator's `params.env`): its kustomizations cannot all be
    // built, so this test of the YAML reads it file by file. The
    // repositories of `../shared/repos` are read as deployed (repo_model).
    let opts = LoadOptions {
        hidden: true,
        render: ml_audit::Render::Off,
        ..LoadOptions::default()
    };
    let inv = Inventory::new(ml_audit::load(&[Input::Path(corpus)], &opts));
    let report = Audit::new().run(&inv);
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .collect();
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    for w in &inv.workloads {
        *per_kind
            .entry(inv.object(w.object).kind.clone())
            .or_default() += 1;
    }
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &report.findings {
        *per_rule.entry(f.rule.as_str()).or_default() += 1;
    }
    println!(
        "files: {}, objects: {}, workloads: {}",
        inv.files.len(),
        inv.objects.len(),
        inv.workloads.len()
    );
    println!("workloads per kind: {per_kind:?}");
    println!("findings per rule: {per_rule:?}");
    println!(
        "diagnostics: {} errors, {} total",
        errors.len(),
        report.diagnostics.len()
    );
    assert!(errors.is_empty(), "valid YAML failed to load: {errors:#?}");
    assert!(inv.objects.len() >= 1700, "objects: {}", inv.objects.len());
    assert!(per_kind.get("RayCluster").copied().unwrap_or(0) > 10);
}

#[test]
fn bad_input_is_reported_and_the_rest_still_audited() {
    let dir = tempfile::tempdir().unwrap();
    let good = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n    securityContext: {privileged: true}\n";
    let cases: Vec<(&str, Vec<u8>, &str, u32)> = vec![
        ("malformed.yaml", b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n".to_vec(), "invalid YAML", 5),
        ("binary.yaml", vec![0x7f, b'E', b'L', b'F', 0, 0, 1], "binary file", 1),
        ("empty.yaml", b"".to_vec(), "empty file", 1),
        ("latin1.yaml", b"apiVersion: v1\nkind: ConfigMap\ndata: {a: \"\xe9\"}\n".to_vec(), "invalid UTF-8", 3),
        ("shape.yaml", b"apiVersion: v1\nkind: Pod\nmetadata: {name: s}\nspec:\n  containers: oops\n".to_vec(), "expected a list", 5),
        ("helm.yaml", b"apiVersion: v1\nkind: ConfigMap\n{{- if .Values.enabled }}\ndata:\n  a: b\n{{- end }}\n".to_vec(), "helm template", 3),
    ];
    let mut bomb = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    std::fs::write(dir.path().join("bomb.yaml"), &bomb).unwrap();
    for (name, bytes, _, _) in &cases {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    std::fs::write(dir.path().join("good.yaml"), good).unwrap();
    let (_, report) = audit_path(dir.path());
    assert!(report
        .findings
        .iter()
        .any(|f| f.rule == "pss-privileged" && f.file.ends_with("good.yaml")));
    for (name, _, expect, line) in &cases {
        let d = report
            .diagnostics
            .iter()
            .find(|d| d.file.ends_with(name) && d.level == Level::Error)
            .unwrap_or_else(|| panic!("no error for {name}: {:#?}", report.diagnostics));
        assert!(
            d.message.to_lowercase().contains(&expect.to_lowercase()),
            "{name}: {}",
            d.message
        );
        assert_eq!(d.line, *line, "{name}: {d:?}");
    }
    assert!(report
        .diagnostics
        .iter()
        .any(|d| d.file.ends_with("bomb.yaml") && d.message.contains("alias")));
    assert!(report.has_errors());
}

#[test]
fn template_expressions_inside_strings_are_data() {
    let wf = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: train-}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    inputs:\n      parameters: [{name: lr}]\n    container:\n      image: python:3.12\n      args: [\"--lr={{inputs.parameters.lr}}\"]\n      securityContext: {privileged: true}\n";
    let report = audit_text("wf.yaml", wf);
    assert!(!report.has_errors(), "{:#?}", report.diagnostics);
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "pss-privileged")
        .unwrap();
    assert_eq!((f.span.line, f.span.col), (13, 25));
    assert_eq!(f.context.as_deref(), Some("main, container main"));
}

#[test]
fn lists_and_non_kubernetes_documents() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, namespace: x}\n  spec:\n    containers: [{name: c, image: i, securityContext: {privileged: true}}]\n---\nresources: [a.yaml]\n";
    let report = audit_text("list.yaml", text);
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "pss-privileged")
        .unwrap();
    assert_eq!(f.object.name, "a");
    assert_eq!(f.span.line, 8);
    assert!(report
        .diagnostics
        .iter()
        .any(|d| d.level == Level::Info && d.line == 10));
    assert!(!report.has_errors());
}

/// Inputs the fuzzers found (testdata/fuzz-regressions/): each loads without
/// a panic, and every line named lies inside the text as editors count it.
#[test]
fn fuzz_regressions() {
    let dir = root().join("testdata/fuzz-regressions");
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        let loaded = ml_audit::load(&[Input::Path(p.clone())], &LoadOptions::default());
        let text = String::from_utf8_lossy(&bytes)
            .replace("\r\n", "\n")
            .replace('\r', "\n");
        let lines = text.lines().count() as u32 + 1;
        for d in &loaded.diagnostics {
            assert!(
                d.line <= lines,
                "{}: {d:?} beyond {lines} lines",
                p.display()
            );
        }
        let inv = Inventory::new(loaded);
        let _ = Audit::new().run(&inv);
    }
}

#[test]
fn lone_carriage_returns_are_line_breaks() {
    let report = audit_text(
        "cr.yaml",
        "apiVersion: v1\rkind: Pod\rmetadata: {name: p}\rspec:\r  containers:\r  - {name: c, image: i, securityContext: {privileged: true}}\r",
    );
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "pss-privileged")
        .unwrap();
    assert_eq!(f.span.line, 6);
}

/// A named pipe (what `kubectl ml-audit <(helm template ...)` reads) says
/// it holds 0 bytes: it is read to its end, not up to the size it gives. A
/// regular file, and one that grew, are read whole (the other tests here).
#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("rendered.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: piped}\nspec:\n  containers:\n  - name: c\n    image: x\n";
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(&fifo, pod).unwrap())
    };
    let loaded = ml_audit::load(&[Input::Path(fifo)], &LoadOptions::default());
    writer.join().unwrap();
    let names: Vec<&str> = loaded.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["piped"], "{:?}", loaded.diagnostics);
    assert_eq!(loaded.files[0].text, pod);
}

#[test]
fn a_file_reached_twice_is_read_once_under_its_first_name() {
    let dir = tempfile::tempdir().unwrap();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n";
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let file = dir.path().join("sub/pod.yaml");
    std::fs::write(&file, pod).unwrap();
    std::fs::write(
        dir.path().join("other.yaml"),
        pod.replace("name: p}", "name: q}"),
    )
    .unwrap();
    // Named first, then again inside the walked directory, then by another
    // spelling of the same path.
    let again = dir.path().join("sub/../sub/pod.yaml");
    let loaded = ml_audit::load(
        &[
            Input::Path(file.clone()),
            Input::Path(dir.path().to_path_buf()),
            Input::Path(again),
        ],
        &LoadOptions::default(),
    );
    let names: Vec<&str> = loaded.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["p", "q"], "{:?}", loaded.diagnostics);
    assert_eq!(loaded.files.len(), 2);
    assert_eq!(loaded.files[0].path, file.display().to_string());
}

#[test]
fn overlapping_directories_and_hard_links_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n";
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(dir.path().join("a/b/p.yaml"), pod).unwrap();
    std::fs::write(
        dir.path().join("a/q.yaml"),
        pod.replace("name: p}", "name: q}"),
    )
    .unwrap();
    // The same file under a second name in another directory.
    std::fs::hard_link(dir.path().join("a/q.yaml"), dir.path().join("a/b/z.yaml")).unwrap();
    // A directory, then a directory inside it, then the first again.
    let loaded = ml_audit::load(
        &[
            Input::Path(dir.path().join("a/b")),
            Input::Path(dir.path().join("a")),
            Input::Path(dir.path().join("a")),
        ],
        &LoadOptions::default(),
    );
    let files: Vec<String> = loaded
        .files
        .iter()
        .map(|f| f.path.replace(&dir.path().display().to_string(), ""))
        .collect();
    assert_eq!(
        files,
        ["/a/b/p.yaml", "/a/b/z.yaml"],
        "{:?}",
        loaded.diagnostics
    );
    let names: Vec<&str> = loaded.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["p", "q"]);
}

#[test]
fn a_key_written_twice_is_a_warning_and_the_last_value_is_used() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: first:1\n    securityContext: {privileged: false}\n    image: second:2\n";
    let loaded = ml_audit::load(
        &[Input::Text {
            name: "dup.yaml".into(),
            text: text.into(),
        }],
        &LoadOptions::default(),
    );
    let warnings: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Warning)
        .collect();
    assert_eq!(warnings.len(), 1, "{:#?}", loaded.diagnostics);
    let w = warnings[0];
    assert_eq!((w.file.as_str(), w.line, w.col), ("dup.yaml", 7, 5));
    assert!(
        w.message.contains("`image`") && w.message.contains("line 9"),
        "{}",
        w.message
    );
    let inv = Inventory::new(loaded);
    assert_eq!(
        inv.workloads[0].containers[0].spec.image.as_deref(),
        Some("second:2")
    );
    // A warning: the rest is audited and the report has no input errors.
    assert!(!Audit::new().run(&inv).has_errors());
}
