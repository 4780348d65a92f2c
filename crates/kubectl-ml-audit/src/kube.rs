//! The only place that starts a process: `kubectl`, for `-k DIR`
//! (`kubectl kustomize`) and `--cluster` (`kubectl get -o json`), so the
//! user's credentials and auth plugins work as they do for kubectl.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use ml_audit::Input;

/// Where and what to read from a cluster (from `--kubeconfig`,
/// `--context` and `--namespace`).
#[derive(Clone, Debug, Default)]
pub struct ClusterArgs {
    /// The kubeconfig file (kubectl's default without it).
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (the current one without it).
    pub context: Option<String>,
    /// Only this namespace (all namespaces without it).
    pub namespace: Option<String>,
}

/// Runs a kubectl command and returns its standard output.
fn kubectl(args: &[String]) -> Result<String, String> {
    let out = Command::new("kubectl")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run kubectl (is it on PATH?): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`kubectl {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout)
        .map_err(|_| format!("`kubectl {}` printed invalid UTF-8", args.join(" ")))
}

/// The kubeconfig and context flags, as kubectl takes them.
fn kube_flags(args: &ClusterArgs) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(k) = &args.kubeconfig {
        v.push(format!("--kubeconfig={}", k.display()));
    }
    if let Some(c) = &args.context {
        v.push(format!("--context={c}"));
    }
    v
}

/// `kubectl kustomize DIR`: the rendered stream (`--render kubectl`, for a
/// root the built-in renderer cannot build).
pub fn kustomize_text(dir: &Path) -> Result<String, String> {
    kubectl(&["kustomize".into(), dir.display().to_string()])
}

/// The API resources an audit reads from a cluster: every kind of the kinds
/// table that makes pods, and the kinds the cross-object rules read.
pub fn cluster_resources(table: &ml_audit::KindTable) -> Vec<String> {
    let mut v: BTreeSet<String> = [
        "namespaces",
        "pods",
        "serviceaccounts",
        "services",
        "resourcequotas",
        "limitranges",
        "roles.rbac.authorization.k8s.io",
        "rolebindings.rbac.authorization.k8s.io",
        "clusterroles.rbac.authorization.k8s.io",
        "clusterrolebindings.rbac.authorization.k8s.io",
        "networkpolicies.networking.k8s.io",
        "ingresses.networking.k8s.io",
        "clusterqueues.kueue.x-k8s.io",
        "localqueues.kueue.x-k8s.io",
        "resourceflavors.kueue.x-k8s.io",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for k in table.pod_kinds() {
        if let Some(r) = &k.resource {
            v.insert(if k.group.is_empty() {
                r.clone()
            } else {
                format!("{r}.{}", k.group)
            });
        }
    }
    v.into_iter().collect()
}

/// Reads the live objects with `kubectl get <resources> -A -o json`, keeping
/// only the resources the cluster serves (`kubectl api-resources`), and
/// leaving out objects a controller owns (pods of a ReplicaSet, ...): their
/// owner is audited instead.
pub fn cluster(args: &ClusterArgs, table: &ml_audit::KindTable) -> Result<Input, String> {
    let flags = kube_flags(args);
    let mut a = flags.clone();
    a.extend(["api-resources".into(), "-o".into(), "name".into()]);
    let served: BTreeSet<String> = kubectl(&a)?.lines().map(|l| l.trim().to_string()).collect();
    let wanted: Vec<String> = cluster_resources(table)
        .into_iter()
        .filter(|r| served.contains(r))
        .collect();
    if wanted.is_empty() {
        return Err("the cluster serves none of the resources ml-audit reads".into());
    }
    let mut a = flags;
    a.push("get".into());
    a.push(wanted.join(","));
    match &args.namespace {
        Some(ns) => a.push(format!("--namespace={ns}")),
        None => a.push("--all-namespaces".into()),
    }
    a.extend(["-o".into(), "json".into()]);
    let text = kubectl(&a)?;
    let mut list: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("kubectl printed invalid JSON: {e}"))?;
    if let Some(items) = list.get_mut("items").and_then(|i| i.as_array_mut()) {
        items.retain(|o| {
            o.pointer("/metadata/ownerReferences")
                .and_then(|r| r.as_array())
                .is_none_or(|r| {
                    // Owned objects are audited through their owner; a
                    // mirror pod (owned by its Node) has no owner object
                    // here: it is the static pod's only record.
                    r.iter().all(|r| {
                        r.get("controller") != Some(&serde_json::Value::Bool(true))
                            || r.get("kind").and_then(|k| k.as_str()) == Some("Node")
                    })
                })
        });
        for o in items.iter_mut() {
            if let Some(m) = o.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                m.remove("managedFields");
            }
        }
    }
    let name = match &args.context {
        Some(c) => format!("cluster:{c}"),
        None => "cluster".to_string(),
    };
    Ok(Input::Text {
        name,
        text: serde_json::to_string_pretty(&list).unwrap_or_default() + "\n",
    })
}
