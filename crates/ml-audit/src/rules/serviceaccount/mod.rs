//! Service accounts of workloads: the namespace's `default` account, and API
//! tokens mounted into pods that have no RBAC binding to use them for.

pub(super) mod automount_token_without_rbac;
pub(super) mod default_service_account;

use std::collections::HashSet;

use crate::inventory::Inventory;
use crate::workload::Workload;

/// Which service accounts some RoleBinding or ClusterRoleBinding names.
#[derive(Debug, Default)]
pub(crate) struct SaBindings {
    /// (namespace, name) of service accounts named as subjects.
    pub accounts: HashSet<(String, String)>,
    /// Namespaces whose every service account is a subject.
    pub namespaces: HashSet<String>,
    /// Names of service accounts named as subjects, in any namespace.
    pub names: HashSet<String>,
    /// Names of service accounts named by subjects with no namespace at all.
    pub unscoped: HashSet<String>,
    /// Whether every service account of the cluster is a subject.
    pub all: bool,
}

impl SaBindings {
    /// Builds the index from the bindings in the inventory.
    pub fn build(inv: &Inventory) -> SaBindings {
        let mut out = SaBindings::default();
        for kind in ["RoleBinding", "ClusterRoleBinding"] {
            for b in inv.of_kind(kind) {
                if b.group() != "rbac.authorization.k8s.io" {
                    continue;
                }
                let bns = b.effective_namespace().unwrap_or("");
                for s in b.root.field("subjects").items() {
                    let name = s.field("name").as_str().unwrap_or("");
                    match s.field("kind").as_str().unwrap_or("") {
                        "ServiceAccount" => {
                            // No namespace on either side: Kustomize (or
                            // `kubectl -n`) fills it in at install time.
                            if s.get("namespace").is_none() && b.namespace.is_none() {
                                out.unscoped.insert(name.to_string());
                            }
                            let ns = s.field("namespace").as_str().unwrap_or(bns);
                            out.accounts.insert((ns.to_string(), name.to_string()));
                            out.names.insert(name.to_string());
                        }
                        "Group" if name == "system:serviceaccounts" => out.all = true,
                        "Group" => {
                            if let Some(ns) = name.strip_prefix("system:serviceaccounts:") {
                                out.namespaces.insert(ns.to_string());
                            }
                        }
                        "User" => {
                            if let Some((ns, n)) = name
                                .strip_prefix("system:serviceaccount:")
                                .and_then(|r| r.split_once(':'))
                            {
                                out.accounts.insert((ns.to_string(), n.to_string()));
                                out.names.insert(n.to_string());
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        out
    }

    /// Whether a service account is named by some binding. When the
    /// workload's manifest names no namespace (a Kustomize base, a file
    /// applied with `-n`), it lands wherever its binding's subject says, so
    /// the name alone is matched.
    pub fn is_bound(&self, ns: &str, name: &str, ns_explicit: bool) -> bool {
        // Kubeflow's profile controller binds these in every profile namespace.
        matches!(name, "default-editor" | "default-viewer")
            || ((!ns_explicit || self.unscoped.contains(name)) && self.names.contains(name))
            || self.all
            || self.namespaces.contains(ns)
            || self.accounts.contains(&(ns.to_string(), name.to_string()))
    }
}

/// The namespace of a workload, the service account its pods run as, and
/// whether the pod spec names it: `None` when these rules do not judge it
/// (no namespace written, or a KubeRay head that KubeRay gives an account
/// of its own).
pub(crate) fn judged_account<'w>(
    cx: &crate::rule::Context<'_>,
    w: &'w Workload,
) -> Option<(&'w str, &'w str, bool)> {
    let ns = w.namespace.as_deref()?;
    let (sa, named) = w.service_account();
    if kuberay_autoscaler_head(cx.inventory.object(w.object), w) {
        return None;
    }
    Some((ns, sa, named))
}

/// Whether KubeRay gives this workload its own service account and RBAC:
/// the head of a Ray cluster with `enableInTreeAutoscaling: true` (the
/// operator creates a ServiceAccount named after the cluster when none is
/// named, and a Role and RoleBinding for the autoscaler).
fn kuberay_autoscaler_head(obj: &crate::object::Object, w: &Workload) -> bool {
    if obj.group() != "ray.io" || w.role != "head" {
        return false;
    }
    let spec = obj.root.field("spec");
    let cluster = match obj.kind.as_str() {
        "RayCluster" => spec,
        "RayJob" => spec.field("rayClusterSpec"),
        "RayService" => spec.field("rayClusterConfig"),
        _ => return false,
    };
    cluster.field("enableInTreeAutoscaling").as_bool() == Some(true)
}
