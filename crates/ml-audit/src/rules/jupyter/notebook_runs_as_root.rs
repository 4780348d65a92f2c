//! Notebooks that run as root.
use super::is_notebook;
use crate::rules::prelude::*;
use crate::rules::util::effective_all;
use crate::workload::ContainerKind;

declare_rule! {
    id: "notebook-runs-as-root", category: "jupyter", severity: High, workload: check,
    title: "Notebooks must not run as root",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    let obj = cx.inventory.object(w.object);
    if !is_notebook(obj, w) {
        return;
    }
    let effs = effective_all(cx, w);
    for (c, eff) in w
        .containers
        .iter()
        .zip(&effs.0)
        .filter(|(c, _)| c.kind == ContainerKind::App)
    {
        if let Some(u) = eff.run_as_user.as_ref().filter(|u| u.value == 0) {
            out.push(
                finding(cx, &META, w, Some(c), &u.pointer, format!(
                    "notebook container `{}` runs as UID 0{}: every user of the notebook is root in the pod",
                    c.name,
                    if u.from_pod { " (pod-level `runAsUser`)" } else { "" }
                ))
                .help("run notebooks as the image's unprivileged user (`runAsUser: 1000`, `runAsNonRoot: true`)"),
            );
        }
        for (i, e) in c.spec.env.iter().flatten().enumerate() {
            let v = e.value.as_deref().unwrap_or("").trim().to_ascii_lowercase();
            if e.name == "GRANT_SUDO" && matches!(v.as_str(), "yes" | "true" | "1") {
                out.push(
                    finding(cx, &META, w, Some(c), &c.pointer.key("env").idx(i).key("value"), format!(
                        "notebook container `{}` sets `GRANT_SUDO={v}`: the notebook user gets passwordless sudo (the image must start as root for it)",
                        c.name
                    ))
                    .help("drop GRANT_SUDO; install packages into the user's environment or build them into the image"),
                );
            }
        }
    }
}
