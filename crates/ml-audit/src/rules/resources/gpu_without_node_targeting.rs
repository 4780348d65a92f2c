//! GPU workloads with no toleration or node selector for GPU nodes.
use crate::rules::prelude::*;
use crate::rules::util::{is_accelerator, is_zero};

declare_rule! {
    id: "gpu-without-node-targeting", category: "resources", severity: Info, workload: check, skip_patches: true,
    title: "GPU workloads should tolerate or select GPU nodes",
}

fn gpu_word(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    [
        "gpu",
        "nvidia",
        "amd.com",
        "accelerator",
        "tpu",
        "neuron",
        "habana",
        "instance-type",
        "nodepool",
        "node-pool",
        "machine-family",
        "instance-family",
    ]
    .iter()
    .any(|w| s.contains(w))
}

/// Whether the pod says where GPU nodes are.
fn targets_gpu_nodes(w: &Workload) -> bool {
    if w.spec.runtime_class_name.is_some() {
        return true;
    }
    let tol = w.spec.tolerations.iter().flatten().any(|t| {
        let key = t.key.as_deref().unwrap_or("");
        (key.is_empty() && t.operator.as_deref() == Some("Exists"))
            || gpu_word(key)
            || t.value.as_deref().is_some_and(gpu_word)
    });
    let sel = w
        .spec
        .node_selector
        .iter()
        .flatten()
        .any(|(k, v)| gpu_word(k) || gpu_word(v));
    let aff = w
        .spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .is_some_and(|na| {
            let terms = na
                .required_during_scheduling_ignored_during_execution
                .iter()
                .flat_map(|r| r.node_selector_terms.iter())
                .chain(
                    na.preferred_during_scheduling_ignored_during_execution
                        .iter()
                        .flatten()
                        .map(|p| &p.preference),
                );
            terms
                .flat_map(|t| t.match_expressions.iter().flatten())
                .any(|e| gpu_word(&e.key) || e.values.iter().flatten().any(|v| gpu_word(v)))
        });
    tol || sel || aff
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    if targets_gpu_nodes(w) {
        return;
    }
    for c in &w.containers {
        let Some(res) = c.spec.resources.as_ref() else {
            continue;
        };
        let found = [
            ("limits", res.limits.as_ref()),
            ("requests", res.requests.as_ref()),
        ]
        .into_iter()
        .find_map(|(f, m)| {
            m?.iter()
                .find(|(k, v)| is_accelerator(k) && !is_zero(&v.0))
                .map(|(k, _)| (f, k.clone()))
        });
        if let Some((field, k)) = found {
            out.push(
                finding(
                    cx,
                    &META,
                    w,
                    Some(c),
                    &c.pointer.keys(&["resources", field, &k]),
                    format!(
                        "container `{}` needs `{k}` but the pod has no toleration, node selector or node affinity for GPU nodes: on clusters that taint GPU nodes it stays Pending",
                        c.name
                    ),
                )
                .help("add the toleration for the GPU node taint (such as `nvidia.com/gpu: NoSchedule`) and a node selector for the GPU pool; this is informational, clusters with untainted GPU nodes do not need it"),
            );
            return;
        }
    }
}
