//! API tokens mounted into pods whose service account has no RBAC binding.
use super::SaBindings;
use crate::rules::prelude::*;

declare_rule! {
    id: "automount-token-without-rbac", category: "service-accounts", severity: Low, workload: check, skip_patches: true,
    title: "Pods that need no API access should not mount a service-account token",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    let Some((ns, sa, _)) = super::judged_account(cx, w) else {
        return;
    };
    let bindings = cx.analysis(SaBindings::build);
    // Templated names (`$KSA_NAME`) are filled in later.
    if sa.contains('$') || sa.contains("{{") {
        return;
    }
    // `kubectl` (a proxy, a hook job) talks to the API with the token,
    // through permissions every authenticated account has.
    if w.containers.iter().any(|c| {
        let s = &c.spec;
        s.image.as_deref().is_some_and(|i| i.contains("kubectl"))
            || s.command
                .iter()
                .flatten()
                .chain(s.args.iter().flatten())
                .any(|a| a.contains("kubectl"))
    }) {
        return;
    }
    let obj = cx.inventory.object(w.object);
    if bindings.is_bound(ns, sa, obj.namespace.is_some()) {
        return;
    }
    let sa_obj = cx.inventory.lookup("ServiceAccount", ns, sa).next();
    let sa_setting = sa_obj.and_then(|o| o.root.field("automountServiceAccountToken").as_bool());
    let pod_setting = w.spec.automount_service_account_token;
    let pointer = w.field_pointer("automountServiceAccountToken");
    let mounted = match pod_setting {
        Some(v) => v,
        None => sa_setting != Some(false),
    };
    if !mounted {
        return;
    }
    let (at, why) = if pod_setting == Some(true) {
        (
            pointer,
            "the pod spec sets `automountServiceAccountToken: true`".to_string(),
        )
    } else {
        (
            w.pod_pointer.clone(),
            "neither the pod spec nor the service account disables `automountServiceAccountToken`"
                .to_string(),
        )
    };
    let mut f = finding(
        cx,
        &META,
        w,
        None,
        &at,
        format!(
            "service account `{sa}` has no RoleBinding or ClusterRoleBinding in the input, yet {why}: the pods get an API token they do not need"
        ),
    )
    .help("set `automountServiceAccountToken: false` in the pod spec (or on the ServiceAccount); mount a projected token only where the workload calls the API");
    if let Some(o) = sa_obj {
        let p = if sa_setting.is_some() {
            Pointer::root().key("automountServiceAccountToken")
        } else {
            Pointer::root().key("metadata")
        };
        f = f.with_related(cx.related(
            o,
            &p,
            "the service account, which does not disable automount",
        ));
    }
    out.push(f);
}
