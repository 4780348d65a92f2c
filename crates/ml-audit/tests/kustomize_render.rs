//! The core's kustomize renderer on the fixtures under `testdata/kustomize/`:
//! each fixture renders to the checked-in JSON that `kubectl kustomize`
//! printed for it (and, when `kubectl` is installed, to what it prints now);
//! what cannot be built is an error at the kustomization's line; and every
//! rendered field knows the file it came from.

use std::path::{Path, PathBuf};
use std::process::Command;

use ml_audit::{render_kustomization, RenderedObject};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/kustomize")
        .join(rel)
}

fn rendered_json(objects: &[RenderedObject]) -> serde_json::Value {
    serde_json::Value::Array(objects.iter().map(|o| o.node.to_json()).collect())
}

/// `kubectl kustomize DIR` as JSON, or `None` (with the reason printed) when
/// kubectl is absent or fails.
fn kubectl_json(dir: &Path) -> Option<Result<serde_json::Value, String>> {
    let out = match Command::new("kubectl").arg("kustomize").arg(dir).output() {
        Ok(o) => o,
        Err(e) => {
            println!("skipped the kubectl comparison: kubectl: {e}");
            return None;
        }
    };
    if !out.status.success() {
        return Some(Err(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let (docs, error) = ml_audit::yaml::parse_stream(&text, ml_audit::yaml::Limits::default());
    if let Some(e) = error {
        return Some(Err(format!("kubectl output: {}", e.message)));
    }
    Some(Ok(serde_json::Value::Array(
        docs.iter()
            .filter(|d| !d.root.is_null())
            .map(|d| d.root.to_json())
            .collect(),
    )))
}

fn check_fixture(name: &str) {
    let dir = fixture(name);
    let objects = render_kustomization(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    let got = rendered_json(&objects);
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("expected/{name}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        got,
        expected,
        "{name}: the rendering differs from the checked-in kubectl output:\n{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
    if let Some(live) = kubectl_json(&dir) {
        let live = live.unwrap_or_else(|e| panic!("{name}: kubectl kustomize failed: {e}"));
        assert_eq!(
            got, live,
            "{name}: the rendering differs from kubectl kustomize"
        );
    }
}

/// Generators (literals, files, `abc<&>` in a Secret: Go's JSON escapes in
/// the hash), commonLabels into selectors and templates, commonAnnotations,
/// generated names renamed in the pod template, legacy order.
#[test]
fn base_matches_kubectl() {
    check_fixture("base");
}

/// namespace (and RoleBinding subjects), namePrefix/nameSuffix with the
/// references they rename, a component with an inline JSON patch, images
/// (newTag on a tag and on a digest, newName with a digest), replicas,
/// `labels` with and without templates, a generator merged into the base's.
#[test]
fn overlay_with_prefix_images_component_matches_kubectl() {
    check_fixture("overlay-a");
}

/// patchesStrategicMerge from a file (on a custom resource: lists replaced
/// whole) and inline (containers merged by name, `$patch: delete`, env and
/// ports merged by key), patchesJson6902 (replace, add, remove, test),
/// `patches` by id and with a regex target, a Secret from an env file with
/// a type, disableNameSuffixHash.
#[test]
fn overlay_with_patches_matches_kubectl() {
    check_fixture("overlay-b");
}

/// `replacements` inline and from a file: a generated ConfigMap's value into
/// a container's env (by `[name=...]`) and into an annotation whose key has
/// dots (created), a Service port into part of an image (`delimiter`,
/// `index`); and a list element `$patch: replace` that replaces the list.
#[test]
fn replacements_match_kubectl() {
    check_fixture("replacements");
    let objects = render_kustomization(&fixture("replacements")).unwrap();
    let deploy = find(&objects, "Deployment");
    let p = "/spec/template/spec/containers/0/env/0/value";
    assert_eq!(deploy.node.pointer(p).unwrap().as_str(), Some("resnet"));
    assert!(deploy
        .file_of(p)
        .unwrap()
        .ends_with("replacements/kustomization.yaml"));
    let ray = find(&objects, "RayCluster");
    assert!(ray
        .file_of("/spec/headGroupSpec/template/spec/containers/0/image")
        .unwrap()
        .ends_with("replacements/replacements.yaml"));
}

fn find<'a>(objects: &'a [RenderedObject], kind: &str) -> &'a RenderedObject {
    objects.iter().find(|o| o.kind() == kind).unwrap()
}

/// The side table: a field set by a patch names the patch file, and its
/// node keeps the patch's line; a field from the base names the base file;
/// an image rewritten by `images:` names the kustomization.
#[test]
fn fields_know_the_file_they_came_from() {
    let objects = render_kustomization(&fixture("overlay-b")).unwrap();
    let ray = find(&objects, "RayCluster");
    let p = "/spec/headGroupSpec/template/spec/containers/0/securityContext/privileged";
    assert_eq!(ray.node.pointer(p).unwrap().as_bool(), Some(true));
    assert_eq!(
        ray.file_of(p).unwrap(),
        fixture("overlay-b/privileged.yaml").as_path()
    );
    assert_eq!(ray.node.pointer(p).unwrap().span.line, 12);
    // The custom resource's container list is replaced whole by the patch:
    // runAsNonRoot from the base is gone, as in kubectl's output.
    assert!(ray
        .node
        .pointer("/spec/headGroupSpec/template/spec/containers/0/securityContext/runAsNonRoot")
        .is_none());
    let ns = "/metadata/namespace";
    assert_eq!(
        ray.file_of(ns).unwrap().file_name().unwrap(),
        "kustomization.yaml"
    );
    assert!(ray.file_of(ns).unwrap().starts_with(fixture("overlay-b")));
    assert!(ray
        .file_of("/spec/headGroupSpec/template/spec/containers/0/image")
        .is_some());

    let deploy = find(&objects, "Deployment");
    let image = "/spec/template/spec/containers/0/image";
    assert!(deploy.file_of(image).unwrap().ends_with("base/deploy.yaml"));
    assert_eq!(deploy.node.pointer(image).unwrap().span.line, 18);

    let a = render_kustomization(&fixture("overlay-a")).unwrap();
    let deploy = find(&a, "Deployment");
    assert_eq!(
        deploy.node.pointer(image).unwrap().as_str(),
        Some("ghcr.io/acme/model-server:latest")
    );
    assert!(deploy
        .file_of(image)
        .unwrap()
        .ends_with("overlay-a/kustomization.yaml"));
    // The image node keeps the line it is written at in the base, and its
    // origin names the `images:` entry that rewrote it (for `related`).
    assert_eq!(deploy.node.pointer(image).unwrap().span.line, 18);
    assert_eq!(deploy.origin_of(image).unwrap().line, 11);
}

fn render_error(name: &str) -> ml_audit::RenderError {
    render_kustomization(&fixture(name)).expect_err(name)
}

/// What the renderer cannot build is an error at the kustomization's line,
/// never a half-rendered result.
#[test]
fn what_cannot_be_built_is_an_error_at_its_line() {
    let e = render_error("errors/helm");
    assert_eq!(
        (e.line, e.file.file_name().unwrap().to_str()),
        (3, Some("kustomization.yaml"))
    );
    assert!(e.message.contains("helmCharts"), "{e}");

    let e = render_error("errors/remote");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("remote resource"), "{e}");

    let e = render_error("errors/missing");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("absent.yaml"), "{e}");

    // A var that names no object (kubectl: "cannot be mapped to a field in
    // the set of known resources"), at its item.
    let e = render_error("errors/vars");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("var `X` cannot be mapped"), "{e}");
}

/// A file outside the kustomization's directory is refused, as kubectl's
/// load restrictor refuses it: a hostile repository cannot pull another
/// file of the machine into a generated Secret.
#[test]
fn files_outside_the_kustomization_are_refused() {
    let e = render_error("errors/escape");
    assert_eq!(e.line, 4);
    assert!(e.message.contains("outside the kustomization"), "{e}");
}

/// kustomize's content hash, on the value kubectl gives for a Secret with
/// one literal `token=abc<&>`.
#[test]
fn content_hash_is_kustomizes() {
    let text = "apiVersion: v1\nkind: Secret\ntype: Opaque\nmetadata:\n  name: x\ndata:\n  token: YWJjPCY+\n";
    let (docs, _) = ml_audit::yaml::parse_stream(text, ml_audit::yaml::Limits::default());
    assert_eq!(
        ml_audit::kustomize_content_hash(&docs[0].root),
        "dm2727k6bt"
    );
}

/// A diamond of bases, each level with its own prefix: 2^24 builds and
/// objects if nothing stopped it; refused at the build budget, quickly.
#[test]
fn a_diamond_of_bases_is_refused_not_rendered_forever() {
    let dir = std::env::temp_dir().join(format!("ml-audit-diamond-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let depth = 24;
    std::fs::create_dir_all(dir.join("leaf")).unwrap();
    std::fs::write(
        dir.join("leaf/kustomization.yaml"),
        "resources: [cm.yaml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("leaf/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    .unwrap();
    for level in (0..depth).rev() {
        for side in ["a", "b"] {
            let d = dir.join(format!("l{level}{side}"));
            std::fs::create_dir_all(&d).unwrap();
            let below = if level + 1 == depth {
                vec!["../leaf".to_string()]
            } else {
                vec![format!("../l{}a", level + 1), format!("../l{}b", level + 1)]
            };
            std::fs::write(
                d.join("kustomization.yaml"),
                format!("namePrefix: {side}-\nresources: [{}]\n", below.join(", ")),
            )
            .unwrap();
        }
    }
    let e = ml_audit::render_kustomization(&dir.join("l0a")).unwrap_err();
    assert!(e.message.contains("kustomization builds"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A FIFO named as a resource or a patch is refused without blocking: the
/// renderer reads files as the loader does.
#[cfg(unix)]
#[test]
fn a_fifo_named_by_a_kustomization_is_refused_without_hanging() {
    let dir = std::env::temp_dir().join(format!("ml-audit-kfifo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("deploy.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    std::fs::write(
        dir.join("kustomization.yaml"),
        "resources: [deploy.yaml]\npatches:\n- path: deploy.yaml\n",
    )
    .unwrap();
    let e = ml_audit::render_kustomization(&dir).unwrap_err();
    assert_eq!(e.line, 1, "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `sortOptions` of the top kustomization only (a base's is ignored):
/// `fifo` keeps the order read, `legacy` with its own first and last kinds.
#[test]
fn sort_options_match_kubectl() {
    check_fixture("sort-options/fifo");
    check_fixture("sort-options/custom");
}

/// A node of an inline patch is at its line and column in the
/// kustomization, whether the patch is a block scalar (with blank lines
/// first) or a one-line JSON patch.
#[test]
fn inline_patch_nodes_are_at_their_place_in_the_kustomization() {
    let dir = std::env::temp_dir().join(format!("ml-audit-inline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: a:1\n",
    )
    .unwrap();
    let k = "resources: [deploy.yaml]\npatches:\n- target: {kind: Deployment}\n  patch: |-\n\n    - op: add\n      path: /spec/template/spec/initContainers\n      value:\n      - name: init\n        image: b:latest\n- target: {kind: Deployment}\n  patch: '[{\"op\": \"add\", \"path\": \"/spec/replicas\", \"value\": 3}]'\n";
    std::fs::write(dir.join("kustomization.yaml"), k).unwrap();
    let objects = render_kustomization(&dir).unwrap();
    let d = &objects[0];
    let image = d
        .node
        .pointer("/spec/template/spec/initContainers/0/image")
        .unwrap();
    // `        image: b:latest` is line 10, the value at column 16.
    assert_eq!((image.span.line, image.span.col), (10, 16));
    assert!(d
        .file_of("/spec/template/spec/initContainers/0/image")
        .unwrap()
        .ends_with("kustomization.yaml"));
    let replicas = d.node.pointer("/spec/replicas").unwrap();
    assert_eq!(replicas.span.line, 12);
    std::fs::remove_dir_all(&dir).unwrap();
}
