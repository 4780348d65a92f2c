//! Workloads running as the namespace's `default` service account.
use crate::rules::prelude::*;

declare_rule! {
    id: "default-service-account", category: "service-accounts", severity: Medium, workload: check, skip_patches: true,
    title: "Workloads should run as their own service account, not `default`",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    let Some((ns, sa, named)) = super::judged_account(cx, w) else {
        return;
    };
    if sa != "default" {
        return;
    }
    let (pointer, how) = if named {
        #[allow(deprecated)]
        let field = if w.spec.service_account_name.is_some() {
            "serviceAccountName"
        } else {
            "serviceAccount"
        };
        (w.field_pointer(field), "names")
    } else {
        (
            w.pod_pointer.clone(),
            "names no service account, so it runs as",
        )
    };
    out.push(
        finding(
            cx,
            &META,
            w,
            None,
            &pointer,
            format!("the pod spec {how} the `default` service account of namespace `{ns}`"),
        )
        .help("create a ServiceAccount for this workload and set `serviceAccountName`; every pod without one shares `default`, and so does every permission anyone grants it"),
    );
}
