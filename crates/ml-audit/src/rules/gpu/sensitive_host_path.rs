//! hostPath mounts of GPU devices, the container runtime socket or the kubelet's directory.
use crate::rules::prelude::*;

declare_rule! {
    id: "sensitive-host-path-mount", category: "gpu", severity: Critical, workload: check,
    title: "Pods must not mount GPU devices, the container runtime socket or the kubelet's directory from the host",
}

/// What a host path gives access to, if it is sensitive.
fn sensitive(path: &str) -> Option<&'static str> {
    let p = path.trim_end_matches('/');
    let p = if p.is_empty() { "/" } else { p };
    if p.starts_with("/dev/nvidia") || p == "/dev/dri" || p.starts_with("/dev/kfd") {
        return Some("GPU device nodes, bypassing the device plugin");
    }
    for s in [
        "docker.sock",
        "containerd.sock",
        "crio.sock",
        "cri-dockerd.sock",
        "dockershim.sock",
    ] {
        if p.ends_with(s) {
            return Some("the container runtime socket: root on the node");
        }
    }
    if matches!(
        p,
        "/var/run/docker"
            | "/run/containerd"
            | "/var/run/containerd"
            | "/var/run/crio"
            | "/run/crio"
            | "/var/run"
            | "/run"
    ) {
        return Some("the directory holding the container runtime socket: root on the node");
    }
    if p == "/var/lib/kubelet" || p.starts_with("/var/lib/kubelet/") {
        return Some("the kubelet's directory (pod volumes, Secrets of every pod on the node, device-plugin sockets)");
    }
    if p == "/" {
        return Some("the node's whole filesystem");
    }
    None
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    for (i, v) in w.spec.volumes.iter().flatten().enumerate() {
        let Some(h) = &v.host_path else {
            continue;
        };
        if let Some(what) = sensitive(&h.path) {
            out.push(
                finding(
                    cx,
                    &META,
                    w,
                    None,
                    &w.field_pointer("volumes").idx(i).keys(&["hostPath", "path"]),
                    format!("volume `{}` mounts host path `{}`: {what}", v.name, h.path),
                )
                .help("request GPUs through the device plugin (`resources.limits`), and never hand a workload the runtime socket or the kubelet's state; node agents that need them belong in a dedicated, locked-down namespace"),
            );
        }
    }
}
