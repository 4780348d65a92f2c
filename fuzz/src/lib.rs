//! Shared by the fuzz targets: structured inventories built from the
//! fuzzer's bytes with `arbitrary::Unstructured`, rendered to manifest text
//! and loaded through the public API, so the analyses see what a user's
//! files would give them (namespaces, labelled workloads, RBAC with
//! wildcards and aggregation, NetworkPolicies with selectors, ports and
//! ipBlocks, quotas, LimitRanges, Kueue queues).

use arbitrary::{Result, Unstructured};
use ml_audit::{load, Input, Inventory, LoadOptions};
use serde_json::{json, Map, Value};

const NAMESPACES: &[&str] = &["team-a", "team-b", "kube-system", "default", "ml"];
const LABEL_KEYS: &[&str] = &["app", "tier", "team", "role", "kubernetes.io/metadata.name"];
const LABEL_VALUES: &[&str] = &["a", "b", "web", "db", "team-a", "ml", ""];
const QUANTITIES: &[&str] = &[
    "0",
    "1",
    "2",
    "100m",
    "250m",
    "1500m",
    "1Gi",
    "512Mi",
    "64Gi",
    "1e3",
    "0.5",
    "-1",
    "abc",
    "1Ei",
    "99999999999999999999999999Ei",
    "8",
    "16",
    "1k",
    "3n",
    ".5",
];
const RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "nvidia.com/gpu",
    "ephemeral-storage",
    "amd.com/gpu",
    "hugepages-2Mi",
    "example.com/foo",
];
const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "*",
    "bind",
    "escalate",
    "impersonate",
    "deletecollection",
];
const API_GROUPS: &[&str] = &[
    "",
    "*",
    "apps",
    "batch",
    "ray.io",
    "kubeflow.org",
    "rbac.authorization.k8s.io",
    "authentication.k8s.io",
];
const RBAC_RESOURCES: &[&str] = &[
    "pods",
    "pods/exec",
    "pods/attach",
    "secrets",
    "*",
    "serviceaccounts",
    "serviceaccounts/token",
    "rolebindings",
    "clusterrolebindings",
    "roles",
    "clusterroles",
    "deployments",
    "rayclusters",
    "pytorchjobs",
    "nodes/proxy",
    "users",
    "groups",
    "*/*",
];
const USERS: &[&str] = &["alice", "bob", "system:anonymous", "system:admin"];
const GROUPS: &[&str] = &[
    "devs",
    "system:masters",
    "system:authenticated",
    "system:unauthenticated",
    "system:serviceaccounts",
    "system:serviceaccounts:team-a",
];
const SAS: &[&str] = &["default", "runner", "ray-autoscaler", "admin"];
const ROLE_NAMES: &[&str] = &["r0", "r1", "r2", "admin", "edit", "view", "cluster-admin"];
const CIDRS: &[&str] = &[
    "0.0.0.0/0",
    "10.0.0.0/8",
    "10.1.0.0/16",
    "10.1.2.3/32",
    "192.168.0.0/24",
    "::/0",
    "fd00::/8",
    "10.0.0.0/33",
    "not-a-cidr",
    "10.1.2.3",
];
const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP", "tcp", "ICMP"];
const PORT_NAMES: &[&str] = &["http", "grpc", "metrics", "dashboard"];

fn pick<'a>(u: &mut Unstructured<'_>, from: &[&'a str]) -> Result<&'a str> {
    u.choose(from).copied()
}

fn some_of(u: &mut Unstructured<'_>, from: &[&str], max: usize) -> Result<Vec<Value>> {
    let n = u.int_in_range(0..=max)?;
    (0..n).map(|_| Ok(json!(pick(u, from)?))).collect()
}

fn labels(u: &mut Unstructured<'_>, max: usize) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    for _ in 0..u.int_in_range(0..=max)? {
        m.insert(pick(u, LABEL_KEYS)?.into(), json!(pick(u, LABEL_VALUES)?));
    }
    Ok(m)
}

fn label_selector(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut s = Map::new();
    if u.arbitrary()? {
        s.insert("matchLabels".into(), Value::Object(labels(u, 2)?));
    }
    if u.ratio(1, 3)? {
        let mut exprs = Vec::new();
        for _ in 0..u.int_in_range(1..=2)? {
            let op = pick(u, &["In", "NotIn", "Exists", "DoesNotExist", "Bogus"])?;
            let mut e = json!({"key": pick(u, LABEL_KEYS)?, "operator": op});
            if u.arbitrary()? {
                e["values"] = Value::Array(some_of(u, LABEL_VALUES, 2)?);
            }
            exprs.push(e);
        }
        s.insert("matchExpressions".into(), Value::Array(exprs));
    }
    Ok(Value::Object(s))
}

fn amounts(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut m = Map::new();
    for _ in 0..u.int_in_range(0..=3)? {
        m.insert(pick(u, RESOURCES)?.into(), json!(pick(u, QUANTITIES)?));
    }
    Ok(Value::Object(m))
}

fn container(u: &mut Unstructured<'_>, name: &str) -> Result<Value> {
    let mut c = json!({"name": name, "image": pick(u, &["nginx:1.27", "rayproject/ray:2.9.0", "busybox"])?});
    if u.ratio(3, 4)? {
        let mut r = Map::new();
        if u.arbitrary()? {
            r.insert("requests".into(), amounts(u)?);
        }
        if u.arbitrary()? {
            r.insert("limits".into(), amounts(u)?);
        }
        c["resources"] = Value::Object(r);
    }
    if u.arbitrary()? {
        let mut ports = Vec::new();
        for _ in 0..u.int_in_range(1..=2)? {
            let mut p = json!({"containerPort": u.int_in_range(0..=70000u32)?});
            if u.arbitrary()? {
                p["name"] = json!(pick(u, PORT_NAMES)?);
            }
            if u.ratio(1, 4)? {
                p["protocol"] = json!(pick(u, PROTOCOLS)?);
            }
            ports.push(p);
        }
        c["ports"] = Value::Array(ports);
    }
    Ok(c)
}

fn pod_spec(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut s = Map::new();
    let n = u.int_in_range(1..=2)?;
    let cs: Result<Vec<Value>> = (0..n).map(|i| container(u, &format!("c{i}"))).collect();
    s.insert("containers".into(), Value::Array(cs?));
    if u.ratio(1, 4)? {
        let mut init = container(u, "init")?;
        if u.arbitrary()? {
            init["restartPolicy"] = json!("Always");
        }
        s.insert("initContainers".into(), json!([init]));
    }
    if u.arbitrary()? {
        s.insert("serviceAccountName".into(), json!(pick(u, SAS)?));
    }
    if u.ratio(1, 5)? {
        s.insert("priorityClassName".into(), json!("high"));
    }
    if u.ratio(1, 5)? {
        s.insert("activeDeadlineSeconds".into(), json!(60));
    }
    if u.ratio(1, 6)? {
        s.insert("overhead".into(), amounts(u)?);
    }
    if u.ratio(1, 6)? {
        s.insert("runtimeClassName".into(), json!("kata"));
    }
    if u.ratio(1, 8)? {
        s.insert(
            "resources".into(),
            json!({"requests": amounts(u)?, "limits": amounts(u)?}),
        );
    }
    Ok(Value::Object(s))
}

fn template(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(json!({"metadata": {"labels": labels(u, 3)?}, "spec": pod_spec(u)?}))
}

fn meta(u: &mut Unstructured<'_>, name: String, ns: Option<&str>) -> Result<Value> {
    let mut m = json!({"name": name});
    if let Some(ns) = ns {
        m["namespace"] = json!(ns);
    }
    let mut l = labels(u, 2)?;
    if u.ratio(1, 4)? {
        l.insert(
            "kueue.x-k8s.io/queue-name".into(),
            json!(pick(u, &["q", "missing"])?),
        );
    }
    if !l.is_empty() {
        m["labels"] = Value::Object(l);
    }
    Ok(m)
}

fn replicas(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(json!(u.int_in_range(0..=5u32)?))
}

fn workload(u: &mut Unstructured<'_>, i: usize, ns: &str) -> Result<Value> {
    let name = format!("w{i}");
    Ok(match u.int_in_range(0..=4)? {
        0 => {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta(u, name, Some(ns))?, "spec": pod_spec(u)?})
        }
        1 => {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(u, name, Some(ns))?,
                    "spec": {"replicas": replicas(u)?, "template": template(u)?}})
        }
        2 => {
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta(u, name, Some(ns))?,
                    "spec": {"replicas": replicas(u)?, "template": template(u)?,
                             "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                 "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": pick(u, QUANTITIES)?}}}}]}})
        }
        3 => {
            json!({"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": meta(u, name, Some(ns))?,
                    "spec": {"headGroupSpec": {"template": template(u)?},
                             "workerGroupSpecs": [{"groupName": "gpu", "replicas": replicas(u)?,
                                 "minReplicas": replicas(u)?, "maxReplicas": replicas(u)?, "template": template(u)?}]}})
        }
        _ => {
            json!({"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": meta(u, name, Some(ns))?,
                    "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": template(u)?},
                                                     "Worker": {"replicas": replicas(u)?, "template": template(u)?}}}})
        }
    })
}

fn policy_rule(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut r = json!({
        "apiGroups": some_of(u, API_GROUPS, 2)?,
        "resources": some_of(u, RBAC_RESOURCES, 3)?,
        "verbs": some_of(u, VERBS, 3)?,
    });
    if u.ratio(1, 5)? {
        r["resourceNames"] =
            Value::Array(some_of(u, &["x", "admin", "default", "cluster-admin"], 2)?);
    }
    if u.ratio(1, 10)? {
        r = json!({"nonResourceURLs": ["*"], "verbs": some_of(u, VERBS, 2)?});
    }
    Ok(r)
}

fn role(u: &mut Unstructured<'_>, cluster: bool, ns: &str) -> Result<Value> {
    let name = pick(u, ROLE_NAMES)?.to_string();
    let mut m = meta(u, name, (!cluster).then_some(ns))?;
    if cluster && u.ratio(1, 4)? {
        m["labels"] = json!({"rbac.example.com/aggregate-to-admin": "true"});
    }
    let rules: Result<Vec<Value>> = (0..u.int_in_range(0..=3)?)
        .map(|_| policy_rule(u))
        .collect();
    let mut r = json!({"apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": if cluster { "ClusterRole" } else { "Role" }, "metadata": m, "rules": rules?});
    if cluster && u.ratio(1, 5)? {
        r["aggregationRule"] = json!({"clusterRoleSelectors": [
            {"matchLabels": {"rbac.example.com/aggregate-to-admin": "true"}}]});
    }
    Ok(r)
}

fn subject(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=2)? {
        0 => {
            json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": pick(u, USERS)?})
        }
        1 => {
            json!({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": pick(u, GROUPS)?})
        }
        _ => {
            let mut s = json!({"kind": "ServiceAccount", "name": pick(u, SAS)?});
            if u.ratio(3, 4)? {
                s["namespace"] = json!(pick(u, NAMESPACES)?);
            }
            s
        }
    })
}

fn binding(u: &mut Unstructured<'_>, i: usize, cluster: bool, ns: &str) -> Result<Value> {
    let role_kind = if cluster || u.arbitrary()? {
        "ClusterRole"
    } else {
        "Role"
    };
    let subjects: Result<Vec<Value>> = (0..u.int_in_range(0..=3)?).map(|_| subject(u)).collect();
    Ok(json!({"apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": if cluster { "ClusterRoleBinding" } else { "RoleBinding" },
        "metadata": meta(u, format!("b{i}"), (!cluster).then_some(ns))?,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": pick(u, ROLE_NAMES)?},
        "subjects": subjects?}))
}

fn netpol_peer(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=3)? {
        0 => json!({"podSelector": label_selector(u)?}),
        1 => json!({"namespaceSelector": label_selector(u)?}),
        2 => json!({"podSelector": label_selector(u)?, "namespaceSelector": label_selector(u)?}),
        _ => {
            let mut b = json!({"cidr": pick(u, CIDRS)?});
            if u.arbitrary()? {
                b["except"] = Value::Array(some_of(u, CIDRS, 2)?);
            }
            json!({"ipBlock": b})
        }
    })
}

fn netpol_port(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut p = Map::new();
    if u.ratio(3, 4)? {
        let port = if u.arbitrary()? {
            json!(u.int_in_range(0..=70000u32)?)
        } else {
            json!(pick(u, PORT_NAMES)?)
        };
        p.insert("port".into(), port);
    }
    if u.ratio(1, 4)? {
        p.insert("endPort".into(), json!(u.int_in_range(0..=70000u32)?));
    }
    if u.arbitrary()? {
        p.insert("protocol".into(), json!(pick(u, PROTOCOLS)?));
    }
    Ok(Value::Object(p))
}

fn netpol_rule(u: &mut Unstructured<'_>, dir: &str) -> Result<Value> {
    let mut r = Map::new();
    if u.ratio(3, 4)? {
        let peers: Result<Vec<Value>> = (0..u.int_in_range(0..=2)?)
            .map(|_| netpol_peer(u))
            .collect();
        r.insert(dir.into(), Value::Array(peers?));
    }
    if u.arbitrary()? {
        let ports: Result<Vec<Value>> = (0..u.int_in_range(0..=2)?)
            .map(|_| netpol_port(u))
            .collect();
        r.insert("ports".into(), Value::Array(ports?));
    }
    Ok(Value::Object(r))
}

fn netpol(u: &mut Unstructured<'_>, i: usize, ns: &str) -> Result<Value> {
    let mut spec = json!({"podSelector": label_selector(u)?});
    if u.arbitrary()? {
        spec["policyTypes"] = Value::Array(some_of(u, &["Ingress", "Egress", "Bogus"], 2)?);
    }
    if u.ratio(3, 4)? {
        let rules: Result<Vec<Value>> = (0..u.int_in_range(0..=2)?)
            .map(|_| netpol_rule(u, "from"))
            .collect();
        spec["ingress"] = Value::Array(rules?);
    }
    if u.arbitrary()? {
        let rules: Result<Vec<Value>> = (0..u.int_in_range(0..=2)?)
            .map(|_| netpol_rule(u, "to"))
            .collect();
        spec["egress"] = Value::Array(rules?);
    }
    Ok(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": format!("np{i}"), "namespace": ns}, "spec": spec}),
    )
}

fn service(u: &mut Unstructured<'_>, i: usize, ns: &str) -> Result<Value> {
    let ports: Result<Vec<Value>> = (0..u.int_in_range(1..=2)?)
        .map(|_| {
            Ok(json!({"port": u.int_in_range(1..=65535u32)?,
                "targetPort": if u.arbitrary()? { json!(pick(u, PORT_NAMES)?) } else { json!(u.int_in_range(0..=70000u32)?) }}))
        })
        .collect();
    Ok(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": format!("s{i}"), "namespace": ns},
        "spec": {"type": pick(u, &["ClusterIP", "NodePort", "LoadBalancer"])?, "selector": labels(u, 2)?, "ports": ports?}}),
    )
}

fn quota(u: &mut Unstructured<'_>, i: usize, ns: &str) -> Result<Value> {
    let keys = &[
        "requests.cpu",
        "requests.memory",
        "limits.cpu",
        "limits.memory",
        "cpu",
        "memory",
        "requests.nvidia.com/gpu",
        "pods",
        "count/pods",
        "count/deployments.apps",
        "services",
        "services.loadbalancers",
        "services.nodeports",
        "requests.storage",
        "persistentvolumeclaims",
        "fast.storageclass.storage.k8s.io/requests.storage",
        "hugepages-2Mi",
        "bogus",
    ];
    let mut hard = Map::new();
    for _ in 0..u.int_in_range(0..=4)? {
        hard.insert(pick(u, keys)?.into(), json!(pick(u, QUANTITIES)?));
    }
    let mut spec = json!({"hard": hard});
    if u.ratio(1, 4)? {
        spec["scopes"] = Value::Array(some_of(
            u,
            &[
                "BestEffort",
                "NotBestEffort",
                "Terminating",
                "NotTerminating",
                "PriorityClass",
            ],
            2,
        )?);
    }
    if u.ratio(1, 5)? {
        spec["scopeSelector"] = json!({"matchExpressions": [{"scopeName": pick(u, &["PriorityClass", "BestEffort"])?,
            "operator": pick(u, &["In", "NotIn", "Exists", "DoesNotExist"])?, "values": ["high"]}]});
    }
    Ok(
        json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": format!("rq{i}"), "namespace": ns}, "spec": spec}),
    )
}

fn limit_range(u: &mut Unstructured<'_>, i: usize, ns: &str) -> Result<Value> {
    let items: Result<Vec<Value>> = (0..u.int_in_range(0..=2)?)
        .map(|_| {
            let mut it = json!({"type": pick(u, &["Container", "Pod", "PersistentVolumeClaim"])?});
            for k in [
                "max",
                "min",
                "default",
                "defaultRequest",
                "maxLimitRequestRatio",
            ] {
                if u.ratio(1, 3)? {
                    it[k] = amounts(u)?;
                }
            }
            Ok(it)
        })
        .collect();
    Ok(
        json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": format!("lr{i}"), "namespace": ns},
        "spec": {"limits": items?}}),
    )
}

fn kueue(u: &mut Unstructured<'_>, out: &mut Vec<Value>) -> Result<()> {
    for c in 0..u.int_in_range(0..=2)? {
        let resources: Result<Vec<Value>> = (0..u.int_in_range(0..=3)?)
            .map(|_| {
                let mut r =
                    json!({"name": pick(u, RESOURCES)?, "nominalQuota": pick(u, QUANTITIES)?});
                if u.arbitrary()? {
                    r["borrowingLimit"] = json!(pick(u, QUANTITIES)?);
                }
                if u.arbitrary()? {
                    r["lendingLimit"] = json!(pick(u, QUANTITIES)?);
                }
                Ok(r)
            })
            .collect();
        out.push(
            json!({"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "ClusterQueue",
            "metadata": {"name": format!("cq{c}")},
            "spec": {"cohort": pick(u, &["co", "co2", ""])?, "resourceGroups": [{
                "coveredResources": some_of(u, RESOURCES, 3)?,
                "flavors": [{"name": pick(u, &["a100", "default"])?, "resources": resources?}]}]}}),
        );
    }
    if u.ratio(1, 4)? {
        out.push(json!({"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "Cohort", "metadata": {"name": "co"},
            "spec": {"resourceGroups": [{"coveredResources": ["nvidia.com/gpu"], "flavors": [{"name": "a100",
                "resources": [{"name": "nvidia.com/gpu", "nominalQuota": pick(u, QUANTITIES)?}]}]}]}}));
    }
    for ns in NAMESPACES.iter().take(u.int_in_range(0..=2)?) {
        out.push(json!({"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "LocalQueue",
            "metadata": {"name": "q", "namespace": ns}, "spec": {"clusterQueue": pick(u, &["cq0", "cq1", "nope"])?}}));
    }
    Ok(())
}

/// Which parts of an inventory to generate.
#[derive(Clone, Copy, Debug, Default)]
pub struct Parts {
    /// Roles, ClusterRoles and bindings.
    pub rbac: bool,
    /// NetworkPolicies and Services.
    pub netpol: bool,
    /// ResourceQuotas, LimitRanges, HPAs, Kueue queues.
    pub quota: bool,
}

/// Manifest text (JSON documents, which are YAML) for an inventory.
pub fn manifests(u: &mut Unstructured<'_>, parts: Parts) -> Result<String> {
    let mut objs: Vec<Value> = Vec::new();
    let nss: Vec<&str> = NAMESPACES[..u.int_in_range(1..=3)?].to_vec();
    for ns in &nss {
        if u.ratio(2, 3)? {
            objs.push(json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "labels": labels(u, 2)?}}));
        }
    }
    for i in 0..u.int_in_range(0..=6)? {
        let ns = pick(u, &nss)?;
        objs.push(workload(u, i, ns)?);
    }
    if parts.rbac {
        for _ in 0..u.int_in_range(0..=6)? {
            let ns = pick(u, &nss)?;
            let cluster = u.arbitrary()?;
            objs.push(role(u, cluster, ns)?);
        }
        for i in 0..u.int_in_range(0..=6)? {
            let ns = pick(u, &nss)?;
            let cluster = u.arbitrary()?;
            objs.push(binding(u, i, cluster, ns)?);
        }
    }
    if parts.netpol {
        for i in 0..u.int_in_range(0..=4)? {
            let ns = pick(u, &nss)?;
            objs.push(netpol(u, i, ns)?);
        }
        for i in 0..u.int_in_range(0..=2)? {
            let ns = pick(u, &nss)?;
            objs.push(service(u, i, ns)?);
        }
    }
    if parts.quota {
        for i in 0..u.int_in_range(0..=3)? {
            let ns = pick(u, &nss)?;
            objs.push(quota(u, i, ns)?);
        }
        for i in 0..u.int_in_range(0..=2)? {
            let ns = pick(u, &nss)?;
            objs.push(limit_range(u, i, ns)?);
        }
        if u.ratio(1, 4)? {
            let ns = pick(u, &nss)?;
            objs.push(json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "h", "namespace": ns},
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": format!("w{}", u.int_in_range(0..=5)?)},
                         "maxReplicas": u.int_in_range(0..=20u32)?}}));
        }
        if u.ratio(1, 5)? {
            objs.push(json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "kata"},
                "handler": "kata", "overhead": {"podFixed": amounts(u)?}}));
        }
        kueue(u, &mut objs)?;
    }
    let mut text = String::new();
    for o in &objs {
        text.push_str("---\n");
        text.push_str(&serde_json::to_string_pretty(o).unwrap());
        text.push('\n');
    }
    Ok(text)
}

/// Loads manifest text into an inventory (no diagnostics expected: the
/// generator writes well-formed documents).
pub fn inventory(text: &str) -> Inventory {
    let loaded = load(
        &[Input::Text {
            name: "gen.yaml".into(),
            text: text.to_string(),
        }],
        &LoadOptions::default(),
    );
    Inventory::new(loaded)
}

/// The inventory the fuzzer's bytes describe: [`manifests`] with these
/// parts, loaded by [`inventory`]; `None` when the bytes run out.
pub fn generated(data: &[u8], parts: Parts) -> Option<Inventory> {
    let text = manifests(&mut Unstructured::new(data), parts).ok()?;
    Some(inventory(&text))
}
