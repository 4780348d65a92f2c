//! `kubectl ml-audit units`: the fixture repository `testdata/units` in
//! both formats, exit codes, and names escaped in the text output.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs the binary at the repository root: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(bin())
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn text_lists_each_unit_then_what_it_renders_from() {
    let (code, out, err) = run(&["units", "testdata/units"]);
    assert_eq!(code, 0, "{err}");
    let heads: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(
        heads,
        [
            "kustomization  deploy   testdata/units/broken",
            "kustomization  example  testdata/units/examples/demo",
            "kustomization  deploy   testdata/units/overlays/dev",
            "kustomization  deploy   testdata/units/overlays/prod",
            "folder         deploy   testdata/units/plain",
            "5 units: 4 kustomization roots, 1 plain folders",
        ]
    );
    for line in [
        "    uses           testdata/units/base (shared by 2 roots)",
        "    uses           testdata/units/components/monitoring",
        "    patch          testdata/units/overlays/dev/patch-replicas.yaml",
        "    generator      testdata/units/overlays/dev/params.env",
        "    remote         https://github.com/acme/platform//monitoring?ref=v1.0.0 (testdata/units/overlays/prod/kustomization.yaml:6)",
        "    error: testdata/units/broken/kustomization.yaml:4:3: `missing.yaml` in `resources` does not exist",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
    // Deterministic: the same bytes twice.
    assert_eq!(run(&["units", "testdata/units"]).1, out);
}

#[test]
fn json_is_an_array_of_units_sorted_by_path() {
    let (code, out, err) = run(&["units", "testdata/units", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let units = v.as_array().unwrap();
    let heads: Vec<(&str, &str, &str)> = units
        .iter()
        .map(|u| {
            (
                u["kind"].as_str().unwrap(),
                u["role"].as_str().unwrap(),
                u["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        heads,
        [
            ("kustomization", "deploy", "testdata/units/broken"),
            ("kustomization", "example", "testdata/units/examples/demo"),
            ("kustomization", "deploy", "testdata/units/overlays/dev"),
            ("kustomization", "deploy", "testdata/units/overlays/prod"),
            ("folder", "deploy", "testdata/units/plain"),
        ]
    );
    let dev = &units[2];
    assert_eq!(
        dev["kustomizations"],
        serde_json::json!([
            "testdata/units/overlays/dev",
            "testdata/units/base",
            "testdata/units/components/monitoring"
        ])
    );
    assert!(dev["files"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({
            "path": "testdata/units/overlays/dev/patch-replicas.yaml",
            "use": "patch",
            "by": "testdata/units/overlays/dev"
        })));
    let e = &units[0]["errors"][0];
    assert_eq!(e["file"], "testdata/units/broken/kustomization.yaml");
    assert_eq!((e["line"].as_u64(), e["col"].as_u64()), (Some(4), Some(3)));
    assert_eq!(
        units[3]["remoteBases"][0]["line"].as_u64(),
        Some(6),
        "{out}"
    );
}

#[test]
fn unreadable_kustomization_exits_2_and_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let evil = d.join("a\u{1b}[2Jb");
    std::fs::create_dir_all(&evil).unwrap();
    std::fs::write(evil.join("kustomization.yaml"), "resources:\n- gone.yaml\n").unwrap();
    std::fs::create_dir_all(d.join("bad")).unwrap();
    std::fs::write(d.join("bad/kustomization.yaml"), "resources: [x\n").unwrap();
    let (code, out, err) = run(&["units", d.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(!out.contains('\u{1b}') && !err.contains('\u{1b}'));
    assert!(out.contains("a\\e[2Jb"), "{out}");
    assert!(err.contains("bad/kustomization.yaml:2:1: "), "{err}");
    // A missing resource alone does not make the run fail.
    std::fs::remove_dir_all(d.join("bad")).unwrap();
    assert_eq!(run(&["units", d.to_str().unwrap()]).0, 0);
    // A PATH that does not exist is a usage error.
    assert_eq!(run(&["units", "testdata/units/nowhere"]).0, 2);
}

#[test]
fn config_selects_roles_and_rejects_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let fixture = root().join("testdata/units");
    let run_in = |args: &[&str]| {
        let o = Command::new(bin())
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    std::fs::write(cwd.join(".ml-audit.yaml"), "units:\n  roles: [example]\n").unwrap();
    let (code, out, err) = run_in(&["units", fixture.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let roles: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["example"]);
    std::fs::write(
        cwd.join(".ml-audit.yaml"),
        "units:\n  roles: [deploy, prod]\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&["units", fixture.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains(":2:") && err.contains("unknown role `prod`"),
        "{err}"
    );
}
