//! Windows HostProcess containers have full access to the Windows node.
use super::Violation;
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-host-process", category: "pod-security", severity: Critical, pss: baseline, check,
    title: "Windows HostProcess containers must not be used",
}

fn check(w: &Workload, eff: &[Effective], out: &mut Vec<Violation>) {
    if let Some(h) = w
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.windows_options.as_ref())
        .and_then(|o| o.host_process)
    {
        if h {
            out.push(Violation::pod(
                w.field_pointer("securityContext")
                    .keys(&["windowsOptions", "hostProcess"]),
                "the pod runs as a Windows HostProcess",
            ));
        }
    }
    for (c, e) in w.containers.iter().zip(eff) {
        if let Some(s) = e.host_process.as_ref().filter(|s| s.value && !s.from_pod) {
            out.push(Violation::container(
                c,
                s.pointer.clone(),
                format!("container `{}` runs as a Windows HostProcess", c.name),
            ));
        }
    }
}
