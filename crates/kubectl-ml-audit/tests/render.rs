//! `kubectl ml-audit render PATH`: what a user sees (exit code, stdout,
//! stderr) for a kustomization that builds and for one that cannot.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/kustomize")
        .join(rel)
}

fn render(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
        .arg("render")
        .args(args)
        .output()
        .unwrap()
}

/// `--format json` prints one JSON array: the objects kubectl kustomize
/// builds (the checked-in expectation), nothing else.
#[test]
fn json_is_one_array_of_the_rendered_objects() {
    let dir = fixture("overlay-a");
    let o = render(&[dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("expected/overlay-a.json")).unwrap())
            .unwrap();
    assert_eq!(got, want);
}

/// The YAML output reads back as the same objects.
#[test]
fn yaml_reads_back_as_the_same_objects() {
    let dir = fixture("overlay-b");
    let o = render(&[dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    let (docs, error) = ml_audit::yaml::parse_stream(&text, ml_audit::yaml::Limits::default());
    assert!(error.is_none(), "{text}");
    let got = serde_json::Value::Array(docs.iter().map(|d| d.root.to_json()).collect());
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("expected/overlay-b.json")).unwrap())
            .unwrap();
    assert_eq!(got, want, "{text}");
}

/// A kustomization that cannot be built: exit 2, the cause at file:line on
/// stderr, nothing on stdout.
#[test]
fn unbuildable_is_exit_2_with_file_and_line() {
    let dir = fixture("errors/helm");
    let o = render(&[dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("errors/helm/kustomization.yaml:3: `helmCharts` is not supported"),
        "{err}"
    );

    let o = render(&[fixture("errors").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no kustomization.yaml"));
}
