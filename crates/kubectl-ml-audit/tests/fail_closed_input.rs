//! Hostile repositories, through the real binary (issue 21, the input
//! side): ignore files in the audited tree cannot hide a manifest, hidden
//! files are audited, what is skipped is counted and said, `--baseline`
//! refuses what is not a regular file, and `--cluster` keeps mirror pods.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl-ml_audit")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn fixture(name: &str) -> PathBuf {
    root().join("testdata/hostile/input").join(name)
}

/// The privileged pod fixture, named `name`, written at `dir/rel`.
fn pod(dir: &Path, rel: &str, name: &str) {
    let text = std::fs::read_to_string(fixture("privileged-pod.yaml"))
        .unwrap()
        .replace("NAME", name);
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(["--no-config"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// The names of the objects with findings, and the JSON report.
fn audited(dir: &Path, args: &[&str]) -> (i32, Vec<String>, serde_json::Value) {
    let mut all = vec![".", "--format", "json"];
    all.extend_from_slice(args);
    let out = run(dir, &all);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    let mut names: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "pss-privileged")
        .map(|f| f["object"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names.dedup();
    (out.status.code().unwrap_or(-1), names, v)
}

fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn ignore_files_outside_a_git_repository_hide_nothing() {
    let d = tempfile::tempdir().unwrap();
    pod(d.path(), "a.yaml", "named-by-gitignore");
    pod(d.path(), "sub/b.yaml", "named-by-ignore");
    pod(d.path(), "gen/c.yaml", "in-ignored-dir");
    std::fs::write(d.path().join(".gitignore"), "a.yaml\ngen/\n").unwrap();
    std::fs::write(d.path().join("sub/.ignore"), "b.yaml\n").unwrap();
    let (code, names, v) = audited(d.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        names,
        ["in-ignored-dir", "named-by-gitignore", "named-by-ignore"]
    );
    assert_eq!(v["summary"]["files"], 3);
    assert_eq!(v["summary"]["skipped"]["ignoredByGit"], 0);
    // The two ignore files themselves.
    assert_eq!(v["summary"]["skipped"]["notYamlOrJson"], 2);
}

#[test]
fn in_a_git_repository_tracked_files_are_audited_whatever_gitignore_says() {
    let d = tempfile::tempdir().unwrap();
    let d = d.path();
    if !git(d, &["init", "-q"]) {
        println!("skipped: git is not installed");
        return;
    }
    pod(d, "m/tracked.yaml", "tracked-but-gitignored");
    pod(d, "m/untracked.yaml", "untracked-named-by-ignore");
    pod(d, "m/ignored.yaml", "untracked-gitignored");
    pod(d, "gen/out.yaml", "in-gitignored-dir");
    pod(d, "gen/keep.yaml", "tracked-in-gitignored-dir");
    pod(d, "deep/x/.gitignore.yaml", "hidden-name");
    std::fs::write(
        d.join(".gitignore"),
        "m/tracked.yaml\nm/ignored.yaml\ngen/\n",
    )
    .unwrap();
    std::fs::write(d.join(".ignore"), "m/untracked.yaml\n").unwrap();
    // A pull request adds a manifest and a pattern that names it.
    assert!(git(d, &["add", "-f", "m/tracked.yaml", "gen/keep.yaml"]));
    assert!(git(d, &["add", ".gitignore", ".ignore"]));
    assert!(git(d, &["commit", "-qm", "x"]));
    let (code, names, v) = audited(d, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        names,
        [
            "hidden-name",
            "tracked-but-gitignored",
            "tracked-in-gitignored-dir",
            "untracked-named-by-ignore",
        ]
    );
    let skipped = &v["summary"]["skipped"];
    // m/ignored.yaml, and gen/out.yaml (gen/ is walked for its tracked file).
    assert_eq!(skipped["ignoredByGit"], 2, "{skipped}");
    // Text: the footer says what was skipped and why.
    let out = run(d, &["."]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("4 files skipped: 2 ignored by git, 2 not YAML/JSON"),
        "{text}"
    );

    // --no-ignore: everything under the path.
    let (_, names, v) = audited(d, &["--no-ignore"]);
    assert_eq!(names.len(), 6, "{names:?}");
    assert_eq!(v["summary"]["skipped"]["ignoredByGit"], 0);

    // An ignored directory named on the command line is audited: the
    // command line chooses (patterns inside it still apply).
    let out = run(d, &["gen", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["files"], 2, "{}", v["summary"]);
    // A directory whose manifests git all ignores is not a clean audit.
    pod(d, "all-ignored/x.yaml", "x");
    std::fs::write(d.join("all-ignored/.gitignore"), "*\n").unwrap();
    let out = run(d, &["all-ignored", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["files"], 0);
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(
        diags.iter().any(|d| d["level"] == "warning"
            && d["message"]
                .as_str()
                .unwrap()
                .starts_with("every manifest here is ignored by git")),
        "{diags:?}"
    );
    std::fs::remove_dir_all(d.join("all-ignored")).unwrap();

    // A subdirectory named on the command line: the root's patterns apply.
    let out = run(d, &["m", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["files"], 2, "{}", v["summary"]);
    assert_eq!(v["summary"]["skipped"]["ignoredByGit"], 1);
}

#[test]
fn hidden_files_are_audited_and_git_internals_never() {
    let d = tempfile::tempdir().unwrap();
    let d = d.path();
    let in_git = git(d, &["init", "-q"]);
    pod(d, ".k8s/priv.yaml", "in-hidden-dir");
    pod(d, ".priv.yaml", "hidden-file");
    // Inside .git: never walked.
    pod(d, ".git/priv.yaml", "inside-dot-git");
    std::fs::create_dir_all(d.join(".github/workflows")).unwrap();
    std::fs::write(d.join(".github/workflows/ci.yml"), "on: push\njobs: {}\n").unwrap();
    let (code, names, v) = audited(d, &[]);
    assert_eq!(code, 1);
    assert_eq!(names, ["hidden-file", "in-hidden-dir"]);
    // The workflow was read, held no object: counted, not reported.
    assert_eq!(v["summary"]["skipped"]["hidden"], 1);
    assert!(
        v["diagnostics"].as_array().unwrap().is_empty(),
        "{}",
        v["diagnostics"]
    );
    if !in_git {
        println!("git is not installed: checked outside a repository only");
    }
}

#[cfg(unix)]
#[test]
fn symbolic_links_are_not_followed_and_are_counted() {
    let outside = tempfile::tempdir().unwrap();
    pod(outside.path(), "secret.yaml", "outside-the-tree");
    let d = tempfile::tempdir().unwrap();
    pod(d.path(), "in.yaml", "inside");
    std::os::unix::fs::symlink(
        outside.path().join("secret.yaml"),
        d.path().join("link.yaml"),
    )
    .unwrap();
    let (_, names, v) = audited(d.path(), &[]);
    assert_eq!(names, ["inside"]);
    assert_eq!(v["summary"]["skipped"]["symlinks"], 1);
}

#[test]
fn the_audit_is_the_same_for_any_thread_count() {
    let d = tempfile::tempdir().unwrap();
    let d = d.path();
    let _ = git(d, &["init", "-q"]);
    for i in 0..40 {
        pod(d, &format!("d{}/p{i}.yaml", i % 7), &format!("p{i}"));
    }
    std::fs::write(d.join(".gitignore"), "d3/\n*5.yaml\n").unwrap();
    let _ = git(d, &["add", "d1", ".gitignore"]);
    let outs: Vec<Vec<u8>> = ["1", "2", "4"]
        .iter()
        .map(|j| run(d, &[".", "-j", j, "--format", "json"]).stdout)
        .collect();
    assert!(!outs[0].is_empty());
    assert!(outs.iter().all(|o| *o == outs[0]));
}

fn baseline_refused(path: &str, expect: &str) {
    let d = tempfile::tempdir().unwrap();
    pod(d.path(), "p.yaml", "p");
    let start = Instant::now();
    let out = run(d.path(), &[".", "--baseline", path]);
    assert!(start.elapsed() < Duration::from_secs(30), "{path}: hung");
    assert_eq!(out.status.code(), Some(2), "{path}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(expect) && err.contains("not a regular file"),
        "{path}: {err}"
    );
}

#[cfg(unix)]
#[test]
fn a_baseline_that_is_not_a_regular_file_is_refused() {
    baseline_refused("/dev/zero", "character device");
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("baseline.json");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if made {
        // No writer ever opens it: reading it would wait forever.
        baseline_refused(fifo.to_str().unwrap(), "FIFO");
    } else {
        println!("skipped the FIFO: mkfifo is not available");
    }
    // A symbolic link to a device, as a pull request could commit one.
    std::os::unix::fs::symlink("/dev/zero", d.path().join("link.json")).unwrap();
    baseline_refused(
        d.path().join("link.json").to_str().unwrap(),
        "character device",
    );
}

/// A fake `kubectl` that prints the mirror-pod fixture.
#[cfg(unix)]
#[test]
fn the_cluster_read_keeps_mirror_pods() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let script = format!(
        "#!/bin/sh\ncase \"$*\" in\n  *api-resources*) echo pods ;;\n  *' get '*|get*) cat '{}' ;;\n  *) exit 1 ;;\nesac\n",
        fixture("cluster-mirror-pods.json").display()
    );
    let k = d.path().join("kubectl");
    std::fs::write(&k, script).unwrap();
    std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        d.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(bin())
        .args(["--no-config", "--cluster", "--format", "json"])
        .env("PATH", path)
        .current_dir(d.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let mut pods: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "pss-privileged")
        .map(|f| f["object"]["name"].as_str().unwrap())
        .collect();
    pods.dedup();
    // The static pod is audited; the ReplicaSet's pod is audited through
    // its owner (absent here), as before.
    assert_eq!(pods, ["kube-apiserver-node-1"]);
}
