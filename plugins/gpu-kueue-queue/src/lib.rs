//! Jobs that ask for GPUs must name a Kueue queue.

use ml_audit_rule_sdk::prelude::*;

const QUEUE_LABEL: &str = "kueue.x-k8s.io/queue-name";

const RULE: RuleInfo = RuleInfo {
    id: "gpu-job-without-kueue-queue",
    title: "GPU jobs must name a Kueue queue",
    severity: Severity::Medium,
    kinds: &[
        "Job", "JobSet", "RayJob", "RayCluster", "PyTorchJob", "TFJob", "MPIJob", "XGBoostJob",
        "PaddleJob", "JAXJob", "TrainJob",
    ],
    // The labels and the pod specs are nearly the whole of a job: sending
    // everything is as cheap as picking them out.
    reads: &[],
    options: &[OptionInfo {
        name: "resources",
        ty: OptionType::StringList,
        default: "[nvidia.com/gpu, amd.com/gpu]",
        doc: "The extended resources that count as GPUs.",
    }],
    doc: Doc {
        what: "Flags a batch or training job (Job, JobSet, RayJob, RayCluster, the training \
               operators' jobs, TrainJob) whose containers request or limit GPUs \
               (`nvidia.com/gpu`, `amd.com/gpu`, or the resource names in the `resources` \
               setting) but which has no `kueue.x-k8s.io/queue-name` label.",
        why: "Without the label Kueue does not admit the job: it bypasses the GPU quotas, \
              fair sharing and preemption that the platform team set up, and may starve the \
              teams that wait their turn.",
        example: "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: train\nspec:\n  template:\n    spec:\n      containers:\n      - name: t\n        image: trainer\n        resources:\n          limits: {nvidia.com/gpu: 1}",
        use_instead: "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: train\n  labels:\n    kueue.x-k8s.io/queue-name: team-a\nspec:\n  suspend: true\n  template: ...",
        references: &["https://kueue.sigs.k8s.io/docs/tasks/run/jobs/"],
    },
};

fn check(obj: &Object, cx: &Context) -> Vec<Finding> {
    if obj.label(QUEUE_LABEL).is_some() {
        return Vec::new();
    }
    let custom: Option<Vec<String>> = cx.setting("resources");
    let owned: Vec<&str>;
    let names: &[&str] = match &custom {
        Some(list) => {
            owned = list.iter().map(String::as_str).collect();
            &owned
        }
        None => &["nvidia.com/gpu", "amd.com/gpu"],
    };
    let gpu = obj.containers().find_map(|c| {
        ["limits", "requests"].iter().find_map(|l| {
            let res = c.value.get("resources")?.get(*l)?.as_object()?;
            names.iter().find_map(|n| {
                let v = res.get(n)?;
                let zero = v.as_i64() == Some(0) || v.as_str() == Some("0");
                (!zero).then_some((c, *n))
            })
        })
    });
    let Some((c, name)) = gpu else {
        return Vec::new();
    };
    let at = if obj.get("/metadata/labels").is_some() {
        "/metadata/labels"
    } else {
        "/metadata"
    };
    vec![obj
        .finding(
            at,
            format!(
                "{} asks for `{name}` (container `{}`) but names no Kueue queue",
                obj.display_name(),
                c.name().unwrap_or("?")
            ),
        )
        .help(format!("add the label `{QUEUE_LABEL}: <local queue>`"))]
}

export_plugin!("gpu-kueue-queue", [object(check, RULE)]);
