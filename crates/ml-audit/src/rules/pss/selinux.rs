//! Custom SELinux user, role or type.
use super::Violation;
use crate::finding::Severity;
use crate::node::Pointer;
use crate::rule::RuleMeta;
use crate::rule_doc;
use crate::secctx::Effective;
use crate::workload::Workload;
use k8s_openapi::api::core::v1::SELinuxOptions;

pub const META: RuleMeta = RuleMeta::builtin(
    "pss-selinux",
    "pod-security",
    Severity::Medium,
    "SELinux options must not set a custom user, role or type",
    rule_doc!("pss-selinux"),
);

const TYPES: [&str; 5] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn bad(
    o: &SELinuxOptions,
    at: &Pointer,
    who: &str,
    out: &mut Vec<Violation>,
    c: Option<&crate::workload::ContainerRef>,
) {
    let mut push = |ptr: Pointer, msg: String| match c {
        Some(c) => out.push(Violation::container(c, ptr, msg)),
        None => out.push(Violation::pod(ptr, msg)),
    };
    if let Some(t) = o.type_.as_deref().filter(|t| !TYPES.contains(t)) {
        push(at.key("type"), format!("{who} sets SELinux type {t}"));
    }
    if let Some(u) = o.user.as_deref().filter(|u| !u.is_empty()) {
        push(at.key("user"), format!("{who} sets SELinux user {u}"));
    }
    if let Some(r) = o.role.as_deref().filter(|r| !r.is_empty()) {
        push(at.key("role"), format!("{who} sets SELinux role {r}"));
    }
}

pub fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    if let Some(o) = w
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.se_linux_options.as_ref())
    {
        bad(
            o,
            &w.field_pointer("securityContext").key("seLinuxOptions"),
            "the pod",
            out,
            None,
        );
    }
    for c in &w.containers {
        if let Some(o) = c
            .spec
            .security_context
            .as_ref()
            .and_then(|s| s.se_linux_options.as_ref())
        {
            bad(
                o,
                &c.pointer.keys(&["securityContext", "seLinuxOptions"]),
                &format!("container `{}`", c.name),
                out,
                Some(c),
            );
        }
    }
}
