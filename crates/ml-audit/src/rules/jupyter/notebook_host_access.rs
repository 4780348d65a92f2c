//! Notebooks with privileged or host access.
use super::is_notebook;
use crate::rules::prelude::*;
use crate::rules::util::effective_all;

declare_rule! {
    id: "notebook-host-access", category: "jupyter", severity: Critical, workload: check,
    title: "Notebooks must not be privileged or share the host",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    let obj = cx.inventory.object(w.object);
    if !is_notebook(obj, w) {
        return;
    }
    const HELP: &str = "a notebook is an interactive shell for its users: give it no privileges, no host namespaces and no host paths; use a PVC for data";
    let mut push = |c, p, m: String| {
        out.push(finding(cx, &META, w, c, &p, m).help(HELP));
    };
    for (field, on) in [
        ("hostNetwork", w.spec.host_network),
        ("hostPID", w.spec.host_pid),
        ("hostIPC", w.spec.host_ipc),
    ] {
        if on == Some(true) {
            push(
                None,
                w.field_pointer(field),
                format!("the notebook pod shares the host's namespace (`{field}: true`)"),
            );
        }
    }
    for (i, v) in w.spec.volumes.iter().flatten().enumerate() {
        if let Some(h) = &v.host_path {
            push(
                None,
                w.field_pointer("volumes").idx(i).key("hostPath"),
                format!(
                    "the notebook mounts host path `{}` (volume `{}`)",
                    h.path, v.name
                ),
            );
        }
    }
    for (c, eff) in w.containers.iter().zip(&effective_all(cx, w).0) {
        if let Some(p) = eff.privileged.as_ref().filter(|p| p.value) {
            push(
                Some(c),
                p.pointer.clone(),
                format!("notebook container `{}` is privileged", c.name),
            );
        }
        for cap in &eff.cap_add {
            if matches!(
                cap.value.as_str(),
                "SYS_ADMIN" | "ALL" | "NET_ADMIN" | "SYS_PTRACE" | "SYS_MODULE"
            ) {
                push(
                    Some(c),
                    cap.pointer.clone(),
                    format!(
                        "notebook container `{}` adds capability `{}`",
                        c.name, cap.value
                    ),
                );
            }
        }
        for (i, p) in c.spec.ports.iter().flatten().enumerate() {
            if p.host_port.is_some_and(|h| h != 0) {
                push(
                    Some(c),
                    c.pointer.key("ports").idx(i).key("hostPort"),
                    format!(
                        "notebook container `{}` binds host port {}",
                        c.name,
                        p.host_port.unwrap_or(0)
                    ),
                );
            }
        }
    }
}
