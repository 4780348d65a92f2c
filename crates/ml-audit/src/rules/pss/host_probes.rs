//! Probes and lifecycle hooks aimed at other hosts.
use super::Violation;
use crate::rules::prelude::*;
use k8s_openapi::api::core::v1::{HTTPGetAction, TCPSocketAction};

declare_rule! {
    id: "pss-host-probes", category: "pod-security", severity: Medium, pss: baseline, check,
    title: "Probes and lifecycle hooks must not target another host",
}

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    for c in &w.containers {
        let s = &c.spec;
        let mut handlers: Vec<(&str, Option<&HTTPGetAction>, Option<&TCPSocketAction>)> =
            Vec::new();
        for (name, p) in [
            ("livenessProbe", &s.liveness_probe),
            ("readinessProbe", &s.readiness_probe),
            ("startupProbe", &s.startup_probe),
        ] {
            if let Some(p) = p {
                handlers.push((name, p.http_get.as_ref(), p.tcp_socket.as_ref()));
            }
        }
        if let Some(l) = &s.lifecycle {
            for (name, h) in [
                ("lifecycle/postStart", &l.post_start),
                ("lifecycle/preStop", &l.pre_stop),
            ] {
                if let Some(h) = h {
                    handlers.push((name, h.http_get.as_ref(), h.tcp_socket.as_ref()));
                }
            }
        }
        for (name, http, tcp) in handlers {
            let base = name.split('/').fold(c.pointer.clone(), |p, k| p.key(k));
            let hosts = [
                ("httpGet", http.and_then(|h| h.host.as_deref())),
                ("tcpSocket", tcp.and_then(|t| t.host.as_deref())),
            ];
            for (kind, host) in hosts {
                if let Some(h) = host.filter(|h| !h.is_empty()) {
                    out.push(Violation::container(
                        c,
                        base.keys(&[kind, "host"]),
                        format!("container `{}`: {name} targets host {h}", c.name),
                    ));
                }
            }
        }
    }
}
