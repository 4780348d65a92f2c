//! Policy rules and requests: the RBAC authorizer's matching semantics.

use crate::node::{Node, Pointer};
use crate::object::ObjectId;

/// One rule of a Role or ClusterRole, with where it is written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyRule {
    /// `verbs`.
    pub verbs: Vec<String>,
    /// `apiGroups`.
    pub api_groups: Vec<String>,
    /// `resources` (`pods`, `pods/exec`, `*/scale`, `*`).
    pub resources: Vec<String>,
    /// `resourceNames`.
    pub resource_names: Vec<String>,
    /// `nonResourceURLs`.
    pub non_resource_urls: Vec<String>,
    /// The object that holds the rule (`None` for a built-in default role).
    pub object: Option<ObjectId>,
    /// JSON pointer of the rule in that object (`/rules/2`).
    pub pointer: Pointer,
    /// `Kind name` of the role that holds it (for aggregated rules, the
    /// role they come from).
    pub source: String,
}

/// An API request, as the authorizer sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Request {
    /// The verb (`get`, `create`, `impersonate`, ...).
    pub verb: String,
    /// API group (`""` for core).
    pub group: String,
    /// Resource (plural).
    pub resource: String,
    /// Subresource (`exec`, `token`), empty when none.
    pub subresource: String,
    /// The namespace; `None` for cluster-scoped requests and requests
    /// across all namespaces (only ClusterRoleBindings grant those).
    pub namespace: Option<String>,
    /// The object name, when the request names one.
    pub name: Option<String>,
    /// A non-resource URL (`/metrics`); when set, the resource fields are unused.
    pub non_resource_url: Option<String>,
}

fn has(list: &[String], v: &str) -> bool {
    list.iter().any(|x| x == "*" || x == v)
}

impl PolicyRule {
    /// Whether this rule allows the request's verb, group, resource and name
    /// (the scope is the binding's business). As the Kubernetes authorizer:
    /// `*` matches anything, `*/sub` any resource's subresource `sub`, and
    /// `resourceNames` match only requests that name an object, so they can
    /// never grant `create`, `list`, `watch` or `deletecollection` of a
    /// whole collection.
    pub fn allows(&self, r: &Request) -> bool {
        if let Some(url) = &r.non_resource_url {
            return has(&self.verbs, &r.verb)
                && self.non_resource_urls.iter().any(|u| {
                    u == "*" || u == url || u.strip_suffix('*').is_some_and(|p| url.starts_with(p))
                });
        }
        if !has(&self.verbs, &r.verb) || !has(&self.api_groups, &r.group) {
            return false;
        }
        if !self.matches_resource(&r.resource, &r.subresource) {
            return false;
        }
        if self.resource_names.is_empty() {
            return true;
        }
        match &r.name {
            Some(n) => self.resource_names.iter().any(|x| x == n),
            None => false,
        }
    }

    /// Whether `resources` covers `resource[/sub]`.
    pub fn matches_resource(&self, resource: &str, sub: &str) -> bool {
        self.resources.iter().any(|x| {
            if x == "*" {
                return true;
            }
            if sub.is_empty() {
                return x == resource;
            }
            match x.split_once('/') {
                Some((res, s)) => (res == resource || res == "*") && s == sub,
                None => false,
            }
        })
    }

    /// Whether it has `*` verbs on `*` resources of `*` groups.
    pub fn is_superuser(&self) -> bool {
        self.verbs.iter().any(|v| v == "*")
            && self.api_groups.iter().any(|v| v == "*")
            && self.resources.iter().any(|v| v == "*")
            && self.resource_names.is_empty()
    }

    /// A one-line rendering (`verbs [get list] on secrets`).
    pub fn summary(&self) -> String {
        let mut s = format!("verbs [{}]", self.verbs.join(" "));
        if !self.non_resource_urls.is_empty() {
            s.push_str(&format!(" on URLs [{}]", self.non_resource_urls.join(" ")));
        }
        if !self.resources.is_empty() {
            let groups: Vec<_> = self
                .api_groups
                .iter()
                .map(|g| if g.is_empty() { "core" } else { g.as_str() })
                .collect();
            s.push_str(&format!(
                " on [{}] in groups [{}]",
                self.resources.join(" "),
                groups.join(" ")
            ));
        }
        if !self.resource_names.is_empty() {
            s.push_str(&format!(" named [{}]", self.resource_names.join(" ")));
        }
        s
    }
}

/// Reads a list of strings (a lone string counts as a one-item list).
pub(crate) fn strings(node: &Node) -> Vec<String> {
    if let Some(s) = node.scalar_text() {
        if node.items().is_empty() && !node.is_null() {
            return vec![s];
        }
    }
    node.items()
        .iter()
        .filter_map(|n| n.scalar_text())
        .collect()
}

/// The rules of a Role or ClusterRole object.
pub(crate) fn read_rules(root: &Node, object: Option<ObjectId>, source: &str) -> Vec<PolicyRule> {
    let base = Pointer::root().key("rules");
    root.field("rules")
        .items()
        .iter()
        .enumerate()
        .map(|(i, r)| PolicyRule {
            verbs: strings(r.field("verbs")),
            api_groups: strings(r.field("apiGroups")),
            resources: strings(r.field("resources")),
            resource_names: strings(r.field("resourceNames")),
            non_resource_urls: strings(r.field("nonResourceURLs")),
            object,
            pointer: base.idx(i),
            source: source.to_string(),
        })
        .collect()
}

/// Resources that are not namespaced (RoleBindings never grant them,
/// except `namespaces`, which a RoleBinding grants on its own namespace).
pub const CLUSTER_SCOPED: &[&str] = &[
    "nodes",
    "namespaces",
    "persistentvolumes",
    "clusterroles",
    "clusterrolebindings",
    "storageclasses",
    "customresourcedefinitions",
    "mutatingwebhookconfigurations",
    "validatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
    "certificatesigningrequests",
    "signers",
    "priorityclasses",
    "csidrivers",
    "csinodes",
    "volumeattachments",
    "apiservices",
    "runtimeclasses",
    "ingressclasses",
    "tokenreviews",
    "subjectaccessreviews",
    "selfsubjectaccessreviews",
    "selfsubjectrulesreviews",
    "users",
    "groups",
    "userextras",
    "uids",
    "clusterservingruntimes",
    "clustertrainingruntimes",
    "clusterworkflowtemplates",
    "clusterqueues",
    "resourceflavors",
    "cohorts",
    "profiles",
];

/// Core-group resources (a RESOURCE without `.group` naming one of these
/// is in the core group).
const CORE: &[&str] = &[
    "pods",
    "secrets",
    "configmaps",
    "services",
    "serviceaccounts",
    "nodes",
    "namespaces",
    "persistentvolumes",
    "persistentvolumeclaims",
    "endpoints",
    "events",
    "limitranges",
    "resourcequotas",
    "replicationcontrollers",
    "podtemplates",
    "bindings",
    "componentstatuses",
    "users",
    "groups",
    "uids",
    "userextras",
];

/// Well-known groups of resources outside the kinds table.
const KNOWN: &[(&str, &str)] = &[
    ("roles", "rbac.authorization.k8s.io"),
    ("rolebindings", "rbac.authorization.k8s.io"),
    ("clusterroles", "rbac.authorization.k8s.io"),
    ("clusterrolebindings", "rbac.authorization.k8s.io"),
    (
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    (
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    ("certificatesigningrequests", "certificates.k8s.io"),
    ("signers", "certificates.k8s.io"),
    ("customresourcedefinitions", "apiextensions.k8s.io"),
    ("tokenreviews", "authentication.k8s.io"),
    ("subjectaccessreviews", "authorization.k8s.io"),
    ("selfsubjectaccessreviews", "authorization.k8s.io"),
    ("localsubjectaccessreviews", "authorization.k8s.io"),
    ("storageclasses", "storage.k8s.io"),
    ("networkpolicies", "networking.k8s.io"),
    ("ingresses", "networking.k8s.io"),
    ("horizontalpodautoscalers", "autoscaling"),
    ("poddisruptionbudgets", "policy"),
    ("leases", "coordination.k8s.io"),
    ("priorityclasses", "scheduling.k8s.io"),
];

/// Parses `RESOURCE` as `kubectl auth can-i` writes it: `pods`,
/// `pods/exec`, `deployments.apps`, `rayclusters.ray.io/status`. Without a
/// group, the core group is assumed for core resources, then the group
/// the kinds table or a short list of well-known resources gives.
/// Returns (group, resource, subresource).
pub fn parse_resource(text: &str) -> (String, String, String) {
    parse_resource_with(text, crate::kinds::KindTable::builtin())
}

/// [`parse_resource`] with a given kinds table (an inventory's, which a
/// config may extend).
pub fn parse_resource_with(
    text: &str,
    table: &crate::kinds::KindTable,
) -> (String, String, String) {
    let (res, sub) = match text.split_once('/') {
        Some((r, s)) => (r, s),
        None => (text, ""),
    };
    let (res, group) = match res.split_once('.') {
        Some((r, g)) => (r.to_string(), Some(g.to_string())),
        None => (res.to_string(), None),
    };
    let group = group.unwrap_or_else(|| default_group(&res, table));
    (group, res, sub.to_string())
}

fn default_group(res: &str, table: &crate::kinds::KindTable) -> String {
    if CORE.contains(&res) {
        return String::new();
    }
    if let Some((_, g)) = KNOWN.iter().find(|(r, _)| *r == res) {
        return g.to_string();
    }
    let mut groups: Vec<&str> = table
        .pod_kinds()
        .into_iter()
        .filter(|k| k.resource.as_deref() == Some(res))
        .map(|k| k.group.as_str())
        .collect();
    groups.sort();
    groups.first().map(|g| g.to_string()).unwrap_or_default()
}

impl Request {
    /// A resource request. `namespace` is ignored for cluster-scoped
    /// resources; for `namespaces`, the namespace is the name asked for.
    /// Resources without a group are looked up in the built-in kinds
    /// table; [`crate::rbac::RbacGraph::request`] uses the inventory's.
    pub fn new(verb: &str, resource: &str, namespace: Option<&str>, name: Option<&str>) -> Request {
        Request::with_kinds(
            verb,
            resource,
            namespace,
            name,
            crate::kinds::KindTable::builtin(),
        )
    }

    /// [`Request::new`] with a given kinds table.
    pub fn with_kinds(
        verb: &str,
        resource: &str,
        namespace: Option<&str>,
        name: Option<&str>,
        table: &crate::kinds::KindTable,
    ) -> Request {
        if resource.starts_with('/') {
            return Request {
                verb: verb.to_string(),
                non_resource_url: Some(resource.to_string()),
                ..Request::default()
            };
        }
        let (group, res, sub) = parse_resource_with(resource, table);
        let namespace = if res == "namespaces" {
            name.map(str::to_string)
        } else if CLUSTER_SCOPED.contains(&res.as_str()) && res != "serviceaccounts" {
            None
        } else {
            namespace.map(str::to_string)
        };
        Request {
            verb: verb.to_string(),
            group,
            resource: res,
            subresource: sub,
            namespace,
            name: name.map(str::to_string),
            non_resource_url: None,
        }
    }

    /// `verb resource[/sub] [name] [in ns]`, for messages.
    pub fn describe(&self) -> String {
        if let Some(u) = &self.non_resource_url {
            return format!("{} {u}", self.verb);
        }
        let mut s = format!("{} {}", self.verb, self.resource);
        if !self.group.is_empty() {
            s.push_str(&format!(".{}", self.group));
        }
        if !self.subresource.is_empty() {
            s.push_str(&format!("/{}", self.subresource));
        }
        if let Some(n) = &self.name {
            s.push_str(&format!(" {n}"));
        }
        match &self.namespace {
            Some(ns) => s.push_str(&format!(" in namespace {ns}")),
            None => s.push_str(" cluster-wide"),
        }
        s
    }
}
