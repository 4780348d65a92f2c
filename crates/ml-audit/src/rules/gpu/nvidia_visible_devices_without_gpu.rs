//! `NVIDIA_VISIBLE_DEVICES=all` in pods that request no GPU.
use crate::rules::prelude::*;
use crate::rules::util::requests_accelerator;

declare_rule! {
    id: "nvidia-visible-devices-without-gpu", category: "gpu", severity: High, workload: check,
    title: "Pods must not reach GPUs through NVIDIA_VISIBLE_DEVICES without requesting them",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    if requests_accelerator(w) {
        return;
    }
    for c in &w.containers {
        for (i, e) in c.spec.env.iter().flatten().enumerate() {
            let v = e.value.as_deref().unwrap_or("").trim();
            let bad = match e.name.as_str() {
                "NVIDIA_VISIBLE_DEVICES" => !v.is_empty() && !matches!(v, "void" | "none" | ""),
                "NVIDIA_DRIVER_CAPABILITIES" => v == "all",
                _ => false,
            };
            if bad {
                out.push(
                    finding(
                        cx,
                        &META,
                        w,
                        Some(c),
                        &c.pointer.key("env").idx(i).key("value"),
                        format!(
                            "container `{}` sets `{}={v}` but the pod requests no GPU: the NVIDIA runtime hands it the node's GPUs outside the device plugin's accounting",
                            c.name, e.name
                        ),
                    )
                    .help("request GPUs through `resources.limits` (`nvidia.com/gpu: 1`) and let the device plugin set NVIDIA_VISIBLE_DEVICES; set it to `void` in pods that must not see GPUs"),
                );
            }
        }
    }
}
