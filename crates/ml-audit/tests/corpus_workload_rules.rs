//! The workload rules on the shared corpus of real ML-platform manifests
//! (kubeflow/manifests, ray-project/kuberay): per-rule counts, and none of
//! the false positives found there by hand comes back.
//!
//! Skips (with a printed reason) when `../shared/corpus` is absent.

#[path = "support/shared.rs"]
mod shared;
use std::collections::BTreeMap;

use ml_audit::{Audit, Input, Inventory, LoadOptions};

const RULES: [&str; 25] = [
    "image-latest-tag",
    "image-not-pinned-by-digest",
    "image-untrusted-registry",
    "hardcoded-credential",
    "hardcoded-secret-by-name",
    "secret-in-env-var",
    "default-service-account",
    "automount-token-without-rbac",
    "missing-resource-requests",
    "missing-memory-limit",
    "accelerator-request-without-limit",
    "gpu-without-node-targeting",
    "memory-emptydir-without-size-limit",
    "distributed-training-without-shm",
    "nvidia-visible-devices-without-gpu",
    "sensitive-host-path-mount",
    "ray-head-exposed",
    "notebook-auth-disabled",
    "notebook-runs-as-root",
    "notebook-host-access",
    "model-server-without-readiness-probe",
    "inference-service-exposed",
    "missing-readiness-probe",
    "missing-liveness-probe",
    "mutable-tag-pull-policy",
];

/// (rule, file path suffix, message fragment): objects where a rule fired
/// wrongly before it was fixed. An empty fragment matches any message.
const FIXED: [(&str, &str, &str); 25] = [
    // Kustomize bases: the Kustomization's `images:` sets the tag.
    (
        "image-latest-tag",
        "applications/centraldashboard/upstream/base/deployment.yaml",
        "",
    ),
    (
        "mutable-tag-pull-policy",
        "applications/centraldashboard/upstream/base/deployment.yaml",
        "",
    ),
    (
        "image-latest-tag",
        "applications/katib/upstream/components/controller/controller.yaml",
        "",
    ),
    // Placeholders replaced at build time.
    (
        "image-latest-tag",
        "notebook-controller/upstream/default/manager_image_patch.yaml",
        "",
    ),
    (
        "image-latest-tag",
        "samples/vllm/ray-service.vllm-tpu-v6e-singlehost.yaml",
        "",
    ),
    (
        "mutable-tag-pull-policy",
        "samples/vllm/ray-service.vllm-tpu-v6e-singlehost.yaml",
        "",
    ),
    // Kustomize patches: partial objects, the base says the rest.
    (
        "default-service-account",
        "multi-user/api-service/deployment-patch.yaml",
        "",
    ),
    (
        "automount-token-without-rbac",
        "multi-user/api-service/deployment-patch.yaml",
        "",
    ),
    (
        "missing-resource-requests",
        "multi-user/api-service/deployment-patch.yaml",
        "",
    ),
    (
        "missing-memory-limit",
        "multi-user/api-service/deployment-patch.yaml",
        "",
    ),
    (
        "missing-readiness-probe",
        "multi-user/api-service/deployment-patch.yaml",
        "",
    ),
    (
        "missing-liveness-probe",
        "multi-user/api-service/deployment-patch.yaml",
        "",
    ),
    (
        "default-service-account",
        "katib-external-db/patches/db-manager.yaml",
        "",
    ),
    // The published Azurite emulator key.
    (
        "hardcoded-credential",
        "historyserver/config/historyserver-azureblob.yaml",
        "",
    ),
    (
        "hardcoded-credential",
        "historyserver/config/raycluster-azureblob.yaml",
        "",
    ),
    (
        "hardcoded-credential",
        "historyserver/config/rayjob-azureblob.yaml",
        "",
    ),
    // An access key id is an identifier, not a secret.
    ("hardcoded-credential", "", "AWS_ACCESS_KEY_ID"),
    ("hardcoded-secret-by-name", "", "AWS_ACCESS_KEY_ID"),
    // Bindings whose namespace Kustomize fills in; kubectl; Kubeflow profiles.
    (
        "automount-token-without-rbac",
        "ray-operator/config/manager/manager.yaml",
        "",
    ),
    (
        "automount-token-without-rbac",
        "applications/centraldashboard/upstream/base/deployment.yaml",
        "",
    ),
    (
        "automount-token-without-rbac",
        "cluster-jwks-proxy/cluster-jwks-proxy.yaml",
        "",
    ),
    ("automount-token-without-rbac", "", "default-editor"),
    // MPI launchers only run mpirun.
    (
        "distributed-training-without-shm",
        "runtimes/deepspeed_distributed.yaml",
        "(launcher)",
    ),
    (
        "distributed-training-without-shm",
        "runtimes/mlx_distributed.yaml",
        "(launcher)",
    ),
    // KubeRay mounts /dev/shm itself (checked for every Ray object below too).
    (
        "distributed-training-without-shm",
        "historyserver/config/raycluster.yaml",
        "",
    ),
];

#[test]
fn workload_rules_on_the_corpus() {
    let Some(corpus) = shared::shared("corpus") else {
        return;
    };
    // File by file: the corpus lacks the non-YAML files its kustomizations
    // use, so they cannot all be built (the judged findings are those of the
    // files as written).
    let opts = LoadOptions {
        render: ml_audit::Render::Off,
        ..LoadOptions::default()
    };
    let loaded = ml_audit::load(&[Input::Path(corpus)], &opts);
    let inv = Inventory::new(loaded);
    let mut audit = Audit::new();
    audit.select(&RULES).unwrap();
    let report = audit.run(&inv);

    let mut counts: BTreeMap<&str, usize> = RULES.iter().map(|r| (*r, 0)).collect();
    for f in &report.findings {
        if let Some(c) = counts.get_mut(f.rule.as_str()) {
            *c += 1;
        }
    }
    println!(
        "workload rules on the corpus ({} workloads):",
        inv.workloads.len()
    );
    for (r, c) in &counts {
        println!("{c:6}  {r}");
    }

    let mut wrong = Vec::new();
    for f in &report.findings {
        for (rule, suffix, fragment) in FIXED {
            if f.rule == rule
                && f.file.replace('\\', "/").ends_with(suffix)
                && f.message.contains(fragment)
            {
                wrong.push(format!(
                    "{} {}:{} {}",
                    f.rule, f.file, f.span.line, f.message
                ));
            }
        }
        // KubeRay adds /dev/shm to every Ray pod.
        if f.rule == "distributed-training-without-shm"
            && f.object.api_version.starts_with("ray.io/")
        {
            wrong.push(format!(
                "{} {}:{} {}",
                f.rule, f.file, f.span.line, f.message
            ));
        }
        // KubeRay gives an autoscaling head its own service account and RBAC.
        if matches!(
            f.rule.as_str(),
            "default-service-account" | "automount-token-without-rbac"
        ) && f.object.api_version.starts_with("ray.io/")
            && f.context.as_deref() == Some("head")
        {
            let obj = inv
                .objects
                .iter()
                .find(|o| o.reference() == f.object)
                .unwrap();
            let spec = obj.root.field("spec");
            let autoscaled = [
                spec,
                spec.field("rayClusterSpec"),
                spec.field("rayClusterConfig"),
            ]
            .iter()
            .any(|s| s.field("enableInTreeAutoscaling").as_bool() == Some(true));
            if autoscaled {
                wrong.push(format!(
                    "{} {}:{} {}",
                    f.rule, f.file, f.span.line, f.message
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "false positives are back:\n{}",
        wrong.join("\n")
    );
    // The rules still see the corpus (a regression to zero would hide here).
    assert!(counts["missing-memory-limit"] > 0 && counts["ray-head-exposed"] > 0);
}
