//! Units: what a repository deploys. On the fixture repository
//! `testdata/units` (a base used by two overlays, a component, a patch, a
//! generator env file, a remote base, a plain folder, an example, a
//! missing resource), and on the shared Kubeflow and Flux repositories.

#[path = "support/shared.rs"]
mod shared;

use std::path::{Path, PathBuf};

use ml_audit::{find_units, Level, LoadOptions, Role, Unit, UnitKind, Units, Use};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/units")
        .canonicalize()
        .unwrap()
}

/// `p` relative to `root`, as the assertions name it.
fn rel(root: &Path, p: &str) -> String {
    let r = format!("{}/", root.display());
    p.strip_prefix(&r).unwrap_or(p).to_string()
}

fn unit<'a>(found: &'a Units, root: &Path, path: &str, kind: UnitKind) -> &'a Unit {
    found
        .units
        .iter()
        .find(|u| rel(root, &u.path) == path && u.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} unit {path}"))
}

fn files(u: &Unit, root: &Path) -> Vec<(String, Use)> {
    u.files
        .iter()
        .map(|f| (rel(root, &f.path), f.used_as))
        .collect()
}

#[test]
fn fixture_units_roles_and_claimed_files() {
    let root = fixture();
    let found = find_units(std::slice::from_ref(&root), &LoadOptions::default());
    let listed: Vec<(String, UnitKind, Role)> = found
        .units
        .iter()
        .map(|u| (rel(&root, &u.path), u.kind, u.role))
        .collect();
    // The base and the component are used by the overlays: not roots. The
    // patch and the env file belong to the dev overlay, never to a folder.
    assert_eq!(
        listed,
        vec![
            ("broken".into(), UnitKind::Kustomization, Role::Deploy),
            (
                "examples/demo".into(),
                UnitKind::Kustomization,
                Role::Example
            ),
            ("overlays/dev".into(), UnitKind::Kustomization, Role::Deploy),
            (
                "overlays/prod".into(),
                UnitKind::Kustomization,
                Role::Deploy
            ),
            ("plain".into(), UnitKind::Folder, Role::Deploy),
        ]
    );
    let dev = unit(&found, &root, "overlays/dev", UnitKind::Kustomization);
    assert_eq!(
        dev.kustomizations
            .iter()
            .map(|k| rel(&root, k))
            .collect::<Vec<_>>(),
        ["overlays/dev", "base", "components/monitoring"]
    );
    assert_eq!(
        files(dev, &root),
        vec![
            ("base/deployment.yaml".into(), Use::Resource),
            ("base/kustomization.yaml".into(), Use::Kustomization),
            ("base/service.yaml".into(), Use::Resource),
            (
                "components/monitoring/kustomization.yaml".into(),
                Use::Kustomization
            ),
            (
                "components/monitoring/servicemonitor.yaml".into(),
                Use::Resource
            ),
            ("overlays/dev/kustomization.yaml".into(), Use::Kustomization),
            ("overlays/dev/params.env".into(), Use::Generator),
            ("overlays/dev/patch-replicas.yaml".into(), Use::Patch),
        ]
    );
    assert!(dev.errors.is_empty() && dev.remote_bases.is_empty());
    // The remote base is recorded at its line, not followed.
    let prod = unit(&found, &root, "overlays/prod", UnitKind::Kustomization);
    assert_eq!(prod.remote_bases.len(), 1);
    assert_eq!(
        prod.remote_bases[0].url,
        "https://github.com/acme/platform//monitoring?ref=v1.0.0"
    );
    assert_eq!(
        (
            rel(&root, &prod.remote_bases[0].file),
            prod.remote_bases[0].line
        ),
        ("overlays/prod/kustomization.yaml".into(), 6)
    );
    // The base is shared by both overlays.
    let base = found
        .shared
        .iter()
        .find(|(k, _)| rel(&root, k) == "base")
        .expect("base is shared");
    assert_eq!(
        base.1.iter().map(|u| rel(&root, u)).collect::<Vec<_>>(),
        ["overlays/dev", "overlays/prod"]
    );
    // The plain folder holds its two manifests.
    let plain = unit(&found, &root, "plain", UnitKind::Folder);
    assert_eq!(
        files(plain, &root),
        vec![
            ("plain/namespace.yaml".into(), Use::Resource),
            ("plain/quota.yaml".into(), Use::Resource),
        ]
    );
    // The missing resource is an error at its line; the unit keeps the
    // resource that exists. A missing path is not an unreadable
    // kustomization.
    let broken = unit(&found, &root, "broken", UnitKind::Kustomization);
    assert_eq!(broken.errors.len(), 1);
    let e = &broken.errors[0];
    assert_eq!(
        (rel(&root, &e.file), e.line, e.col, e.level),
        ("broken/kustomization.yaml".into(), 4, 3, Level::Error)
    );
    assert!(e.message.contains("`missing.yaml`"), "{}", e.message);
    assert_eq!(
        files(broken, &root),
        vec![
            ("broken/kustomization.yaml".into(), Use::Kustomization),
            ("broken/present.yaml".into(), Use::Resource),
        ]
    );
    assert!(found.diagnostics.is_empty(), "{:?}", found.diagnostics);
}

#[test]
fn units_are_sorted_and_the_same_from_any_spelling_of_the_path() {
    let root = fixture();
    let a = find_units(std::slice::from_ref(&root), &LoadOptions::default());
    let dotted = root.join("overlays/../.");
    let b = find_units(&[dotted], &LoadOptions::default());
    let paths = |u: &Units| u.units.iter().map(|u| u.path.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&a), paths(&b));
    let mut sorted = paths(&a);
    sorted.sort();
    assert_eq!(paths(&a), sorted);
}

#[test]
fn unreadable_kustomization_is_an_error_and_cycles_do_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("bad")).unwrap();
    std::fs::write(d.join("bad/kustomization.yaml"), "resources: [a.yaml\n").unwrap();
    std::fs::create_dir_all(d.join("a")).unwrap();
    std::fs::create_dir_all(d.join("b")).unwrap();
    std::fs::write(d.join("a/kustomization.yaml"), "resources:\n- ../b\n").unwrap();
    std::fs::write(d.join("b/kustomization.yaml"), "resources:\n- ../a\n").unwrap();
    let found = find_units(&[d.to_path_buf()], &LoadOptions::default());
    let errors: Vec<_> = found
        .diagnostics
        .iter()
        .filter(|x| x.level == Level::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].file.ends_with("bad/kustomization.yaml"));
    assert!(errors[0].line >= 1);
    // The cycle: one of the two stands as a root, with the cycle as an
    // error at the line that closes it.
    let a = found
        .units
        .iter()
        .find(|u| u.path.ends_with("/a"))
        .expect("a is a root");
    assert!(
        a.errors
            .iter()
            .any(|e| e.message.starts_with("cycle") && e.line == 2),
        "{:?}",
        a.errors
    );
}

/// Kubeflow's manifests: a deployed kustomization only the `example/`
/// install uses is a root; a base its overlays use is not; the missing
/// file and the remote bases are found.
#[test]
fn kubeflow_manifests_units() {
    let Some(repo) = shared::shared("repos/kubeflow__manifests") else {
        return;
    };
    let repo = repo.canonicalize().unwrap();
    let found = find_units(std::slice::from_ref(&repo), &LoadOptions::default());
    let roots: Vec<String> = found
        .units
        .iter()
        .filter(|u| u.kind == UnitKind::Kustomization)
        .map(|u| rel(&repo, &u.path))
        .collect();
    for root in [
        "applications/kserve/kserve",
        "applications/training-operator/upstream/overlays/kubeflow",
        "example",
    ] {
        assert!(roots.iter().any(|r| r == root), "{root} is not a root");
    }
    for base in [
        "applications/training-operator/upstream/base",
        "common/istio/istio-install/base",
    ] {
        assert!(!roots.iter().any(|r| r == base), "{base} is a root");
    }
    let example = unit(&found, &repo, "example", UnitKind::Kustomization);
    assert_eq!(example.role, Role::Example);
    assert!(example
        .kustomizations
        .iter()
        .any(|k| rel(&repo, k) == "applications/kserve/kserve"));
    assert!(example.remote_bases.iter().any(|r| r
        .url
        .starts_with("https://github.com/argoproj/argo-workflows/")));
    // Every kustomization reads: nothing makes the run exit 2.
    assert!(
        !found.diagnostics.iter().any(|d| d.level == Level::Error),
        "{:?}",
        found.diagnostics
    );
    // A file a kustomization reads is never a plain folder's.
    let claimed: std::collections::BTreeSet<&str> = found
        .units
        .iter()
        .filter(|u| u.kind == UnitKind::Kustomization)
        .flat_map(|u| u.files.iter().map(|f| f.path.as_str()))
        .collect();
    for u in found.units.iter().filter(|u| u.kind == UnitKind::Folder) {
        for f in &u.files {
            assert!(!claimed.contains(f.path.as_str()), "{} is claimed", f.path);
        }
    }
}

/// The Flux example: two app overlays, the infrastructure kustomizations
/// and each cluster's flux-system are roots; the apps' base is not.
#[test]
fn flux_example_units() {
    let Some(repo) = shared::shared("repos/fluxcd__flux2-kustomize-helm-example") else {
        return;
    };
    let repo = repo.canonicalize().unwrap();
    let found = find_units(std::slice::from_ref(&repo), &LoadOptions::default());
    let roots: Vec<String> = found
        .units
        .iter()
        .filter(|u| u.kind == UnitKind::Kustomization)
        .map(|u| rel(&repo, &u.path))
        .collect();
    assert_eq!(
        roots,
        [
            "apps/production",
            "apps/staging",
            "clusters/production/flux-system",
            "clusters/staging/flux-system",
            "infrastructure/configs",
            "infrastructure/controllers",
        ]
    );
    assert!(found
        .units
        .iter()
        .all(|u| u.errors.is_empty() && u.role == Role::Deploy));
}

/// Only what the input holds is read: a base outside the input is listed
/// as such, not read; a `kustomization.yaml` that is a symbolic link (to a
/// file outside the tree) is not read either.
#[test]
fn reads_only_the_kustomizations_the_walk_lists() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("repo/app")).unwrap();
    std::fs::create_dir_all(d.join("elsewhere/base")).unwrap();
    std::fs::write(
        d.join("elsewhere/base/kustomization.yaml"),
        "resources:\n- secret-list.yaml\n",
    )
    .unwrap();
    std::fs::write(
        d.join("repo/app/kustomization.yaml"),
        "resources:\n- ../../elsewhere/base\n",
    )
    .unwrap();
    let repo = d.join("repo");
    let found = find_units(std::slice::from_ref(&repo), &LoadOptions::default());
    assert_eq!(found.units.len(), 1);
    let app = &found.units[0];
    assert_eq!(app.kustomizations.len(), 1);
    assert_eq!(app.outside.len(), 1);
    assert!(
        app.outside[0].ends_with("elsewhere/base"),
        "{:?}",
        app.outside
    );
    // Not read: its missing resource is no error here.
    assert!(app.errors.is_empty(), "{:?}", app.errors);
    #[cfg(unix)]
    {
        std::fs::create_dir_all(d.join("repo/linked")).unwrap();
        // The walk lists `Kustomization`; kustomize's first name is the link.
        std::fs::write(d.join("repo/linked/Kustomization"), "resources: []\n").unwrap();
        std::fs::write(d.join("outside.yaml"), "resources:\n- leaked-entry.yaml\n").unwrap();
        std::os::unix::fs::symlink(
            d.join("outside.yaml"),
            d.join("repo/linked/kustomization.yaml"),
        )
        .unwrap();
        let found = find_units(std::slice::from_ref(&repo), &LoadOptions::default());
        let shown = format!("{:?}", found.units);
        assert!(!shown.contains("leaked-entry"), "{shown}");
        let linked = found
            .units
            .iter()
            .find(|u| u.path.ends_with("linked"))
            .expect("linked is a root");
        assert!(linked.files[0].path.ends_with("linked/Kustomization"));
    }
}
