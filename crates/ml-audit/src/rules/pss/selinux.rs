//! Custom SELinux user, role or type.
use super::{each_setting, Violation};
use crate::rules::prelude::*;

declare_rule! {
    id: "pss-selinux", category: "pod-security", severity: Medium, pss: baseline, check,
    title: "SELinux options must not set a custom user, role or type",
}

const TYPES: [&str; 5] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn check(w: &Workload, _eff: &[Effective], out: &mut Vec<Violation>) {
    each_setting(
        w,
        |s| s.se_linux_options.as_ref(),
        |s| s.se_linux_options.as_ref(),
        |site, o| {
            let Some(o) = o else {
                return;
            };
            let who = site.who();
            let set = [
                ("type", o.type_.as_deref().filter(|t| !TYPES.contains(t))),
                ("user", o.user.as_deref().filter(|u| !u.is_empty())),
                ("role", o.role.as_deref().filter(|r| !r.is_empty())),
            ];
            for (field, value) in set {
                if let Some(v) = value {
                    let at = site.at(w, &["seLinuxOptions", field]);
                    out.push(site.violation(at, format!("{who} sets SELinux {field} {v}")));
                }
            }
        },
    );
}
