//! Long-running workloads without a readiness probe.
use crate::rules::prelude::*;
use crate::rules::serving::serving_containers;
use crate::rules::util::{flag_containers, long_running_app_containers};

declare_rule! {
    id: "missing-readiness-probe", category: "hygiene", severity: Low, workload: check, skip_patches: true,
    title: "Long-running containers should have a readiness probe",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    const HELP: &str =
        "add a `readinessProbe` on an endpoint that answers only when the container can serve";
    let containers = long_running_app_containers(cx, w);
    if containers.is_empty() {
        return;
    }
    let obj = cx.inventory.object(w.object);
    let served: Vec<String> = serving_containers(obj, w)
        .iter()
        .map(|c| c.name.clone())
        .collect();
    flag_containers(cx, &META, w, containers, HELP, out, |c| {
        (c.spec.readiness_probe.is_none() && !served.contains(&c.name)).then(|| format!(
            "container `{}` has no readiness probe: traffic reaches it before it is ready and while it is stuck",
            c.name
        ))
    });
}
