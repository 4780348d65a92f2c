//! Workloads running as the namespace's `default` service account.
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::finding;
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "default-service-account",
    "service-accounts",
    Severity::Medium,
    "Workloads should run as their own service account, not `default`",
    rule_doc!("default-service-account"),
);

/// The rule.
pub struct DefaultServiceAccount;

impl Rule for DefaultServiceAccount {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        // A Kustomize patch leaves out what its base already says.
        if crate::rules::util::from_patch(cx, w) {
            return;
        }
        let Some(ns) = w.namespace.as_deref() else {
            return;
        };
        let (sa, named) = w.service_account();
        if super::kuberay_autoscaler_head(cx.inventory.object(w.object), w) {
            return;
        }
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
}
