//! Coverage: the ML kinds whose pods live elsewhere are audited where they
//! are written, removed API versions are audited with a warning, and what
//! is not audited is counted with the reason (issue 25).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scan(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
        .env("NO_COLOR", "1")
        .args(["scan", "--format", "json"])
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    });
    (out.status.code().unwrap_or(-1), v)
}

/// (rule, file, line, col, object kind/name, role in the message).
fn findings(v: &serde_json::Value) -> Vec<(String, String, u64, u64, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
                f["span"]["col"].as_u64().unwrap(),
                format!(
                    "{}/{}",
                    f["object"]["kind"].as_str().unwrap(),
                    f["object"]["name"].as_str().unwrap()
                ),
            )
        })
        .collect()
}

fn has(v: &serde_json::Value, rule: &str, file: &str, line: u64, col: u64, object: &str) -> bool {
    findings(v).contains(&(
        rule.to_string(),
        file.to_string(),
        line,
        col,
        object.to_string(),
    ))
}

fn warnings(v: &serde_json::Value) -> Vec<(String, u64, String)> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["level"] == "warning")
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const SELECT: &str =
    "pss-privileged,pss-host-namespaces,image-latest-tag,missing-memory-limit,hardcoded-credential";

#[test]
fn trainjob_pods_are_its_runtime_with_its_fields_each_at_its_line() {
    let (_, v) = scan(&["testdata/coverage/trainjob", "--select", SELECT]);
    let rt = "testdata/coverage/trainjob/runtime.yaml";
    let tj = "testdata/coverage/trainjob/trainjob.yaml";
    // The runtime's own field: at the runtime's line, for the runtime and
    // for the TrainJob that starts pods from it.
    assert!(has(
        &v,
        "pss-privileged",
        rt,
        34,
        25,
        "ClusterTrainingRuntime/torch-distributed"
    ));
    assert!(has(&v, "pss-privileged", rt, 34, 25, "TrainJob/finetune"));
    // The fields the TrainJob sets: at the TrainJob's lines.
    assert!(
        has(&v, "image-latest-tag", tj, 16, 5, "TrainJob/finetune"),
        "{:#?}",
        findings(&v)
    );
    // Its resources are resourcesPerNode (GPUs, no memory limit), not the
    // runtime's (none at all).
    assert!(has(
        &v,
        "missing-memory-limit",
        tj,
        19,
        7,
        "TrainJob/finetune"
    ));
    // (The runtime's node container is at line 31.)
    assert!(has(
        &v,
        "missing-memory-limit",
        rt,
        31,
        23,
        "ClusterTrainingRuntime/torch-distributed"
    ));
    assert!(!has(
        &v,
        "missing-memory-limit",
        rt,
        31,
        23,
        "TrainJob/finetune"
    ));
    // The initializer's env the TrainJob sets: at its line, in the
    // dataset initializer's pods.
    assert!(has(
        &v,
        "hardcoded-credential",
        tj,
        14,
        11,
        "TrainJob/finetune"
    ));
    // A TrainJob whose runtime is not in the input is counted, with why.
    let na = &v["summary"]["notAudited"];
    assert!(na
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "TrainJob"
            && e["count"] == 1
            && e["reason"] == "the training runtime it references is not in the input"));
}

#[test]
fn llm_inference_service_is_audited_with_its_base_configs() {
    let (_, v) = scan(&[
        "testdata/coverage/llm-inference-service.yaml",
        "--select",
        SELECT,
    ]);
    let f = "testdata/coverage/llm-inference-service.yaml";
    // The config's own pods, and the service's through baseRefs.
    assert!(has(
        &v,
        "pss-privileged",
        f,
        12,
        11,
        "LLMInferenceServiceConfig/base-template"
    ));
    assert!(has(
        &v,
        "pss-privileged",
        f,
        12,
        11,
        "LLMInferenceService/chat"
    ));
    // The image the service sets over the config's: at the service's line.
    assert!(has(
        &v,
        "image-latest-tag",
        f,
        33,
        9,
        "LLMInferenceService/chat"
    ));
    // The worker pod, and the prefill pods from the config.
    assert!(has(
        &v,
        "pss-host-namespaces",
        f,
        35,
        5,
        "LLMInferenceService/chat"
    ));
    assert!(has(
        &v,
        "missing-memory-limit",
        f,
        16,
        11,
        "LLMInferenceService/chat"
    ));
}

#[test]
fn appwrapper_components_and_argo_resource_manifests_are_audited_at_their_lines() {
    let (_, v) = scan(&[
        "testdata/coverage/appwrapper.yaml",
        "testdata/coverage/argo-resource.yaml",
        "--select",
        SELECT,
    ]);
    assert!(has(
        &v,
        "pss-privileged",
        "testdata/coverage/appwrapper.yaml",
        23,
        25,
        "AppWrapper/wrapped"
    ));
    // Inside the `manifest: |` block scalar, at the file's line and column.
    assert!(has(
        &v,
        "pss-privileged",
        "testdata/coverage/argo-resource.yaml",
        24,
        23,
        "Workflow/launch"
    ));
    // A `delete` template creates nothing: one workload only.
    assert_eq!(v["summary"]["workloads"], 2);
}

#[test]
fn removed_api_versions_are_audited_with_a_warning_naming_the_release() {
    let (_, v) = scan(&["testdata/coverage/removed-apis.yaml", "--select", SELECT]);
    let f = "testdata/coverage/removed-apis.yaml";
    assert!(has(&v, "pss-privileged", f, 13, 13, "Deployment/legacy"));
    assert!(has(&v, "pss-privileged", f, 30, 17, "CronJob/nightly"));
    let w = warnings(&v);
    let at = |line: u64, text: &str| {
        w.iter()
            .any(|(file, l, m)| file == f && *l == line && m.contains(text))
    };
    assert!(
        at(1, "`extensions/v1beta1` was removed in Kubernetes 1.16"),
        "{w:#?}"
    );
    assert!(at(15, "`batch/v1beta1` was removed in Kubernetes 1.25"));
    assert!(at(
        32,
        "`networking.k8s.io/v1beta1` was removed in Kubernetes 1.22"
    ));
    // A known kind under a group that does not serve it: a warning, and
    // counted as not audited.
    assert!(at(
        41,
        "no Kubernetes API serves Deployment under apiVersion `v1` (apps/v1 does)"
    ));
    assert!(at(
        60,
        "no Kubernetes API serves Job under apiVersion `apps/v1` (batch/v1 does)"
    ));
    // A kind Kubernetes removed with no successor.
    assert!(at(53, "PodSecurityPolicy restricted: apiVersion `policy/v1beta1` was removed in Kubernetes 1.25, and PodSecurityPolicy has no successor"), "{w:#?}");
    assert_eq!(
        v["summary"]["notAudited"],
        serde_json::json!([
            {"apiVersion": "apps/v1", "kind": "Job", "count": 1,
                "reason": "Job is not served under this apiVersion"},
            {"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "count": 1,
                "reason": "removed from Kubernetes in 1.25, with no successor"},
            {"apiVersion": "v1", "kind": "Deployment", "count": 1,
                "reason": "Deployment is not served under this apiVersion"}
        ])
    );
}

#[test]
fn unknown_kinds_are_counted_and_containers_in_them_are_pointed_at() {
    let (_, v) = scan(&["testdata/coverage/unknown-kind.yaml"]);
    assert_eq!(
        v["summary"]["notAudited"],
        serde_json::json!([
            {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "count": 1, "reason": "no rule reads this kind"},
            {"apiVersion": "ml.example.com/v1", "kind": "Trainer", "count": 1, "reason": "no rule reads this kind"}
        ])
    );
    let w = warnings(&v);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(
        (w[0].0.as_str(), w[0].1),
        ("testdata/coverage/unknown-kind.yaml", 10)
    );
    assert!(w[0].2.contains(
        "teach it in .ml-audit.yaml: `kinds: [{group: \"ml.example.com\", kind: Trainer, pods: [{each: /spec/workers/*, pod: pod}]}]`"
    ));
    // The text footer lists the same table.
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
        .env("NO_COLOR", "1")
        .args(["scan", "testdata/coverage/unknown-kind.yaml"])
        .current_dir(root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "2 objects not audited:\n      1  cert-manager.io/v1 Certificate: no rule reads this kind\n      1  ml.example.com/v1 Trainer: no rule reads this kind\n"
        ),
        "{text}"
    );
}

#[test]
fn the_suggested_kinds_entry_teaches_the_kind() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg.yaml");
    std::fs::write(
        &cfg,
        "kinds:\n  - {group: \"ml.example.com\", kind: Trainer, pods: [{each: /spec/workers/*, pod: pod}]}\n",
    )
    .unwrap();
    let (_, v) = scan(&[
        "testdata/coverage/unknown-kind.yaml",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(v["summary"]["workloads"], 1);
    assert!(warnings(&v).is_empty());
}

#[test]
fn raycronjob_and_sandbox_pods_are_audited_and_a_bad_manifest_is_a_warning_at_its_line() {
    let (_, v) = scan(&[
        "testdata/coverage/more-kinds.yaml",
        "--select",
        "pss-privileged,pss-host-namespaces",
    ]);
    let f = "testdata/coverage/more-kinds.yaml";
    assert!(has(
        &v,
        "pss-privileged",
        f,
        18,
        19,
        "RayCronJob/nightly-eval"
    ));
    assert!(has(
        &v,
        "pss-host-namespaces",
        f,
        28,
        7,
        "SandboxTemplate/python"
    ));
    let w = warnings(&v);
    assert_eq!(w.len(), 1, "{w:#?}");
    // Inside the block scalar, not at the template.
    assert!(w[0].1 >= 44, "{w:#?}");
    assert!(w[0]
        .2
        .contains("the manifest of resource template #0 is not valid YAML"));
    assert!(w[0].2.contains("the object it creates was not audited"));
}

#[test]
fn a_trainjob_of_the_v2alpha1_api_is_merged_with_its_runtime_of_the_same_group() {
    // Same names as the trainer.kubeflow.org fixture, another group; the
    // v2alpha1 runtimes name their trainer job `trainer-node`, unlabelled.
    let (_, v) = scan(&[
        "testdata/coverage/trainjob",
        "testdata/coverage/trainjob-v2alpha1",
        "--select",
        "image-latest-tag",
    ]);
    let f = "testdata/coverage/trainjob-v2alpha1/all.yaml";
    assert!(
        has(&v, "image-latest-tag", f, 29, 5, "TrainJob/finetune"),
        "{:#?}",
        findings(&v)
    );
    let hits = findings(&v)
        .into_iter()
        .filter(|x| x.1 == f && x.4 == "TrainJob/finetune")
        .count();
    assert_eq!(hits, 1);
}

/// Many TrainJobs naming one large runtime: the copies are bounded, and
/// what is left out is said.
#[test]
fn merging_copies_a_bounded_number_of_nodes_and_says_what_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut runtime = String::from(
        "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: ClusterTrainingRuntime\nmetadata: {name: big}\nspec:\n  template:\n    spec:\n      replicatedJobs:\n        - name: node\n          template:\n            spec:\n              template:\n                spec:\n                  containers:\n                    - name: node\n                      image: busybox:1.36\n                      env:\n",
    );
    for i in 0..25_000 {
        runtime.push_str(&format!(
            "                        - {{name: V{i}, value: x}}\n"
        ));
    }
    std::fs::write(dir.path().join("runtime.yaml"), runtime).unwrap();
    let mut jobs = String::new();
    for i in 0..30 {
        jobs.push_str(&format!(
            "---\napiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nmetadata: {{name: j{i}, namespace: a}}\nspec:\n  runtimeRef: {{name: big}}\n"
        ));
    }
    std::fs::write(dir.path().join("jobs.yaml"), jobs).unwrap();
    let (_, v) = scan(&[dir.path().to_str().unwrap(), "--select", "image-latest-tag"]);
    let na = v["summary"]["notAudited"].as_array().unwrap();
    let left: u64 = na
        .iter()
        .filter(|e| e["kind"] == "TrainJob")
        .map(|e| e["count"].as_u64().unwrap())
        .sum();
    assert!(left > 0 && left < 30, "{na:#?}");
    assert_eq!(v["summary"]["workloads"].as_u64().unwrap(), 1 + (30 - left));
    assert!(v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["message"]
            .as_str()
            .unwrap()
            .contains("were not merged with the runtimes and configs they name")));
}

#[test]
fn the_not_audited_table_and_the_warning_escape_what_the_files_name() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("evil.yaml");
    std::fs::write(
        &f,
        "apiVersion: \"x.io/v1\\u001b]0;t\\u0007\"\nkind: \"Ev\\u001b[31mil\"\nmetadata: {name: \"a\\u001b[2Jb\"}\nspec:\n  pod:\n    containers: [{name: c, image: i}]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
        .env("NO_COLOR", "1")
        .args(["scan", f.to_str().unwrap()])
        .output()
        .unwrap();
    for stream in [&out.stdout, &out.stderr] {
        assert!(!stream.contains(&0x1b) && !stream.contains(&0x07));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 objects not audited:\n      1  x.io/v1\\e]0;t\\u{7} Ev\\e[31mil: no rule reads this kind\n"), "{text}");
}

/// Two kustomizations render a runtime of the same name: a TrainJob takes
/// the one its own unit renders.
#[test]
fn a_trainjob_takes_the_runtime_of_its_own_unit() {
    let (_, v) = scan(&["testdata/coverage/units", "--select", "pss-privileged"]);
    // Unit a's runtime is privileged, unit b's (the TrainJob's) is not.
    assert!(has(
        &v,
        "pss-privileged",
        "testdata/coverage/units/a/runtime.yaml",
        18,
        25,
        "ClusterTrainingRuntime/torch"
    ));
    assert!(!findings(&v).iter().any(|f| f.4 == "TrainJob/job"));
    // Both runtimes and the TrainJob have pods.
    assert_eq!(v["summary"]["workloads"], 3);
    assert_eq!(v["summary"]["notAudited"], serde_json::json!([]));
}
