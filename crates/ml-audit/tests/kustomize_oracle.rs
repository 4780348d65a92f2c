//! The kubectl oracle: every kustomization root of
//! `../shared/repos/kubeflow__manifests` that `kubectl kustomize` builds
//! offline is rendered by the core too, and the objects are compared as
//! canonical JSON (keys sorted), as a set keyed by
//! apiVersion/kind/namespace/name and in order.
//!
//! A root here is a directory with a kustomization that no other
//! kustomization names under `resources`, `bases` or `components` (a local
//! stand-in for the core's unit discovery). Roots that kubectl cannot build
//! offline are out of the denominator; the core must refuse each of them
//! with an error at a file and line.

#[path = "support/shared.rs"]
mod shared;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use ml_audit::yaml::{parse_stream, Limits};
use ml_audit::{kustomization_file, render_kustomization};

/// Roots that agree with kubectl, as measured (48 of 48 on the stored
/// snapshot; the count may only grow).
const AGREEING_AT_LEAST: usize = 48;

/// Roots that render but differ from kubectl, each with its cause. A root
/// that renders differently and is not listed here fails the test: nothing
/// new may render silently wrong. (None today.)
const KNOWN_DIFFERENT: [(&str, &str); 0] = [];

fn kustomization_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    if kustomization_file(dir).is_some() {
        out.push(dir.to_path_buf());
    }
    for p in entries {
        if p.is_dir() && p.file_name().is_some_and(|n| n != ".git") {
            kustomization_dirs(&p, out);
        }
    }
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

fn roots(repo: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    kustomization_dirs(repo, &mut dirs);
    let mut used = BTreeSet::new();
    for d in &dirs {
        let text = std::fs::read_to_string(kustomization_file(d).unwrap()).unwrap_or_default();
        let (docs, _) = parse_stream(&text, Limits::default());
        let Some(doc) = docs.first() else { continue };
        for key in ["resources", "bases", "components"] {
            for item in doc.root.field(key).items() {
                if let Some(s) = item.as_str() {
                    used.insert(normalize(&d.join(s)));
                }
            }
        }
    }
    dirs.into_iter()
        .filter(|d| !used.contains(&normalize(d)))
        .collect()
}

fn id(o: &serde_json::Value) -> String {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    format!(
        "{}/{} {}/{}",
        s(&o["apiVersion"]),
        s(&o["kind"]),
        s(&o["metadata"]["namespace"]),
        s(&o["metadata"]["name"])
    )
}

/// The first path where two values differ.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value as J;
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(v), Some(w)) => first_difference(v, w, format!("{path}/{k}")),
                _ => Some(format!("{path}/{k}")),
            })
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, format!("{path}/{i}"))),
        _ if a == b => None,
        _ => Some(path),
    }
}

#[test]
fn kubeflow_roots_render_as_kubectl_does() {
    let Some(repo) = shared::shared("repos/kubeflow__manifests") else {
        return;
    };
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        println!("skipped: kubectl is not installed");
        return;
    }
    let mut built = 0;
    let mut agreeing = 0;
    let mut unsupported = BTreeMap::new();
    let mut different = BTreeMap::new();
    let mut offline = BTreeMap::new();
    for root in roots(&repo) {
        let rel = root.strip_prefix(&repo).unwrap().display().to_string();
        let out = Command::new("kubectl")
            .arg("kustomize")
            .arg(&root)
            .output()
            .unwrap();
        if !out.status.success() {
            // kubectl cannot build it offline (a remote base, a missing
            // file): the core must refuse it too, at a file and line.
            let kubectl = String::from_utf8_lossy(&out.stderr);
            let kubectl = kubectl
                .lines()
                .rev()
                .find(|l| l.trim().len() > 1)
                .unwrap_or("")
                .to_string();
            offline.insert(rel, (render_kustomization(&root).err(), kubectl));
            continue;
        }
        built += 1;
        let text = String::from_utf8_lossy(&out.stdout);
        let (docs, error) = parse_stream(&text, Limits::default());
        assert!(error.is_none(), "{rel}: kubectl's output does not parse");
        let want: Vec<serde_json::Value> = docs
            .iter()
            .filter(|d| !d.root.is_null())
            .map(|d| d.root.to_json())
            .collect();
        let got: Vec<serde_json::Value> = match render_kustomization(&root) {
            Ok(objects) => objects.iter().map(|o| o.node.to_json()).collect(),
            Err(e) => {
                unsupported.insert(rel, e.to_string());
                continue;
            }
        };
        let want_ids: Vec<String> = want.iter().map(id).collect();
        let got_ids: Vec<String> = got.iter().map(id).collect();
        let want_set: BTreeSet<&String> = want_ids.iter().collect();
        let got_set: BTreeSet<&String> = got_ids.iter().collect();
        let diff = if want_set != got_set {
            let missing: Vec<_> = want_set.difference(&got_set).take(3).collect();
            let extra: Vec<_> = got_set.difference(&want_set).take(3).collect();
            Some(format!(
                "objects differ: missing {missing:?}, extra {extra:?}"
            ))
        } else {
            let by_id: BTreeMap<&String, &serde_json::Value> = want_ids.iter().zip(&want).collect();
            got_ids
                .iter()
                .zip(&got)
                .find_map(|(i, o)| {
                    first_difference(by_id[i], o, String::new())
                        .map(|p| format!("{i}: first difference at {p}"))
                })
                .or_else(|| {
                    (want_ids != got_ids).then(|| "same objects, different order".to_string())
                })
        };
        match diff {
            None => agreeing += 1,
            Some(d) => {
                different.insert(rel, d);
            }
        }
    }
    println!(
        "kubectl oracle: {agreeing} agreeing roots / {built} roots that kubectl builds offline"
    );
    println!(
        "not built by the core ({}), each an error at its line:",
        unsupported.len()
    );
    for (root, e) in &unsupported {
        println!("  {root}: {e}");
    }
    println!("rendered differently ({}):", different.len());
    for (root, d) in &different {
        println!("  {root}: {d}");
    }
    println!(
        "not built by kubectl offline ({}), each an error of the core at its line:",
        offline.len()
    );
    for (root, (core, kubectl)) in &offline {
        let core = core
            .as_ref()
            .map_or("rendered".to_string(), |e| e.to_string());
        println!("  {root}:\n    core: {core}\n    kubectl: {kubectl}");
    }
    let unrefused: Vec<&String> = offline
        .iter()
        .filter(|(_, (e, _))| !e.as_ref().is_some_and(|e| e.line > 0 && e.file.is_file()))
        .map(|(r, _)| r)
        .collect();
    assert!(
        unrefused.is_empty(),
        "kubectl cannot build these offline, and the core renders them or refuses them without a file and line: {unrefused:?}"
    );
    let known: BTreeSet<&str> = KNOWN_DIFFERENT.iter().map(|(r, _)| *r).collect();
    let new: Vec<&String> = different
        .keys()
        .filter(|r| !known.contains(r.as_str()))
        .collect();
    assert!(new.is_empty(), "roots rendered silently wrong: {new:?}");
    assert!(
        agreeing >= AGREEING_AT_LEAST,
        "{agreeing} roots agree with kubectl, fewer than the {AGREEING_AT_LEAST} measured"
    );
    assert_eq!(
        agreeing + unsupported.len() + different.len(),
        built,
        "every root kubectl builds is counted once"
    );
}

// Fixtures of our own under `testdata/kustomize/`, each with the JSON that
// `kubectl kustomize` printed for it checked in (and compared with what it
// prints now when kubectl is installed).

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/kustomize")
        .join(rel)
}

fn json_of(objects: &[ml_audit::RenderedObject]) -> serde_json::Value {
    serde_json::Value::Array(objects.iter().map(|o| o.node.to_json()).collect())
}

/// Renders `rel`, checks it against `expected/<rel with - for />.json` and,
/// when kubectl is installed, against `kubectl kustomize`.
fn check_fixture(rel: &str) -> Vec<ml_audit::RenderedObject> {
    let dir = fixture(rel);
    let objects = render_kustomization(&dir).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let got = json_of(&objects);
    let name = rel.replace('/', "-");
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("expected/{name}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        got,
        expected,
        "{rel}: the rendering differs from the checked-in kubectl output:\n{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
    match Command::new("kubectl").arg("kustomize").arg(&dir).output() {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let (docs, error) = parse_stream(&text, Limits::default());
            assert!(error.is_none(), "{rel}: kubectl's output does not parse");
            let live = serde_json::Value::Array(
                docs.iter()
                    .filter(|d| !d.root.is_null())
                    .map(|d| d.root.to_json())
                    .collect(),
            );
            assert_eq!(
                got, live,
                "{rel}: the rendering differs from kubectl kustomize"
            );
        }
        Ok(out) => panic!(
            "{rel}: kubectl kustomize failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => println!("skipped the kubectl comparison: kubectl: {e}"),
    }
    objects
}

fn find<'a>(objects: &'a [ml_audit::RenderedObject], kind: &str) -> &'a ml_audit::RenderedObject {
    objects
        .iter()
        .find(|o| o.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

/// `configurations:` in a base apply to the overlay's transformers: a
/// CRD's conversion webhook service (a `{name, namespace}` reference) and a
/// Certificate's issuer follow the prefix and the namespace, a custom
/// resource's images (a field and a list of sidecars) follow `images:`,
/// commonLabels reach a custom selector (created) and `namespace:` a custom
/// field (created).
#[test]
fn configurations_match_kubectl() {
    check_fixture("configurations/base");
    let objects = check_fixture("configurations/overlay");
    let ms = find(&objects, "ModelServer");
    let p = "/spec/sidecars/0/image";
    assert_eq!(
        ms.node.pointer(p).unwrap().as_str(),
        Some("mirror.example.com/proxy@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    );
    // The image keeps its line in the resource; the origin names the
    // overlay's `images:` item that rewrote it.
    assert_eq!(ms.node.pointer(p).unwrap().span.line, 10);
    let o = ms.origin_of(p).unwrap();
    assert!(o
        .file
        .ends_with("configurations/overlay/kustomization.yaml"));
    assert_eq!(o.line, 10);
    let crd = find(&objects, "CustomResourceDefinition");
    let svc = "/spec/conversion/webhook/clientConfig/service";
    assert_eq!(
        crd.node.pointer(&format!("{svc}/name")).unwrap().as_str(),
        Some("prod-webhook")
    );
    assert_eq!(
        crd.node
            .pointer(&format!("{svc}/namespace"))
            .unwrap()
            .as_str(),
        Some("team-a")
    );
}

/// Legacy vars: declared in a base and an overlay, resolved after the
/// prefix, namespace and generator hash; in an annotation, args and env
/// values; `$$` escapes, an unknown `$(X)` stays, a string that is only
/// `$(PORT)` becomes the port's number.
#[test]
fn vars_match_kubectl() {
    let objects = check_fixture("vars/overlay");
    let d = find(&objects, "Deployment");
    let p = "/spec/template/spec/containers/0/args/0";
    assert_eq!(
        d.node.pointer(p).unwrap().as_str(),
        Some("--config=prod-model-config-tff59k6md6")
    );
    // The substituted string keeps its span; its origin is the vars: item.
    assert_eq!(d.node.pointer(p).unwrap().span.line, 20);
    let o = d.origin_of(p).unwrap();
    assert!(o.file.ends_with("base/kustomization.yaml"), "{o:?}");
    assert_eq!(o.line, 21);
    let o = d
        .origin_of("/spec/template/spec/containers/0/args/1")
        .unwrap();
    assert!(o.file.ends_with("vars/overlay/kustomization.yaml"));
    assert_eq!(o.line, 6);
    // Untouched strings keep the file they were read from.
    assert!(d
        .file_of("/spec/template/spec/containers/0/env/1/value")
        .unwrap()
        .ends_with("base/deploy.yaml"));
}

/// What kubectl refuses about vars and configurations is an error at the
/// line of the entry at fault.
#[test]
fn var_and_configuration_errors_are_at_their_line() {
    let e = render_kustomization(&fixture("errors/vars-duplicate/overlay")).unwrap_err();
    assert!(
        e.file
            .ends_with("errors/vars-duplicate/overlay/kustomization.yaml"),
        "{e}"
    );
    assert_eq!(e.line, 4, "{e}");
    assert!(
        e.message.contains("var `SERVICE` already encountered"),
        "{e}"
    );
    let e = render_kustomization(&fixture("errors/config-unknown")).unwrap_err();
    assert!(
        e.file
            .ends_with("errors/config-unknown/kustomizeconfig.yaml"),
        "{e}"
    );
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("unknown field `creat`"), "{e}");
    // A configuration outside the kustomization's directory is refused, as
    // kubectl's load restrictor refuses it.
    let e = render_kustomization(&fixture("errors/config-escape/inner")).unwrap_err();
    assert!(
        e.file
            .ends_with("errors/config-escape/inner/kustomization.yaml"),
        "{e}"
    );
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("outside the kustomization"), "{e}");
}

/// A tool more than a test: `ML_AUDIT_KUSTOMIZE_DIR=DIR cargo test -p
/// ml-audit --test kustomize_oracle -- --ignored one_dir` compares the
/// core's rendering of DIR with kubectl's and prints the first difference.
#[test]
#[ignore]
fn one_dir() {
    let Some(dir) = std::env::var_os("ML_AUDIT_KUSTOMIZE_DIR") else {
        println!("set ML_AUDIT_KUSTOMIZE_DIR");
        return;
    };
    let dir = PathBuf::from(dir);
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let (docs, _) = parse_stream(&text, Limits::default());
    let want: Vec<serde_json::Value> = docs
        .iter()
        .filter(|d| !d.root.is_null())
        .map(|d| d.root.to_json())
        .collect();
    let got = match render_kustomization(&dir) {
        Ok(o) => o.iter().map(|o| o.node.to_json()).collect::<Vec<_>>(),
        Err(e) => panic!(
            "core: {e}\nkubectl: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    };
    let want = serde_json::Value::Array(want);
    let got = serde_json::Value::Array(got);
    if let Some(p) = first_difference(&want, &got, String::new()) {
        panic!(
            "first difference at {p}:\nkubectl: {}\ncore: {}",
            serde_json::to_string_pretty(&want).unwrap(),
            serde_json::to_string_pretty(&got).unwrap()
        );
    }
    println!("same as kubectl");
}

/// Name references after prefixes and namespaces, with one base used by
/// two tenants: the webhook of each tenant names its own tenant's Service
/// (name and namespace, told apart by prefix), a RoleBinding's roleRef
/// names the Role and a ClusterRoleBinding's the ClusterRole of the same
/// name, ServiceAccount subjects follow their account (a User does not),
/// the pod template follows the account and the hashed ConfigMap.
#[test]
fn name_references_match_kubectl() {
    let objects = check_fixture("namerefs/all");
    let hooks: Vec<_> = objects
        .iter()
        .filter(|o| o.kind() == "MutatingWebhookConfiguration")
        .map(|o| {
            let s = o.node.pointer("/webhooks/0/clientConfig/service").unwrap();
            (
                o.name(),
                s.field("name").as_str().unwrap(),
                s.field("namespace").as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        hooks,
        [
            ("a-defaulter", "a-api", "team-a"),
            ("b-defaulter", "b-api", "team-b")
        ]
    );
    // The fixed reference keeps its span in the base file; a rewrite
    // origin names the kustomization line that renamed the Service.
    let hook = find(&objects, "MutatingWebhookConfiguration");
    let p = "/webhooks/0/clientConfig/service/name";
    assert_eq!(hook.node.pointer(p).unwrap().span.line, 11);
    let o = hook.origin_of(p).unwrap();
    assert!(o.keeps_span, "{o:?}");
    assert!(o.file.ends_with("tenant-a/kustomization.yaml"), "{o:?}");
    assert_eq!(o.line, 4, "{o:?}");
}

/// A tool more than a test: renders every kubeflow root with the core
/// alone and prints how long it took (`-- --ignored render_all`).
#[test]
#[ignore]
fn render_all() {
    let Some(repo) = shared::shared("repos/kubeflow__manifests") else {
        return;
    };
    let roots = roots(&repo);
    let start = std::time::Instant::now();
    let (mut ok, mut objects) = (0, 0);
    for root in &roots {
        if let Ok(o) = render_kustomization(root) {
            ok += 1;
            objects += o.len();
        }
    }
    println!(
        "rendered {ok} of {} roots ({objects} objects) in {:?}",
        roots.len(),
        start.elapsed()
    );
}

/// `labels:` entries with their own `fields:` (a custom resource's
/// template, created; a selector that is not there, left alone; with
/// `includeSelectors`, the built-in selector specs as well).
#[test]
fn label_fields_match_kubectl() {
    check_fixture("labels-fields");
}

/// Every kustomization of the corpus (`../shared/corpus`: Kubeflow and
/// KubeRay manifests, roots and bases alike): what kubectl builds offline
/// the core renders field for field the same, and what kubectl refuses
/// the core refuses too, at a file and line.
#[test]
fn corpus_kustomizations_render_as_kubectl_does() {
    let Some(corpus) = shared::shared("corpus") else {
        return;
    };
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        println!("skipped: kubectl is not installed");
        return;
    }
    let mut dirs = Vec::new();
    kustomization_dirs(&corpus, &mut dirs);
    let (mut same, mut refused) = (0, 0);
    let mut wrong = Vec::new();
    for dir in &dirs {
        let rel = dir.strip_prefix(&corpus).unwrap().display().to_string();
        let out = Command::new("kubectl")
            .arg("kustomize")
            .arg(dir)
            .output()
            .unwrap();
        let core = render_kustomization(dir);
        if !out.status.success() {
            match core {
                Err(e) if e.line > 0 && e.file.is_file() => refused += 1,
                Err(e) => wrong.push(format!("{rel}: refused without a line: {e}")),
                Ok(_) => wrong.push(format!("{rel}: kubectl refuses it, the core renders it")),
            }
            continue;
        }
        let objects = match core {
            Ok(o) => o,
            Err(e) => {
                wrong.push(format!("{rel}: not built by the core: {e}"));
                continue;
            }
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let (docs, _) = parse_stream(&text, Limits::default());
        let want = serde_json::Value::Array(
            docs.iter()
                .filter(|d| !d.root.is_null())
                .map(|d| d.root.to_json())
                .collect(),
        );
        match first_difference(&want, &json_of(&objects), String::new()) {
            None => same += 1,
            Some(p) => wrong.push(format!("{rel}: first difference at {p}")),
        }
    }
    println!(
        "corpus: {} kustomizations, {same} rendered as kubectl renders them, {refused} refused by both",
        dirs.len()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Generators with `behavior: replace` and `merge` over a base's generated
/// ConfigMaps (prefixed, labelled, annotated): the base's name, namespace,
/// labels and annotations stay under the new ones, and the name hash
/// follows the overlay's options (a global `disableNameSuffixHash: true`
/// wins over a generator's own `false`).
#[test]
fn generator_behaviors_match_kubectl() {
    check_fixture("generator-behavior/overlay");
}
