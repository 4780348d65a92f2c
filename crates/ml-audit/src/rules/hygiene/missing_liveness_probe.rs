//! Long-running workloads without a liveness probe.
use crate::rules::prelude::*;
use crate::rules::util::{flag_containers, long_running_app_containers};

declare_rule! {
    id: "missing-liveness-probe", category: "hygiene", severity: Low, workload: check, skip_patches: true,
    title: "Long-running containers should have a liveness probe",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    const HELP: &str = "add a `livenessProbe` that fails only when the process is wedged (not on slow dependencies)";
    let containers = long_running_app_containers(cx, w);
    flag_containers(cx, &META, w, containers, HELP, out, |c| {
        c.spec.liveness_probe.is_none().then(|| {
            format!(
                "container `{}` has no liveness probe: a hung process is never restarted",
                c.name
            )
        })
    });
}
