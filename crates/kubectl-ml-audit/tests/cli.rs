//! The real binary, run as users run it: config files, suppressions,
//! baselines, output formats, Helm and kustomize input, a (recorded) live
//! cluster, the real `kubectl` plugin mechanism and the real `pre-commit`.
//! Tests that need a tool that is absent say so and pass.

#[path = "../../ml-audit/tests/support/shared.rs"]
mod shared;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn testdata(p: &str) -> String {
    root().join("testdata/integ").join(p).display().to_string()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn done(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs the binary in `cwd` (the repository root by default).
fn run_in(cwd: &Path, args: &[&str]) -> Run {
    done(
        Command::new(bin())
            .args(args)
            .current_dir(cwd)
            .env_remove("NO_COLOR")
            .output()
            .unwrap(),
    )
}

fn run(args: &[&str]) -> Run {
    run_in(&root(), args)
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr))
}

fn rules_of(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// A directory on PATH holding only the plugin binary, as an install puts it.
fn plugin_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(bin(), d.path().join("kubectl-ml_audit")).unwrap();
    d
}

fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

// ---------------------------------------------------------------- config

#[test]
fn documented_example_config_is_valid_and_applies() {
    let cfg = root().join("docs/ml-audit.example.yaml");
    let cfg = cfg.to_str().unwrap();
    // The kinds extension makes the Trainer's pod visible.
    let r = run(&["--no-config", "--format", "json", &testdata("trainer.yaml")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&[
        "--config",
        cfg,
        "--format",
        "json",
        &testdata("trainer.yaml"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = json(&r);
    assert!(rules_of(&v).contains(&"pss-privileged".to_string()));
    assert!(!rules_of(&v).contains(&"pss-apparmor".to_string()));
    // fail-on: medium from the config; --fail-on overrides it.
    let r = run(&[
        "--config",
        cfg,
        "--fail-on",
        "critical",
        "--select",
        "pss-run-as-non-root",
        &testdata("trainer.yaml"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn config_errors_name_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("c.yaml");
    std::fs::write(&cfg, "ignore:\n  - pss-apparmor\nfial-on: high\n").unwrap();
    let r = run(&["--config", cfg.to_str().unwrap(), &testdata("good.yaml")]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("c.yaml:3:1: unknown key `fial-on`"),
        "{}",
        r.stderr
    );
    std::fs::write(&cfg, "ignore:\n  - pss-apparmor\n  - pss-privilegd\n").unwrap();
    let r = run(&["--config", cfg.to_str().unwrap(), &testdata("good.yaml")]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("c.yaml:3:5: unknown rule or category `pss-privilegd`"),
        "{}",
        r.stderr
    );
}

/// Rule options are checked against the options each rule declares: a
/// string where a list is expected (which once turned the rule off
/// silently) and a misspelt option are errors naming the config line or the
/// `--set` argument, exit 2; `explain` lists the options.
#[test]
fn rule_options_are_checked_and_explained() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "rules:\n  image-untrusted-registry:\n    registries: ghcr.io/acme\n",
    )
    .unwrap();
    let r = run(&["--config", cfg.to_str().unwrap(), &testdata("good.yaml")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("c.yaml:3:17: option `registries` of rule `image-untrusted-registry` takes a list of strings, not \"ghcr.io/acme\""),
        "{}",
        r.stderr
    );
    std::fs::write(
        &cfg,
        "rules:\n  image-untrusted-registry:\n    registry: [ghcr.io/acme]\n",
    )
    .unwrap();
    let r = run(&["--config", cfg.to_str().unwrap(), &testdata("good.yaml")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("c.yaml:3:5: rule `image-untrusted-registry` has no option `registry` (its options: registries)"),
        "{}",
        r.stderr
    );
    for (arg, want) in [
        (
            "image-untrusted-registry.registries=ghcr.io/acme",
            "takes a list of strings",
        ),
        (
            "image-untrusted-registry.registry=[\"ghcr.io/acme\"]",
            "has no option `registry`",
        ),
        (
            "suppression-without-reason.min-reason-length=-1",
            "takes a whole number, not -1",
        ),
    ] {
        let r = run(&["--no-config", "--set", arg, &testdata("good.yaml")]);
        assert_eq!(r.code, 2, "{arg}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("`--set {arg}`: ")),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains(want), "{}", r.stderr);
    }
    // Well typed, it applies.
    let r = run(&[
        "--no-config",
        "--format",
        "json",
        "--select",
        "image-untrusted-registry",
        "--set",
        "image-untrusted-registry.registries=[\"ghcr.io/acme\"]",
        &testdata("bad.yaml"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(rules_of(&json(&r)).contains(&"image-untrusted-registry".to_string()));
    let r = run(&["explain", "image-untrusted-registry"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .contains("## Options\n\n- `registries` (list of strings, default `[]`): "),
        "{}",
        r.stdout
    );
}

#[test]
fn config_is_found_upwards_and_unknown_flags_ids_are_errors() {
    let d = tempfile::tempdir().unwrap();
    let sub = d.path().join("apps/ml");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::copy(testdata("bad.yaml"), sub.join("rc.yaml")).unwrap();
    let r = run_in(&sub, &["--format", "json", "rc.yaml"]);
    assert!(rules_of(&json(&r)).contains(&"pss-privileged".to_string()));
    std::fs::write(
        d.path().join(".ml-audit.yaml"),
        "ignore: [pss-privileged]\nexclude: [skip-me]\n",
    )
    .unwrap();
    let r = run_in(&sub, &["--format", "json", "rc.yaml"]);
    assert!(!rules_of(&json(&r)).contains(&"pss-privileged".to_string()));
    // exclude applies to files named on the command line too
    std::fs::copy(testdata("bad.yaml"), sub.join("skip-me.yaml")).unwrap();
    let r = run_in(&sub, &["--format", "json", "rc.yaml", "skip-me.yaml"]);
    assert_eq!(json(&r)["summary"]["files"], 1);
    let r = run_in(&sub, &["--select", "pss-nope", "rc.yaml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown rule or category `pss-nope`"),
        "{}",
        r.stderr
    );
    let r = run_in(&sub, &["--ignore", "nope", "rc.yaml"]);
    assert_eq!(r.code, 2);
}

// ---------------------------------------------------------- suppressions

const SUPPRESSED: &str = "apiVersion: v1
kind: Pod
metadata:
  name: installer
  namespace: ml
  annotations:
    ml-audit.io/ignore: pss-privileged,pss-host-ports
    ml-audit.io/ignore-reason: GPU driver installer (SEC-123)
spec:
  hostNetwork: true  # ml-audit: ignore pss-host-namespaces -- node exporter
  containers:
  - name: c
    image: busybox:1.36
    securityContext:
      # ml-audit: ignore pss-run-as-user until=2020-01-01 -- old exemption
      privileged: true
";

#[test]
fn suppressions_apply_are_reported_and_can_be_refused() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("pod.yaml");
    std::fs::write(&f, SUPPRESSED).unwrap();
    let f = f.to_str().unwrap();
    let sel = "pss-privileged,pss-host-ports,pss-host-namespaces,pss-run-as-user,suppression";
    let r = run(&["--no-config", "--format", "json", "--select", sel, f]);
    let v = json(&r);
    let rules = rules_of(&v);
    assert!(!rules.contains(&"pss-privileged".to_string()), "{rules:?}");
    assert!(
        !rules.contains(&"pss-host-namespaces".to_string()),
        "{rules:?}"
    );
    // pss-host-ports found nothing: that part of the annotation is unused.
    assert!(
        rules.contains(&"suppression-unused".to_string()),
        "{rules:?}"
    );
    // the comment with until=2020-01-01 has expired and says so
    assert!(
        rules.contains(&"suppression-expired".to_string()),
        "{rules:?}"
    );
    assert_eq!(v["summary"]["suppressed"], 2, "{}", r.stdout);
    let r = run(&[
        "--no-config",
        "--format",
        "json",
        "--select",
        sel,
        "--no-annotation-exemptions",
        f,
    ]);
    let rules = rules_of(&json(&r));
    assert!(rules.contains(&"pss-privileged".to_string()), "{rules:?}");
    assert!(
        rules.contains(&"pss-host-namespaces".to_string()),
        "{rules:?}"
    );
    assert!(
        !rules.iter().any(|r| r.starts_with("suppression-")),
        "{rules:?}"
    );
}

// -------------------------------------------------------------- baseline

#[test]
fn baseline_survives_edits_above_and_reports_new_findings() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("rc.yaml");
    let base = d.path().join("baseline.json");
    std::fs::copy(testdata("bad.yaml"), &f).unwrap();
    let (fs, bs) = (f.to_str().unwrap(), base.to_str().unwrap());
    let r = run(&["--no-config", "--write-baseline", bs, fs]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("wrote"), "{}", r.stderr);
    // Edit above the finding: a comment and labels shift every line.
    let text = std::fs::read_to_string(&f).unwrap().replace(
        "metadata:\n",
        "# owned by team ml\nmetadata:\n  labels:\n    team: ml\n    tier: gpu\n",
    );
    std::fs::write(&f, &text).unwrap();
    let r = run(&["--no-config", "--format", "json", "--baseline", bs, fs]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v = json(&r);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{}", r.stdout);
    assert!(v["summary"]["baselined"].as_u64().unwrap() >= 1);
    // A new problem is still reported.
    std::fs::write(
        &f,
        text.replace(
            "privileged: true",
            "privileged: true\n            runAsUser: 0",
        ),
    )
    .unwrap();
    let r = run(&["--no-config", "--format", "json", "--baseline", bs, fs]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(rules_of(&json(&r)), vec!["pss-run-as-user".to_string()]);
}

// --------------------------------------------------------------- formats

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let r = run(&[
        "--no-config",
        "--format",
        "sarif",
        &testdata("bad.yaml"),
        &testdata("helm/rendered.yaml"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = json(&r);
    let res = &v["runs"][0]["results"][0];
    assert!(res["partialFingerprints"]["mlAudit/v1"].is_string());
    assert!(res["locations"][0]["physicalLocation"]["region"]["startColumn"].is_u64());
    let rule =
        &v["runs"][0]["tool"]["driver"]["rules"][res["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], res["ruleId"]);
    assert!(rule["helpUri"].as_str().unwrap().ends_with(".md"));

    let Some(schema) = shared::shared("schemas/sarif-schema-2.1.0.json") else {
        return;
    };
    let ok = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("skipped schema validation: python3 with the jsonschema module is absent (pip install jsonschema)");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("out.sarif");
    std::fs::write(&log, &r.stdout).unwrap();
    let check = Command::new("python3")
        .args([
            "-c",
            "import json,sys,jsonschema\nschema=json.load(open(sys.argv[1]))\nlog=json.load(open(sys.argv[2]))\njsonschema.validators.validator_for(schema)(schema).validate(log)\nprint('valid')",
            schema.to_str().unwrap(),
            log.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "SARIF invalid: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    println!("SARIF validated against {}", schema.display());
}

#[test]
fn junit_github_and_text_formats() {
    let bad = testdata("bad.yaml");
    let r = run(&[
        "--no-config",
        "--format",
        "junit",
        "--select",
        "pss-privileged,pss-host-ports",
        &bad,
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("<?xml"));
    assert!(
        r.stdout
            .contains("<testcase classname=\"pss-privileged\" name=\"RayCluster ml/rc\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("<failure message="), "{}", r.stdout);
    assert!(
        r.stdout.contains("tests=\"2\" failures=\"1\""),
        "{}",
        r.stdout
    );

    let r = run(&[
        "--no-config",
        "--format",
        "github",
        "--select",
        "pss-privileged",
        &bad,
    ]);
    assert!(
        r.stdout.contains(&format!("::error file={bad},line=14,col=13,endLine=14,endColumn=29,title=pss-privileged (critical)::")),
        "{}",
        r.stdout
    );

    // Colour only when asked or on a terminal; never progress off a terminal.
    let r = run(&["--no-config", "--select", "pss-privileged", &bad]);
    assert!(
        !r.stdout.contains('\x1b') && r.stderr.is_empty(),
        "{:?}",
        r.stderr
    );
    let r = run(&[
        "--no-config",
        "--color",
        "always",
        "--select",
        "pss-privileged",
        &bad,
    ]);
    assert!(r.stdout.contains('\x1b'));
    assert!(r.stdout.contains("pss-privileged"));
}

#[test]
fn helm_output_names_the_chart_template() {
    let r = run(&[
        "--no-config",
        "--format",
        "json",
        "--select",
        "pss-privileged",
        &testdata("helm/rendered.yaml"),
    ]);
    let v = json(&r);
    assert_eq!(
        v["findings"][0]["source"], "ray-cluster/templates/raycluster.yaml",
        "{}",
        r.stdout
    );
    let r = run(&[
        "--no-config",
        "--select",
        "pss-privileged",
        &testdata("helm/rendered.yaml"),
    ]);
    assert!(
        r.stdout
            .contains("rendered from: ray-cluster/templates/raycluster.yaml"),
        "{}",
        r.stdout
    );
}

#[test]
fn completions_and_man_page_come_from_the_cli() {
    for shell in ["bash", "zsh", "fish"] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("kubectl-ml_audit"), "{shell}");
        assert!(r.stdout.contains("write-baseline"), "{shell}");
    }
    let r = run(&["man"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains(".TH kubectl-ml_audit"),
        "{}",
        &r.stdout[..200.min(r.stdout.len())]
    );
}

#[test]
fn krew_manifest_renders_to_a_valid_plugin() {
    let text = std::fs::read_to_string(root().join(".krew.yaml")).unwrap();
    // What krew-release-bot does on a tag.
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("{{addURIAndSha") {
            let indent = &line[..line.len() - t.len()];
            let url = t
                .split('"')
                .nth(1)
                .unwrap()
                .replace("{{ .TagName }}", "v0.1.0");
            out.push_str(&format!(
                "{indent}uri: {url}\n{indent}sha256: {}\n",
                "ab".repeat(32)
            ));
        } else {
            out.push_str(&line.replace("{{ .TagName }}", "v0.1.0"));
            out.push('\n');
        }
    }
    let (docs, err) = ml_audit::yaml::parse_stream(&out, Default::default());
    assert!(err.is_none(), "{err:?}\n{out}");
    let p = docs[0].root.to_json();
    assert_eq!(
        p["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(p["kind"], "Plugin");
    assert_eq!(p["metadata"]["name"], "ml-audit");
    for k in ["version", "homepage", "shortDescription", "description"] {
        assert!(p["spec"][k].is_string(), "{k}");
    }
    let platforms = p["spec"]["platforms"].as_array().unwrap();
    assert!(platforms.len() >= 2);
    for pl in platforms {
        assert_eq!(pl["bin"], "kubectl-ml_audit");
        assert!(pl["uri"].as_str().unwrap().starts_with("https://"));
        assert_eq!(pl["sha256"].as_str().unwrap().len(), 64);
        assert!(pl["selector"]["matchLabels"]["os"].is_string());
    }
}

// --------------------------------------------------- kubectl, for real

#[test]
fn runs_as_a_kubectl_plugin() {
    if !have("kubectl", "version") && !have("kubectl", "--help") {
        println!("skipped: kubectl is not installed (apt-get install kubectl)");
        return;
    }
    let d = plugin_dir();
    let path = path_with(d.path());
    let list = Command::new("kubectl")
        .args(["plugin", "list"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&list.stdout);
    assert!(
        out.contains(&d.path().join("kubectl-ml_audit").display().to_string()),
        "kubectl plugin list: {out}\n{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let r = done(
        Command::new("kubectl")
            .args(["ml-audit", "rules"])
            .env("PATH", &path)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("pss-privileged"));
    let r = done(
        Command::new("kubectl")
            .args([
                "ml-audit",
                "--no-config",
                "--format",
                "json",
                &testdata("bad.yaml"),
            ])
            .env("PATH", &path)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(rules_of(&json(&r)).contains(&"pss-privileged".to_string()));
}

/// `-k DIR` renders the kustomization with the core: the finding names the
/// overlay's namespace and prefix, and points at the base's line.
#[test]
fn kustomize_renders_with_the_core() {
    let overlay = testdata("kustomize/overlay");
    let r = run(&[
        "--no-config",
        "--format",
        "json",
        "--select",
        "pss-privileged",
        "-k",
        &overlay,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = json(&r);
    let f = &v["findings"][0];
    assert_eq!(f["file"], testdata("kustomize/base/raycluster.yaml"));
    assert_eq!(f["span"]["line"], 14);
    assert_eq!(f["object"]["namespace"], "team-a");
    assert_eq!(f["object"]["name"], "prod-rc");
    assert_eq!(f["units"], serde_json::json!([overlay]));
    let r = run(&["--no-config", "-k", &testdata("no-such-dir")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no kustomization.yaml"), "{}", r.stderr);
}

/// A fake `kubectl` that records its arguments and prints recorded output.
fn fake_kubectl(dir: &Path) -> PathBuf {
    let log = dir.join("kubectl.log");
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> '{log}'\ncase \"$*\" in\n  *api-resources*) cat '{res}' ;;\n  *' get '*|get*) cat '{list}' ;;\n  *) echo \"fake kubectl: unexpected $*\" >&2; exit 1 ;;\nesac\n",
        log = log.display(),
        res = testdata("cluster/api-resources.txt"),
        list = testdata("cluster/list.json"),
    );
    let p = dir.join("kubectl");
    std::fs::write(&p, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    log
}

#[test]
fn cluster_reads_live_objects_with_kubectl_get() {
    let d = tempfile::tempdir().unwrap();
    let log = fake_kubectl(d.path());
    let r = done(
        Command::new(bin())
            .args([
                "--no-config",
                "--cluster",
                "--context",
                "kind-ml",
                "--kubeconfig",
                "/tmp/kc",
                "--format",
                "json",
            ])
            .env("PATH", path_with(d.path()))
            .current_dir(root())
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(
        calls[0],
        "--kubeconfig=/tmp/kc --context=kind-ml api-resources -o name"
    );
    assert!(
        calls[1].starts_with("--kubeconfig=/tmp/kc --context=kind-ml get "),
        "{}",
        calls[1]
    );
    assert!(
        calls[1].ends_with(" --all-namespaces -o json"),
        "{}",
        calls[1]
    );
    assert!(calls[1].contains("rayclusters.ray.io"), "{}", calls[1]);
    assert!(calls[1].contains("deployments.apps"));
    // not served by this cluster: not asked for
    assert!(!calls[1].contains("pytorchjobs"), "{}", calls[1]);
    let v = json(&r);
    let objs: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["object"]["kind"].as_str().unwrap(),
                f["object"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert!(objs.contains(&"RayCluster rc".to_string()), "{objs:?}");
    assert!(objs.contains(&"Deployment web".to_string()), "{objs:?}");
    // Owned objects are audited through their owner, once.
    assert!(
        !objs
            .iter()
            .any(|o| o.starts_with("Pod ") || o.starts_with("ReplicaSet ")),
        "{objs:?}"
    );
    assert_eq!(v["findings"][0]["file"], "cluster:kind-ml");

    std::fs::remove_file(&log).unwrap();
    let r = done(
        Command::new(bin())
            .args(["--no-config", "--cluster", "-n", "ml"])
            .env("PATH", path_with(d.path()))
            .current_dir(root())
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(
        calls
            .lines()
            .nth(1)
            .unwrap()
            .ends_with(" --namespace=ml -o json"),
        "{calls}"
    );
}

// ------------------------------------------------- pre-commit, for real

#[test]
fn pre_commit_hook_passes_good_and_fails_bad_manifests() {
    if !have("pre-commit", "--version") {
        println!("skipped: pre-commit is not installed (pip install pre-commit)");
        return;
    }
    if !have("git", "--version") {
        println!("skipped: git is not installed");
        return;
    }
    let plugin = plugin_dir();
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    git(&["init", "-q"]);
    std::fs::copy(testdata("good.yaml"), repo.path().join("good.yaml")).unwrap();
    std::fs::copy(testdata("bad.yaml"), repo.path().join("bad.yaml")).unwrap();
    // Context the hook reads from the repository (`--with-context .`) but
    // does not report on: the namespace's default-deny policy.
    std::fs::write(
        repo.path().join("netpol.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny, namespace: ml}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n",
    )
    .unwrap();
    git(&["add", "."]);
    git(&["commit", "-qm", "manifests"]);
    let try_repo = |file: &str| {
        done(
            Command::new("pre-commit")
                .args([
                    "try-repo",
                    root().to_str().unwrap(),
                    "ml-audit",
                    "--files",
                    file,
                ])
                .current_dir(repo.path())
                .env("PATH", path_with(plugin.path()))
                .env("PRE_COMMIT_HOME", home.path())
                .env("NO_COLOR", "1")
                .output()
                .unwrap(),
        )
    };
    let r = try_repo("good.yaml");
    assert_eq!(
        r.code, 0,
        "good.yaml should pass:\n{}\n{}",
        r.stdout, r.stderr
    );
    assert!(r.stdout.contains("Passed"), "{}", r.stdout);
    let r = try_repo("bad.yaml");
    assert_eq!(
        r.code, 1,
        "bad.yaml should fail:\n{}\n{}",
        r.stdout, r.stderr
    );
    assert!(r.stdout.contains("Failed"), "{}", r.stdout);
    assert!(r.stdout.contains("pss-privileged"), "{}", r.stdout);
    println!("pre-commit try-repo: good.yaml passed, bad.yaml failed with pss-privileged");
}

#[test]
fn pod_template_annotations_cover_their_template() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("rc.yaml");
    let text = std::fs::read_to_string(testdata("bad.yaml")).unwrap().replace(
        "    template:\n      spec:\n",
        "    template:\n      metadata:\n        annotations:\n          ml-audit.io/ignore: pss-privileged\n          ml-audit.io/ignore-reason: head runs the GPU driver installer\n      spec:\n",
    );
    assert!(text.contains("ignore-reason"));
    std::fs::write(&f, text).unwrap();
    let r = run(&[
        "--no-config",
        "--format",
        "json",
        "--select",
        "pss-privileged,suppression",
        f.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(json(&r)["summary"]["suppressed"], 1);
}

/// Runs the binary on a pseudo-terminal (util-linux `script`), as a person would.
fn on_terminal(args: &str, no_color: bool) -> Option<String> {
    if !have("script", "--version") {
        return None;
    }
    let mut c = Command::new("script");
    c.args(["-qec", &format!("{} {args}", bin().display()), "/dev/null"])
        .current_dir(root())
        .env_remove("NO_COLOR");
    if no_color {
        c.env("NO_COLOR", "1");
    }
    Some(String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned())
}

#[test]
fn progress_and_colour_only_on_a_terminal_and_no_color_is_honoured() {
    let args = format!(
        "--no-config --select pss-privileged {}",
        testdata("bad.yaml")
    );
    let Some(out) = on_terminal(&args, false) else {
        println!("skipped: `script` (util-linux) is not installed, no pseudo-terminal to test on");
        return;
    };
    assert!(out.contains("ml-audit: auditing 1 objects"), "{out:?}");
    assert!(out.contains("\x1b[31m"), "{out:?}");
    let out = on_terminal(&args, true).unwrap();
    assert!(!out.contains("\x1b[31m"), "{out:?}");
    assert!(out.contains("pss-privileged"));
    let out = on_terminal(&format!("--format json {args}"), false).unwrap();
    assert!(!out.contains("ml-audit: auditing"), "{out:?}");
    assert!(!out.contains('\x1b'), "{out:?}");
}
