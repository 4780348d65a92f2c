//! Model serving: KServe, Seldon, and Deployments running model servers.

pub(super) mod inference_service_exposed;
pub(super) mod model_server_without_readiness_probe;

use crate::object::Object;
use crate::rules::util::{is_long_running, ImageRef};
use crate::workload::{ContainerRef, Workload};

/// Images of well-known model servers.
pub(crate) fn is_model_server_image(c: &ContainerRef) -> bool {
    let Some(r) = c.spec.image.as_deref().and_then(ImageRef::parse) else {
        return false;
    };
    let repo = r.repository.to_ascii_lowercase();
    const SERVERS: [&str; 14] = [
        "tritonserver",
        "torchserve",
        "tensorflow/serving",
        "vllm",
        "text-generation-inference",
        "mlserver",
        "sklearnserver",
        "xgbserver",
        "lgbserver",
        "pmmlserver",
        "paddleserver",
        "huggingfaceserver",
        "ollama",
        "sglang",
    ];
    SERVERS.iter().any(|s| repo.contains(s))
}

/// Whether a workload serves models, and which of its containers do.
pub(crate) fn serving_containers<'w>(obj: &Object, w: &'w Workload) -> Vec<&'w ContainerRef> {
    let apps = w.containers_of(crate::workload::ContainerKind::App);
    match (obj.group(), obj.kind.as_str()) {
        ("serving.kserve.io", "InferenceService") => apps
            // Containers without an image take the ServingRuntime's (and its probes).
            .filter(|c| c.spec.image.as_deref().is_some_and(|i| !i.is_empty()))
            .collect(),
        ("serving.kserve.io", "ServingRuntime" | "ClusterServingRuntime")
            if w.role == "runtime" =>
        {
            apps.collect()
        }
        ("machinelearning.seldon.io", "SeldonDeployment") => apps.collect(),
        (g, k) if is_long_running(k, g) => apps.filter(|c| is_model_server_image(c)).collect(),
        _ => Vec::new(),
    }
}
