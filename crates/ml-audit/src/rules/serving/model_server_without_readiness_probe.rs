//! Model servers without a readiness probe.
use super::serving_containers;
use crate::rules::prelude::*;
use crate::rules::util::flag_containers;

declare_rule! {
    id: "model-server-without-readiness-probe", category: "serving", severity: Low, workload: check, skip_patches: true,
    title: "Model servers should have a readiness probe",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    const HELP: &str = "add a `readinessProbe` on the server's readiness endpoint (`/v2/health/ready`, `/v1/models/<name>`, `/health`) with an `initialDelaySeconds` or a `startupProbe` that covers model loading";
    let containers = serving_containers(cx.inventory.object(w.object), w);
    flag_containers(cx, &META, w, containers, HELP, out, |c| {
        c.spec.readiness_probe.is_none().then(|| format!(
            "model server container `{}` has no readiness probe: it receives requests while the model is still loading (errors and timeouts on every scale-up and rollout)",
            c.name
        ))
    });
}
