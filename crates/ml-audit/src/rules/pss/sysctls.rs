//! Unsafe sysctls.
use super::Violation;
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-sysctls", category: "pod-security", severity: Medium, pss: baseline, check,
    title: "Pods must set only the safe sysctls",
}

/// The sysctls the baseline level allows.
pub const SAFE: [&str; 14] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    // Added to the safe set after v1.32; admitted by the v1.37 checks.
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    let Some(sysctls) = w
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.sysctls.as_ref())
    else {
        return;
    };
    for (i, s) in sysctls.iter().enumerate() {
        if !SAFE.contains(&s.name.as_str()) {
            out.push(Violation::pod(
                w.field_pointer("securityContext")
                    .key("sysctls")
                    .idx(i)
                    .key("name"),
                format!("the pod sets unsafe sysctl {}", s.name),
            ));
        }
    }
}
