//! Probes and lifecycle hooks aimed at other hosts.
use super::Violation;
use crate::finding::Severity;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;
use k8s_openapi::api::core::v1::{HTTPGetAction, TCPSocketAction};

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-host-probes",
    "pod-security",
    Severity::Medium,
    "Probes and lifecycle hooks must not target another host",
    rule_doc!("pss-host-probes"),
);

pub fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
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
            if let Some(h) = http
                .and_then(|h| h.host.as_deref())
                .filter(|h| !h.is_empty())
            {
                out.push(Violation::container(
                    c,
                    base.keys(&["httpGet", "host"]),
                    format!("container `{}`: {name} targets host {h}", c.name),
                ));
            }
            if let Some(h) = tcp
                .and_then(|t| t.host.as_deref())
                .filter(|h| !h.is_empty())
            {
                out.push(Violation::container(
                    c,
                    base.keys(&["tcpSocket", "host"]),
                    format!("container `{}`: {name} targets host {h}", c.name),
                ));
            }
        }
    }
}
