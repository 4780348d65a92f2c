//! A repository as it is deployed (`testdata/repo-model`): a base, two
//! overlays with their own `namespace:` (one rewrites an image with
//! `images:` and uses a component, the other patches a RayCluster to run
//! privileged, generates a ConfigMap and teaches kustomize a name
//! reference with `configurations:`), and an unrelated plain folder. The
//! scan renders each overlay as kubectl would and points every finding at
//! the line a person edits.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs the binary at the repository root; returns the exit code and stdout.
fn run(args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    if args.first() == Some(&"scan") {
        cmd.arg("--no-config");
    }
    let out = cmd
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// Whether kubectl is installed; when it is not, says so (and fails under
/// `CI`, where `.ci/run` installs it).
fn have_kubectl() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl is missing under CI"
        );
        eprintln!("skipped: kubectl is not installed");
    }
    ok
}

fn scan_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["scan", "--format", "json"];
    all.extend_from_slice(args);
    let (code, out) = run(&all);
    (code, serde_json::from_str(&out).unwrap())
}

const DEV: &str = "testdata/repo-model/app/overlays/dev";
const PROD: &str = "testdata/repo-model/app/overlays/prod";

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().unwrap()
}

fn find<'a>(report: &'a Value, rule: &str, name: &str) -> Vec<&'a Value> {
    findings(report)
        .iter()
        .filter(|f| f["rule"] == rule && f["object"]["name"] == name)
        .collect()
}

fn units(f: &Value) -> Vec<&str> {
    f["units"]
        .as_array()
        .map(|a| a.iter().map(|u| u.as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[test]
fn findings_point_at_the_patch_or_base_line_in_the_right_namespace() {
    let (code, report) = scan_json(&["testdata/repo-model"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        report["summary"]["errors"], 0,
        "{:#}",
        report["diagnostics"]
    );

    // The privileged head comes from the prod patch: at its line, in ml-prod.
    let privileged = find(&report, "pss-privileged", "trainer");
    assert_eq!(privileged.len(), 1, "{privileged:#?}");
    let p = privileged[0];
    assert_eq!(p["file"], format!("{PROD}/privileged-head.yaml"));
    assert_eq!(p["span"]["line"], 13);
    assert_eq!(p["object"]["namespace"], "ml-prod");
    assert_eq!(units(p), [PROD]);

    // `images:` of dev makes the base's image `latest`: the finding is at the
    // base's image line, names the kustomization line that rewrote it, and
    // only in dev.
    let latest = find(&report, "image-latest-tag", "model-server");
    assert_eq!(latest.len(), 1, "{latest:#?}");
    let l = latest[0];
    assert_eq!(l["file"], "testdata/repo-model/app/base/deploy.yaml");
    assert_eq!(l["span"]["line"], 24);
    assert_eq!(l["object"]["namespace"], "ml-dev");
    assert_eq!(units(l), [DEV]);
    let related = l["related"].as_array().unwrap();
    assert!(
        related
            .iter()
            .any(|r| r["file"] == format!("{DEV}/kustomization.yaml") && r["span"]["line"] == 9),
        "{related:#?}"
    );
    // The unrelated folder's image of the same name keeps its tag.
    assert!(findings(&report)
        .iter()
        .all(|f| !(f["rule"] == "image-latest-tag" && f["object"]["name"] == "batch-scorer")));

    // A base line both overlays render is one finding naming both units,
    // on the object as the first unit renders it.
    let sa = find(&report, "default-service-account", "model-server");
    assert_eq!(sa.len(), 1, "{sa:#?}");
    assert_eq!(sa[0]["file"], "testdata/repo-model/app/base/deploy.yaml");
    assert_eq!(sa[0]["span"]["line"], 16);
    assert_eq!(units(sa[0]), [DEV, PROD]);
    assert_eq!(sa[0]["object"]["namespace"], "ml-dev");

    // Every object lands in its overlay's namespace, never in `default`;
    // the patch file is not audited as an object of its own.
    for f in findings(&report) {
        let ns = f["object"]["namespace"].as_str().unwrap_or("");
        assert_ne!(ns, "default", "{f:#}");
        match units(f).first() {
            Some(&u) if u == DEV => assert_eq!(ns, "ml-dev", "{f:#}"),
            Some(&u) if u == PROD => assert_eq!(ns, "ml-prod", "{f:#}"),
            Some(u) => panic!("unexpected unit {u}"),
            None => assert_eq!(f["file"], "testdata/repo-model/other/deploy.yaml", "{f:#}"),
        }
    }
    // The patch replaced the RayCluster's containers (a custom resource:
    // lists are replaced, as kustomize does), so prod's head has no
    // resources, while dev's has them from the base.
    let mem: Vec<_> = find(&report, "missing-memory-limit", "trainer");
    assert_eq!(mem.len(), 1, "{mem:#?}");
    assert_eq!(units(mem[0]), [PROD]);
}

#[test]
fn units_list_the_overlays_and_the_folder_not_the_base() {
    let (code, out) = run(&["units", "testdata/repo-model", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let paths: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [DEV, PROD, "testdata/repo-model/other"]);
}

/// The objects the scan audits are those kubectl renders: the generated
/// ConfigMap's hashed name, and the name reference `configurations:`
/// teaches for the RayCluster.
#[test]
fn overlays_render_as_kubectl_renders_them() {
    if !have_kubectl() {
        return;
    }
    for dir in [DEV, PROD] {
        let (code, ours) = run(&["render", dir, "--format", "json"]);
        assert_eq!(code, 0, "{ours}");
        let ours: Value = serde_json::from_str(&ours).unwrap();
        let out = Command::new("kubectl")
            .args(["kustomize", dir])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let theirs: Vec<Value> = text.split("\n---\n").map(serde_yaml_like).collect();
        assert_eq!(ours, Value::Array(theirs), "{dir}");
    }
    let (_, prod) = run(&["render", PROD, "--format", "json"]);
    assert!(prod.contains("server-settings-hf678c7m2b"), "{prod}");
}

/// kubectl's YAML, as JSON, through the core's own parser (the test
/// compares trees, not formatting).
fn serde_yaml_like(doc: &str) -> Value {
    let (docs, err) = ml_audit::yaml::parse_stream(doc, ml_audit::yaml::Limits::default());
    assert!(err.is_none(), "{err:?}");
    to_json(&docs[0].root)
}

fn to_json(n: &ml_audit::Node) -> Value {
    use ml_audit::Value as V;
    match &n.value {
        V::Null => Value::Null,
        V::Bool(b) => Value::Bool(*b),
        V::Int(i) => Value::from(*i),
        V::Float(f) => Value::from(*f),
        V::Str(s) => Value::String(s.to_string()),
        V::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        V::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|e| (e.key.to_string(), to_json(&e.value)))
                .collect(),
        ),
    }
}

#[test]
fn a_staged_patch_is_audited_as_the_objects_it_changes() {
    let (code, report) = scan_json(&[
        "--with-context",
        "testdata/repo-model",
        "testdata/repo-model/app/overlays/prod/privileged-head.yaml",
    ]);
    assert_eq!(code, 1, "{report:#}");
    let fs = findings(&report);
    assert!(!fs.is_empty());
    for f in fs {
        // Only prod's RayCluster: the patch changes nothing else.
        assert_eq!(f["object"]["name"], "trainer", "{f:#}");
        assert_eq!(units(f), [PROD], "{f:#}");
    }
    assert!(fs
        .iter()
        .any(|f| f["rule"] == "pss-privileged" && f["span"]["line"] == 13));
    // Findings of the base lines on prod's RayCluster are reported too.
    assert!(fs
        .iter()
        .any(|f| f["file"] == "testdata/repo-model/app/base/raycluster.yaml"));
}

#[test]
fn a_kustomization_that_cannot_be_built_is_an_error_and_its_files_are_still_audited() {
    let (code, report) = scan_json(&["testdata/kustomize-cannot-build/remote"]);
    assert_eq!(code, 2, "{report:#}");
    let diags = report["diagnostics"].as_array().unwrap();
    let e = diags
        .iter()
        .find(|d| d["level"] == "error")
        .expect("an error diagnostic");
    assert_eq!(
        e["file"],
        "testdata/kustomize-cannot-build/remote/kustomization.yaml"
    );
    assert_eq!(e["line"], 6);
    assert!(e["message"].as_str().unwrap().contains("remote"), "{e:#}");
    // The resource it names is audited as a plain file.
    let p = find(&report, "pss-privileged", "predictor");
    assert_eq!(p.len(), 1, "{report:#}");
    assert_eq!(
        p[0]["file"],
        "testdata/kustomize-cannot-build/remote/deploy.yaml"
    );
}

#[test]
fn render_kubectl_renders_what_the_core_cannot() {
    if !have_kubectl() {
        return;
    }
    let dir = "testdata/kustomize-cannot-build/builtin-transformer";
    // The core refuses a `transformers:` entry: an error, the Job still audited.
    let (code, report) = scan_json(&[dir]);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(find(&report, "pss-privileged", "finetune").len(), 1);
    // kubectl renders it: a warning, and the findings in its namespace.
    let (code, report) = scan_json(&["--render", "kubectl", dir]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["summary"]["errors"], 0);
    let p = find(&report, "pss-privileged", "team-a-finetune");
    assert_eq!(p.len(), 1, "{report:#}");
    assert_eq!(p[0]["object"]["namespace"], "training");
    assert_eq!(p[0]["file"], format!("kustomize:{dir}"));
    assert!(report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["level"] == "warning" && d["message"].as_str().unwrap().contains("kubectl")));
}

#[test]
fn k_renders_one_kustomization_with_the_core() {
    let (code, report) = scan_json(&["-k", PROD]);
    assert_eq!(code, 1, "{report:#}");
    let p = find(&report, "pss-privileged", "trainer");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["file"], format!("{PROD}/privileged-head.yaml"));
    assert!(findings(&report)
        .iter()
        .all(|f| f["object"]["namespace"] == "ml-prod" || f["object"]["namespace"].is_null()));
}

#[test]
fn render_none_reads_every_file_as_written() {
    let (_, report) = scan_json(&["--render", "none", "testdata/repo-model"]);
    // The patch is then a RayCluster of its own, in `default`.
    assert!(findings(&report)
        .iter()
        .any(|f| f["file"] == format!("{PROD}/privileged-head.yaml")
            && f["object"]["namespace"] == "default"));
}

#[test]
fn a_staged_kustomization_is_audited_as_everything_its_units_render() {
    let (code, report) = scan_json(&[
        "--with-context",
        "testdata/repo-model",
        "testdata/repo-model/app/overlays/dev/kustomization.yaml",
    ]);
    assert_eq!(code, 1, "{report:#}");
    let fs = findings(&report);
    assert!(fs.iter().all(|f| units(f) == [DEV]), "{fs:#?}");
    assert_eq!(find(&report, "image-latest-tag", "model-server").len(), 1);
    assert!(find(&report, "pss-privileged", "trainer").is_empty());
}

#[test]
fn the_config_chooses_the_roles_audited() {
    let dir = std::env::temp_dir().join(format!("ml-audit-roles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, name) in [("deploy/app", "served"), ("examples/demo", "demo")] {
        std::fs::create_dir_all(dir.join(path)).unwrap();
        std::fs::write(
            dir.join(path).join("pod.yaml"),
            format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: ml}}\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n    securityContext: {{privileged: true}}\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.join(".ml-audit.yaml"), "units:\n  roles: [deploy]\n").unwrap();
    let out = Command::new(bin())
        .args([
            "scan",
            "--format",
            "json",
            "--select",
            "pss-privileged",
            ".",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["object"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["served"], "{v:#}");
    // The example's file is counted as left out, not silently dropped.
    assert_eq!(v["summary"]["skipped"]["roleNotSelected"], 1, "{v:#}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A suppression comment in a base covers the finding in every overlay
/// that renders it, and is not reported unused in any of them.
#[test]
fn a_suppression_in_a_base_applies_in_every_unit() {
    let dir = std::env::temp_dir().join(format!("ml-audit-supp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("base")).unwrap();
    std::fs::write(
        dir.join("base/kustomization.yaml"),
        "resources: [pod.yaml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("base/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: gpu-probe}\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n    securityContext:\n      # ml-audit: ignore pss-privileged -- the node probe needs the host devices\n      privileged: true\n",
    )
    .unwrap();
    for ns in ["team-a", "team-b"] {
        std::fs::create_dir_all(dir.join(ns)).unwrap();
        std::fs::write(
            dir.join(ns).join("kustomization.yaml"),
            format!("namespace: {ns}\nresources: [../base]\n"),
        )
        .unwrap();
    }
    let out = Command::new(bin())
        .args([
            "scan",
            "--no-config",
            "--format",
            "json",
            "--select",
            "pss-privileged,suppression-unused",
            ".",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(findings(&v).is_empty(), "{v:#}");
    assert_eq!(v["summary"]["suppressed"], 2, "{v:#}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A kustomization of the audited tree cannot make the scan read files
/// outside it: a path out of the repository is an error at its line, and
/// the file is neither rendered nor read as a plain file.
#[test]
fn a_kustomization_cannot_reach_out_of_the_repository() {
    let top = std::env::temp_dir().join(format!("ml-audit-escape-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&top);
    let repo = top.join("repo");
    std::fs::create_dir_all(repo.join("app")).unwrap();
    std::fs::create_dir_all(top.join("elsewhere")).unwrap();
    std::fs::write(
        top.join("elsewhere/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: leaked-pod}\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n    securityContext: {privileged: true}\n",
    )
    .unwrap();
    let outside = top.join("elsewhere/pod.yaml");
    std::fs::write(
        repo.join("app/kustomization.yaml"),
        format!(
            "resources:\n- ../../elsewhere/pod.yaml\n- {}\n",
            outside.display()
        ),
    )
    .unwrap();
    let out = Command::new(bin())
        .args(["scan", "--no-config", "--format", "json", "."])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("leaked-pod"), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let e = &v["diagnostics"][0];
    assert_eq!(e["file"], "app/kustomization.yaml");
    assert_eq!(e["line"], 2);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("outside the repository"),
        "{e:#}"
    );
    std::fs::remove_dir_all(&top).unwrap();
}
