//! The RBAC privilege graph: who can do what, who can become whom, and the
//! path from one to the other.
//!
//! [`RbacGraph::build`] reads every Role, ClusterRole, RoleBinding and
//! ClusterRoleBinding of an inventory (plus the default ClusterRoles every
//! cluster has, and `system:masters`), resolves aggregated ClusterRoles to a
//! fixpoint, and draws the escalation edges between subjects: "can create
//! pods in `team-a`" is an edge from the subject to *any ServiceAccount of
//! team-a*, "can impersonate groups" an edge to *cluster-admin*. Each edge
//! names the binding subject and the role rule that create it.
//!
//! Rules and commands share one graph per inventory through
//! [`crate::Context::analysis`]:
//!
//! ```
//! use ml_audit::Inventory;
//! use ml_audit::rbac::{RbacGraph, Subject};
//!
//! let yaml = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: devs, namespace: team-a}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\nsubjects:\n- {kind: User, name: alice}\n";
//! let inv = Inventory::from_text("rb.yaml", yaml);
//! let g = RbacGraph::build(&inv);
//! let answer = g.who_can("create", "pods", Some("team-a"), None);
//! assert!(answer.direct.iter().any(|d| d.subject == Subject::user("alice")));
//! // edit can create pods, so alice can act as the default ServiceAccount of team-a.
//! let path = g.path(&Subject::user("alice"), &ml_audit::rbac::Target::Subject(Subject::sa("team-a", "default"))).unwrap();
//! assert_eq!(path.steps.len(), 2);
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::inventory::Inventory;
use crate::kinds::KindTable;
use crate::node::{Node, Pointer};
use crate::object::ObjectId;

mod policy;
pub mod render;
mod subject;

pub use policy::{parse_resource, PolicyRule, Request, CLUSTER_SCOPED};
pub use subject::{Subject, ANONYMOUS, AUTHENTICATED, MASTERS, SERVICEACCOUNTS, UNAUTHENTICATED};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Pod-creating kinds that only hold templates: creating one runs nothing.
const TEMPLATE_ONLY: &[&str] = &[
    "podtemplates",
    "servingruntimes",
    "clusterservingruntimes",
    "workflowtemplates",
    "clusterworkflowtemplates",
    "trainingruntimes",
    "clustertrainingruntimes",
    "workloads",
];

/// A Role or ClusterRole, from the input or a built-in default.
#[derive(Clone, Debug)]
pub struct RoleDef {
    /// ClusterRole (true) or Role.
    pub cluster: bool,
    /// The namespace of a Role.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// The object (`None` for a built-in default).
    pub object: Option<ObjectId>,
    /// Labels (aggregation selects on them).
    pub labels: BTreeMap<String, String>,
    /// Its own rules (indices into [`RbacGraph::rules`]).
    pub own: Vec<usize>,
    /// Own and aggregated rules, after the fixpoint.
    pub rules: Vec<usize>,
    selectors: Vec<Selector>,
}

impl RoleDef {
    /// `ClusterRole name` or `Role ns/name`.
    pub fn display(&self) -> String {
        match (&self.namespace, self.cluster) {
            (_, true) => format!("ClusterRole {}", self.name),
            (Some(ns), false) => format!("Role {ns}/{}", self.name),
            (None, false) => format!("Role {}", self.name),
        }
    }
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Clone, Debug)]
pub struct BindingDef {
    /// ClusterRoleBinding (true) or RoleBinding.
    pub cluster: bool,
    /// The namespace of a RoleBinding (the scope of what it grants).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// The object (`None` for the built-in `system:masters` binding).
    pub object: Option<ObjectId>,
    /// `roleRef.kind` and `roleRef.name`.
    pub role_ref: (String, String),
    /// The role it grants, when it exists (in the input or as a default).
    pub role: Option<usize>,
    /// Subjects, each with the JSON pointer of its entry.
    pub subjects: Vec<(Subject, Pointer)>,
}

impl BindingDef {
    /// `ClusterRoleBinding name` or `RoleBinding ns/name`.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) if !self.cluster => format!("RoleBinding {ns}/{}", self.name),
            _ => format!("ClusterRoleBinding {}", self.name),
        }
    }
}

/// A node of the privilege graph.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(tag = "node", rename_all = "camelCase")]
pub enum Target {
    /// A user, group or ServiceAccount.
    Subject(Subject),
    /// "Any ServiceAccount of this namespace, and every Secret mountable there."
    Namespace {
        /// The namespace.
        namespace: String,
    },
    /// Any ServiceAccount of any namespace.
    AllNamespaces,
    /// The workloads of one pod-creating kind (`deployments.apps`,
    /// `rayclusters.ray.io`) in a namespace, or in every namespace: patching
    /// any of them runs code as the ServiceAccount it names.
    Workloads {
        /// `resource.group` (`deployments.apps`, `pods`).
        resource: String,
        /// The namespace (`None`: every namespace).
        namespace: Option<String>,
    },
    /// Root on a node: the tokens of every pod scheduled there.
    NodeRoot,
    /// Cluster-admin equivalence: `*` on `*` everywhere.
    ClusterAdmin,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Subject(s) => write!(f, "{s}"),
            Target::Namespace { namespace } => {
                write!(f, "any ServiceAccount of namespace {namespace}")
            }
            Target::AllNamespaces => f.write_str("any ServiceAccount of any namespace"),
            Target::Workloads {
                resource,
                namespace: Some(ns),
            } => write!(f, "the {resource} of namespace {ns}"),
            Target::Workloads {
                resource,
                namespace: None,
            } => write!(f, "the {resource} of every namespace"),
            Target::NodeRoot => f.write_str("root on a node"),
            Target::ClusterAdmin => f.write_str("cluster-admin"),
        }
    }
}

/// Why one node leads to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// A user or ServiceAccount is a member of an (implicit) group.
    Member,
    /// `system:masters` bypasses RBAC.
    Masters,
    /// `*` verbs on `*` resources in `*` groups, cluster-wide.
    Wildcard,
    /// Create pods, or a kind that creates pods (Deployments, RayClusters,
    /// PyTorchJobs, Notebooks, InferenceServices, Workflows, ...).
    CreatePods,
    /// get/list/watch Secrets: ServiceAccount tokens and every mounted secret.
    ReadSecrets,
    /// create `serviceaccounts/token`.
    CreateToken,
    /// impersonate users, groups or ServiceAccounts.
    Impersonate,
    /// `bind` on roles together with create/update of bindings.
    Bind,
    /// `escalate` on roles together with create/update of roles.
    Escalate,
    /// `pods/exec`, `pods/attach` or `pods/ephemeralcontainers`.
    PodExec,
    /// `nodes/proxy`: the kubelet API, commands in any pod.
    NodesProxy,
    /// approve CertificateSigningRequests (with the signer): a client
    /// certificate for any user or group, `system:masters` included.
    ApproveCsr,
    /// write MutatingWebhookConfigurations: rewrite any object.
    MutatingWebhook,
    /// create PersistentVolumes (hostPath).
    CreatePersistentVolume,
    /// patch Namespaces (lift Pod Security labels) and create pods.
    PatchNamespace,
    /// patch/update a workload that runs as a ServiceAccount (to that
    /// ServiceAccount when resourceNames name the workload, else to the
    /// [`Target::Workloads`] of the scope).
    PatchWorkload,
    /// [`Target::Workloads`] -> each ServiceAccount one of them runs as.
    RunsAs,
    /// Namespace node -> each of its ServiceAccounts.
    AnyServiceAccount,
    /// All-namespaces node -> each namespace.
    AnyNamespace,
    /// Node root -> every ServiceAccount token on the node.
    NodeTokens,
}

impl EdgeKind {
    /// What the edge means, in words.
    pub fn describe(self) -> &'static str {
        match self {
            EdgeKind::Member => "is a member of",
            EdgeKind::Masters => "bypasses RBAC (system:masters)",
            EdgeKind::Wildcard => "has * on * cluster-wide",
            EdgeKind::CreatePods => "can create pods, so can run as",
            EdgeKind::ReadSecrets => "can read secrets, so holds the tokens of",
            EdgeKind::CreateToken => "can create tokens for",
            EdgeKind::Impersonate => "can impersonate",
            EdgeKind::Bind => "can bind roles, so can grant itself",
            EdgeKind::Escalate => "can escalate roles, so can grant itself",
            EdgeKind::PodExec => "can exec into pods of",
            EdgeKind::NodesProxy => "can use the kubelet API (nodes/proxy), so reaches",
            EdgeKind::ApproveCsr => "can approve certificates for any user, so reaches",
            EdgeKind::MutatingWebhook => "can register mutating webhooks, so reaches",
            EdgeKind::CreatePersistentVolume => "can create hostPath PersistentVolumes, so reaches",
            EdgeKind::PatchNamespace => "can lift Pod Security labels and create pods, so reaches",
            EdgeKind::PatchWorkload => "can patch",
            EdgeKind::RunsAs => "include a workload that runs as",
            EdgeKind::AnyServiceAccount => "includes",
            EdgeKind::AnyNamespace => "includes",
            EdgeKind::NodeTokens => "reads the tokens of",
        }
    }

    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Member => "member",
            EdgeKind::Masters => "masters",
            EdgeKind::Wildcard => "wildcard",
            EdgeKind::CreatePods => "create-pods",
            EdgeKind::ReadSecrets => "read-secrets",
            EdgeKind::CreateToken => "create-token",
            EdgeKind::Impersonate => "impersonate",
            EdgeKind::Bind => "bind",
            EdgeKind::Escalate => "escalate",
            EdgeKind::PodExec => "pod-exec",
            EdgeKind::NodesProxy => "nodes-proxy",
            EdgeKind::ApproveCsr => "approve-csr",
            EdgeKind::MutatingWebhook => "mutating-webhook",
            EdgeKind::CreatePersistentVolume => "create-persistent-volume",
            EdgeKind::PatchNamespace => "patch-namespace",
            EdgeKind::PatchWorkload => "patch-workload",
            EdgeKind::RunsAs => "runs-as",
            EdgeKind::AnyServiceAccount => "any-service-account",
            EdgeKind::AnyNamespace => "any-namespace",
            EdgeKind::NodeTokens => "node-tokens",
        }
    }
}

/// One grant behind an edge: a binding subject and the role rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cause {
    /// Index into [`RbacGraph::bindings`].
    pub binding: usize,
    /// Index of the subject in that binding.
    pub subject: usize,
    /// Index into [`RbacGraph::rules`].
    pub rule: usize,
}

/// An edge of the privilege graph.
#[derive(Clone, Debug)]
pub struct Edge {
    /// Why.
    pub kind: EdgeKind,
    /// The grants that create it (two for combinations such as bind + create bindings).
    pub causes: Vec<Cause>,
    /// What exactly (`create rayclusters.ray.io in team-a`).
    pub detail: String,
    /// The workload object, for [`EdgeKind::PatchWorkload`] and [`EdgeKind::RunsAs`].
    pub object: Option<ObjectId>,
}

/// One step of a path.
#[derive(Clone, Debug)]
pub struct Step {
    /// From.
    pub from: Target,
    /// To.
    pub to: Target,
    /// The edge taken.
    pub edge: Edge,
}

/// A path through the privilege graph.
#[derive(Clone, Debug, Default)]
pub struct Path {
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// Where [`RbacGraph::paths`] should go.
#[derive(Clone, Debug)]
pub enum Goal {
    /// Cluster-admin equivalence.
    ClusterAdmin,
    /// Being allowed a request.
    Request(Request),
    /// Every node the subject reaches.
    Everything,
}

/// A direct grant of a request.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DirectGrant {
    /// Who.
    pub subject: Subject,
    /// Through which binding subject and role rule.
    pub cause: Cause,
}

/// The answer to "who can do this?".
#[derive(Clone, Debug, Default)]
pub struct WhoCan {
    /// Subjects the bindings allow directly (with binding, role and rule),
    /// sorted by subject.
    pub direct: Vec<DirectGrant>,
    /// Subjects that get there by escalation, with the shortest path,
    /// sorted by path length then subject.
    pub escalation: Vec<(Subject, Path)>,
}

#[derive(Clone, Debug, Default)]
struct Selector {
    labels: Vec<(String, String)>,
    exprs: Vec<(String, String, Vec<String>)>,
}

impl Selector {
    fn read(n: &Node) -> Selector {
        Selector {
            labels: n
                .field("matchLabels")
                .entries()
                .iter()
                .filter_map(|e| Some((e.key.to_string(), e.value.scalar_text()?)))
                .collect(),
            exprs: n
                .field("matchExpressions")
                .items()
                .iter()
                .map(|x| {
                    (
                        x.field("key").scalar_text().unwrap_or_default(),
                        x.field("operator").scalar_text().unwrap_or_default(),
                        policy::strings(x.field("values")),
                    )
                })
                .collect(),
        }
    }

    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        if self.labels.is_empty() && self.exprs.is_empty() {
            // An empty selector in an aggregationRule selects nothing useful; Kubernetes
            // treats it as "everything", which we follow.
            return true;
        }
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.exprs.iter().all(|(k, op, vals)| match op.as_str() {
                "In" => labels.get(k).is_some_and(|v| vals.contains(v)),
                "NotIn" => labels.get(k).is_none_or(|v| !vals.contains(v)),
                "Exists" => labels.contains_key(k),
                "DoesNotExist" => !labels.contains_key(k),
                _ => false,
            })
    }
}

/// Resource names a grant is limited to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Names {
    All,
    Only(Vec<String>),
}

impl Names {
    fn has(&self, n: &str) -> bool {
        match self {
            Names::All => true,
            Names::Only(v) => v.iter().any(|x| x == n),
        }
    }
}

/// What one rule can do that matters for escalation (independent of scope).
#[derive(Clone, Debug, Default)]
struct Caps {
    superuser: bool,
    create_pods: Option<String>,
    read_secrets: bool,
    token: Option<Names>,
    imp_users: Option<Names>,
    imp_groups: Option<Names>,
    imp_sas: Option<Names>,
    bind_roles: Option<Names>,
    bind_clusterroles: Option<Names>,
    escalate_roles: bool,
    escalate_clusterroles: bool,
    write_roles: bool,
    write_clusterroles: bool,
    write_rolebindings: bool,
    write_clusterrolebindings: bool,
    exec: Option<&'static str>,
    nodes_proxy: bool,
    csr_approval: bool,
    signer_approve: bool,
    mutating_webhook: bool,
    pv_create: bool,
    ns_patch: Option<Names>,
    workload_patch: Vec<(usize, Names)>,
}

fn verb_in(rule: &PolicyRule, verbs: &[&str]) -> bool {
    rule.verbs
        .iter()
        .any(|v| v == "*" || verbs.contains(&v.as_str()))
}

fn group_in(rule: &PolicyRule, g: &str) -> bool {
    rule.api_groups.iter().any(|x| x == "*" || x == g)
}

/// Whether the rule grants one of `verbs` on `group/resource[/sub]`, and for which names.
fn grant(rule: &PolicyRule, verbs: &[&str], g: &str, res: &str, sub: &str) -> Option<Names> {
    if !rule.non_resource_urls.is_empty() && rule.resources.is_empty() {
        return None;
    }
    if verb_in(rule, verbs) && group_in(rule, g) && rule.matches_resource(res, sub) {
        if rule.resource_names.is_empty() {
            Some(Names::All)
        } else {
            Some(Names::Only(rule.resource_names.clone()))
        }
    } else {
        None
    }
}

/// Grant on the whole collection (names never restrict create/list/watch).
fn grant_all(rule: &PolicyRule, verbs: &[&str], g: &str, res: &str, sub: &str) -> bool {
    grant(rule, verbs, g, res, sub) == Some(Names::All)
}

fn caps_of(rule: &PolicyRule, pod_kinds: &[(String, String)]) -> Caps {
    let mut c = Caps {
        superuser: rule.is_superuser(),
        ..Caps::default()
    };
    for (g, r) in pod_kinds {
        if c.create_pods.is_none() && grant_all(rule, &["create"], g, r, "") {
            c.create_pods = Some(if g.is_empty() {
                r.clone()
            } else {
                format!("{r}.{g}")
            });
        }
    }
    for (i, (g, r)) in pod_kinds.iter().enumerate() {
        // The pod template of a Pod or a Job cannot be changed after creation.
        if (g.is_empty() && r == "pods") || (g == "batch" && r == "jobs") {
            continue;
        }
        if let Some(n) = grant(rule, &["patch", "update"], g, r, "") {
            c.workload_patch.push((i, n));
        }
    }
    c.read_secrets = grant_all(rule, &["get", "list", "watch"], "", "secrets", "");
    c.token = grant(rule, &["create"], "", "serviceaccounts", "token");
    c.imp_users = grant(rule, &["impersonate"], "", "users", "");
    c.imp_groups = grant(rule, &["impersonate"], "", "groups", "");
    c.imp_sas = grant(rule, &["impersonate"], "", "serviceaccounts", "");
    c.bind_roles = grant(rule, &["bind"], RBAC_GROUP, "roles", "");
    c.bind_clusterroles = grant(rule, &["bind"], RBAC_GROUP, "clusterroles", "");
    c.escalate_roles = grant(rule, &["escalate"], RBAC_GROUP, "roles", "").is_some();
    c.escalate_clusterroles = grant(rule, &["escalate"], RBAC_GROUP, "clusterroles", "").is_some();
    let write = ["create", "update", "patch"];
    c.write_roles = grant(rule, &write, RBAC_GROUP, "roles", "").is_some();
    c.write_clusterroles = grant(rule, &write, RBAC_GROUP, "clusterroles", "").is_some();
    c.write_rolebindings = grant_all(rule, &["create"], RBAC_GROUP, "rolebindings", "")
        || grant(rule, &["update", "patch"], RBAC_GROUP, "rolebindings", "").is_some();
    c.write_clusterrolebindings =
        grant_all(rule, &["create"], RBAC_GROUP, "clusterrolebindings", "")
            || grant(
                rule,
                &["update", "patch"],
                RBAC_GROUP,
                "clusterrolebindings",
                "",
            )
            .is_some();
    c.exec = if grant_all(rule, &["create", "get"], "", "pods", "exec") {
        Some("pods/exec")
    } else if grant_all(rule, &["create", "get"], "", "pods", "attach") {
        Some("pods/attach")
    } else if grant_all(
        rule,
        &["update", "patch"],
        "",
        "pods",
        "ephemeralcontainers",
    ) {
        Some("pods/ephemeralcontainers")
    } else {
        None
    };
    c.nodes_proxy = grant_all(rule, &["get", "create"], "", "nodes", "proxy");
    c.csr_approval = grant(
        rule,
        &["update", "patch"],
        "certificates.k8s.io",
        "certificatesigningrequests",
        "approval",
    )
    .is_some();
    c.signer_approve = match grant(rule, &["approve"], "certificates.k8s.io", "signers", "") {
        Some(Names::All) => true,
        Some(Names::Only(v)) => v
            .iter()
            .any(|s| s == "kubernetes.io/kube-apiserver-client" || s == "kubernetes.io/*"),
        None => false,
    };
    c.mutating_webhook = grant_all(
        rule,
        &["create"],
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "",
    ) || grant(
        rule,
        &["update", "patch"],
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "",
    )
    .is_some();
    c.pv_create = grant_all(rule, &["create"], "", "persistentvolumes", "");
    c.ns_patch = grant(rule, &["patch", "update"], "", "namespaces", "");
    c
}

/// The RBAC privilege graph of an inventory.
#[derive(Debug)]
pub struct RbacGraph {
    /// Every rule of every role (input and defaults).
    pub rules: Vec<PolicyRule>,
    /// Roles and ClusterRoles (input first, then the defaults not overridden).
    pub roles: Vec<RoleDef>,
    /// Bindings (input, then the built-in `system:masters` binding).
    pub bindings: Vec<BindingDef>,
    /// The graph: subjects and targets, escalation edges.
    pub graph: DiGraph<Target, Edge>,
    index: HashMap<Target, NodeIndex>,
    by_subject: HashMap<Subject, Vec<(usize, usize)>>,
    admin: NodeIndex,
    /// For every node, the first edge of its shortest path to cluster-admin.
    to_admin: Vec<Option<EdgeIndex>>,
}

/// An edge about to be drawn: target, kind, causes, detail, workload.
type PendingEdge = (Target, EdgeKind, Vec<Cause>, String, Option<ObjectId>);

/// The (group, resource) of every kind that creates pods.
pub fn pod_creating_resources() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = KindTable::builtin()
        .pod_kinds()
        .into_iter()
        .filter_map(|k| Some((k.group.clone(), k.resource.clone()?)))
        .filter(|(_, r)| !TEMPLATE_ONLY.contains(&r.as_str()))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// `resource.group`, or `resource` for the core group.
fn resource_name((group, resource): &(String, String)) -> String {
    if group.is_empty() {
        resource.clone()
    } else {
        format!("{resource}.{group}")
    }
}

fn pod_kind_index(kinds: &[(String, String)]) -> HashMap<(String, String), usize> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), i))
        .collect()
}

/// A workload that runs as a ServiceAccount, for patch edges.
struct RunsAs {
    kind: usize,
    namespace: String,
    name: String,
    sa: String,
    object: ObjectId,
}

impl RbacGraph {
    /// Builds the graph of an inventory.
    pub fn build(inv: &Inventory) -> RbacGraph {
        let mut rules = Vec::new();
        let mut roles: Vec<RoleDef> = Vec::new();
        let mut role_index: HashMap<(bool, String, String), usize> = HashMap::new();
        for kind in ["ClusterRole", "Role"] {
            for o in inv.of_kind(kind) {
                if o.group() != RBAC_GROUP {
                    continue;
                }
                let cluster = kind == "ClusterRole";
                let ns = if cluster {
                    None
                } else {
                    o.effective_namespace().map(str::to_string)
                };
                let key = (cluster, ns.clone().unwrap_or_default(), o.name.clone());
                if role_index.contains_key(&key) {
                    continue; // first definition wins, as a kubectl apply of both would not
                }
                let source = if cluster {
                    format!("ClusterRole {}", o.name)
                } else {
                    format!("Role {}/{}", ns.as_deref().unwrap_or(""), o.name)
                };
                let start = rules.len();
                rules.extend(policy::read_rules(&o.root, Some(o.id), &source));
                let selectors = o
                    .root
                    .field("aggregationRule")
                    .field("clusterRoleSelectors")
                    .items()
                    .iter()
                    .map(Selector::read)
                    .collect();
                role_index.insert(key, roles.len());
                roles.push(RoleDef {
                    cluster,
                    namespace: ns,
                    name: o.name.clone(),
                    object: Some(o.id),
                    labels: o.labels.clone(),
                    own: (start..rules.len()).collect(),
                    rules: Vec::new(),
                    selectors,
                });
            }
        }
        for d in defaults() {
            let key = (true, String::new(), d.name.clone());
            if role_index.contains_key(&key) {
                continue;
            }
            let start = rules.len();
            rules.extend(d.rules);
            role_index.insert(key, roles.len());
            roles.push(RoleDef {
                cluster: true,
                namespace: None,
                name: d.name,
                object: None,
                labels: d.labels,
                own: (start..rules.len()).collect(),
                rules: Vec::new(),
                selectors: d.selectors,
            });
        }
        aggregate(&mut roles);

        let mut bindings = Vec::new();
        for kind in ["ClusterRoleBinding", "RoleBinding"] {
            for o in inv.of_kind(kind) {
                if o.group() != RBAC_GROUP {
                    continue;
                }
                let cluster = kind == "ClusterRoleBinding";
                let ns = if cluster {
                    None
                } else {
                    o.effective_namespace().map(str::to_string)
                };
                let rk = o
                    .root
                    .field("roleRef")
                    .field("kind")
                    .scalar_text()
                    .unwrap_or_default();
                let rn = o
                    .root
                    .field("roleRef")
                    .field("name")
                    .scalar_text()
                    .unwrap_or_default();
                let role = match rk.as_str() {
                    "ClusterRole" => role_index.get(&(true, String::new(), rn.clone())).copied(),
                    "Role" if !cluster => role_index
                        .get(&(false, ns.clone().unwrap_or_default(), rn.clone()))
                        .copied(),
                    _ => None,
                };
                let mut subjects = Vec::new();
                for (i, s) in o.root.field("subjects").items().iter().enumerate() {
                    let name = s.field("name").scalar_text().unwrap_or_default();
                    if name.is_empty() {
                        continue;
                    }
                    let subject = match s.field("kind").scalar_text().as_deref() {
                        Some("User") => Subject::user(&name),
                        Some("Group") => Subject::group(&name),
                        Some("ServiceAccount") => {
                            let sns = s
                                .field("namespace")
                                .scalar_text()
                                .or_else(|| ns.clone())
                                .unwrap_or_default();
                            if sns.is_empty() {
                                continue;
                            }
                            Subject::sa(&sns, &name)
                        }
                        _ => continue,
                    };
                    subjects.push((subject, Pointer::root().key("subjects").idx(i)));
                }
                bindings.push(BindingDef {
                    cluster,
                    namespace: ns,
                    name: o.name.clone(),
                    object: Some(o.id),
                    role_ref: (rk, rn),
                    role,
                    subjects,
                });
            }
        }
        bindings.push(BindingDef {
            cluster: true,
            namespace: None,
            name: "cluster-admin (built-in: system:masters)".into(),
            object: None,
            role_ref: ("ClusterRole".into(), "cluster-admin".into()),
            role: role_index
                .get(&(true, String::new(), "cluster-admin".into()))
                .copied(),
            subjects: vec![(Subject::group(MASTERS), Pointer::root())],
        });

        let mut g = RbacGraph {
            rules,
            roles,
            bindings,
            graph: DiGraph::new(),
            index: HashMap::new(),
            by_subject: HashMap::new(),
            admin: NodeIndex::new(0),
            to_admin: Vec::new(),
        };
        g.admin = g.node(Target::ClusterAdmin);
        g.draw(inv);
        g.to_admin = g.shortest_to(&[g.admin]);
        g
    }

    fn node(&mut self, t: Target) -> NodeIndex {
        if let Some(i) = self.index.get(&t) {
            return *i;
        }
        let i = self.graph.add_node(t.clone());
        self.index.insert(t, i);
        i
    }

    /// The node of a target, if the graph has it.
    pub fn node_of(&self, t: &Target) -> Option<NodeIndex> {
        self.index.get(t).copied()
    }

    fn draw(&mut self, inv: &Inventory) {
        let pod_kinds = pod_creating_resources();
        let kind_ix = pod_kind_index(&pod_kinds);
        // Identical rules are common (kustomize copies, one role per tenant
        // namespace): compute the capabilities of each distinct rule once.
        let mut memo: HashMap<[&[String]; 5], usize> = HashMap::new();
        let mut distinct: Vec<Caps> = Vec::new();
        let rule_caps: Vec<usize> = self
            .rules
            .iter()
            .map(|r| {
                let key = [
                    &r.verbs[..],
                    &r.api_groups[..],
                    &r.resources[..],
                    &r.resource_names[..],
                    &r.non_resource_urls[..],
                ];
                *memo.entry(key).or_insert_with(|| {
                    distinct.push(caps_of(r, &pod_kinds));
                    distinct.len() - 1
                })
            })
            .collect();
        drop(memo);
        let caps: Vec<&Caps> = rule_caps.iter().map(|&i| &distinct[i]).collect();
        let powerful = self.powerful_roles(&caps);

        // Who runs as which ServiceAccount, and which ServiceAccounts exist.
        let mut sas: BTreeSet<(String, String)> = BTreeSet::new();
        for o in inv.of_kind("ServiceAccount") {
            if o.group().is_empty() {
                if let Some(ns) = o.effective_namespace() {
                    sas.insert((ns.to_string(), o.name.clone()));
                }
            }
        }
        let mut namespaces: BTreeSet<String> = inv.namespaces.keys().cloned().collect();
        let mut runs_as: Vec<RunsAs> = Vec::new();
        for w in &inv.workloads {
            let Some(ns) = &w.namespace else { continue };
            let o = inv.object(w.object);
            let sa = w.service_account().0.to_string();
            sas.insert((ns.clone(), sa.clone()));
            if let Some(spec) = KindTable::builtin().get(o.group(), &o.kind) {
                if let Some(res) = &spec.resource {
                    if let Some(k) = kind_ix.get(&(o.group().to_string(), res.clone())) {
                        runs_as.push(RunsAs {
                            kind: *k,
                            namespace: ns.clone(),
                            name: o.name.clone(),
                            sa,
                            object: o.id,
                        });
                    }
                }
            }
        }
        for (bi, b) in self.bindings.iter().enumerate() {
            if let Some(ns) = &b.namespace {
                namespaces.insert(ns.clone());
            }
            for (si, (s, _)) in b.subjects.iter().enumerate() {
                if let Subject::ServiceAccount { namespace, name } = s {
                    sas.insert((namespace.clone(), name.clone()));
                }
                self.by_subject.entry(s.clone()).or_default().push((bi, si));
            }
        }
        for (ns, _) in &sas {
            namespaces.insert(ns.clone());
        }
        for ns in &namespaces {
            sas.insert((ns.clone(), "default".into()));
        }
        let mut sa_by_name: HashMap<&str, Vec<&str>> = HashMap::new();
        for (ns, n) in &sas {
            sa_by_name.entry(n.as_str()).or_default().push(ns.as_str());
        }

        // Structure: all namespaces -> each namespace -> each ServiceAccount.
        let all = self.node(Target::AllNamespaces);
        let root = self.node(Target::NodeRoot);
        self.add(root, all, EdgeKind::NodeTokens, vec![], String::new(), None);
        for ns in &namespaces {
            let n = self.node(Target::Namespace {
                namespace: ns.clone(),
            });
            self.add(all, n, EdgeKind::AnyNamespace, vec![], String::new(), None);
        }
        for (ns, name) in &sas {
            let n = self.node(Target::Namespace {
                namespace: ns.clone(),
            });
            let s = self.node(Target::Subject(Subject::sa(ns, name)));
            self.add(
                n,
                s,
                EdgeKind::AnyServiceAccount,
                vec![],
                String::new(),
                None,
            );
        }

        // Every subject that holds a grant, then membership edges.
        let mut subjects: Vec<Subject> = self.by_subject.keys().cloned().collect();
        subjects.sort();
        for s in &subjects {
            self.node(Target::Subject(s.clone()));
        }
        let nodes: Vec<Subject> = self
            .graph
            .node_weights()
            .filter_map(|t| match t {
                Target::Subject(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        for s in &nodes {
            let from = self.index[&Target::Subject(s.clone())];
            for gr in s.implicit_groups() {
                if let Some(to) = self.index.get(&Target::Subject(gr)).copied() {
                    self.add(from, to, EdgeKind::Member, vec![], String::new(), None);
                }
            }
        }
        if let Some(m) = self
            .index
            .get(&Target::Subject(Subject::group(MASTERS)))
            .copied()
        {
            let admin = self.admin;
            self.add(m, admin, EdgeKind::Masters, vec![], String::new(), None);
        }

        // Escalation edges from each subject's own grants.
        let mut by_kind_ns: BTreeMap<(usize, &str), Vec<&RunsAs>> = BTreeMap::new();
        let mut by_kind_name: HashMap<(usize, &str), Vec<&RunsAs>> = HashMap::new();
        for r in &runs_as {
            by_kind_ns
                .entry((r.kind, r.namespace.as_str()))
                .or_default()
                .push(r);
            by_kind_name
                .entry((r.kind, r.name.as_str()))
                .or_default()
                .push(r);
        }
        let kinds_present: HashSet<usize> = runs_as.iter().map(|r| r.kind).collect();
        let res_names: Vec<String> = pod_kinds.iter().map(resource_name).collect();
        // The Workloads nodes some edge points at: (kind, scope).
        let mut wanted: BTreeSet<(usize, Option<String>)> = BTreeSet::new();
        for s in subjects {
            let grants = self.by_subject[&s].clone();
            let from = self.index[&Target::Subject(s.clone())];
            let mut out: Vec<PendingEdge> = Vec::new();
            // Partial grants that escalate only together.
            let mut bind_c: Vec<(Option<String>, Cause, Names, bool)> = Vec::new();
            let mut writeb: Vec<(Option<String>, Cause, bool)> = Vec::new();
            let mut esc: Vec<(Option<String>, Cause, bool)> = Vec::new();
            let mut writer: Vec<(Option<String>, Cause, bool)> = Vec::new();
            let mut csr: (Option<Cause>, Option<Cause>) = (None, None);
            let mut nsp: Vec<(Option<String>, Cause, Names)> = Vec::new();
            let mut pods: Vec<(Option<String>, Cause)> = Vec::new();
            for (bi, si) in grants {
                let b = &self.bindings[bi];
                let Some(role) = b.role else { continue };
                let scope: Option<String> = if b.cluster { None } else { b.namespace.clone() };
                let scope_target = || match &scope {
                    None => Target::AllNamespaces,
                    Some(ns) => Target::Namespace {
                        namespace: ns.clone(),
                    },
                };
                let where_ = || match &scope {
                    None => "cluster-wide".to_string(),
                    Some(ns) => format!("in {ns}"),
                };
                for &ri in &self.roles[role].rules {
                    let c = caps[ri];
                    let cause = Cause {
                        binding: bi,
                        subject: si,
                        rule: ri,
                    };
                    let cl = scope.is_none();
                    if c.superuser && cl {
                        out.push((
                            Target::ClusterAdmin,
                            EdgeKind::Wildcard,
                            vec![cause],
                            "* on * cluster-wide".into(),
                            None,
                        ));
                    }
                    if let Some(r) = &c.create_pods {
                        out.push((
                            scope_target(),
                            EdgeKind::CreatePods,
                            vec![cause],
                            format!("create {r} {}", where_()),
                            None,
                        ));
                        pods.push((scope.clone(), cause));
                    }
                    if c.read_secrets {
                        out.push((
                            scope_target(),
                            EdgeKind::ReadSecrets,
                            vec![cause],
                            format!("read secrets {}", where_()),
                            None,
                        ));
                    }
                    if let Some(n) = &c.token {
                        sa_edges(
                            &mut out,
                            n,
                            &scope,
                            &sa_by_name,
                            EdgeKind::CreateToken,
                            cause,
                            "create serviceaccounts/token",
                        );
                    }
                    if let Some(n) = &c.imp_sas {
                        sa_edges(
                            &mut out,
                            n,
                            &scope,
                            &sa_by_name,
                            EdgeKind::Impersonate,
                            cause,
                            "impersonate serviceaccounts",
                        );
                    }
                    if cl {
                        if let Some(n) = &c.imp_users {
                            match n {
                                Names::All => out.push((
                                    Target::ClusterAdmin,
                                    EdgeKind::Impersonate,
                                    vec![cause],
                                    "impersonate any user".into(),
                                    None,
                                )),
                                Names::Only(v) => {
                                    for u in v {
                                        out.push((
                                            Target::Subject(Subject::user(u)),
                                            EdgeKind::Impersonate,
                                            vec![cause],
                                            format!("impersonate user {u}"),
                                            None,
                                        ));
                                    }
                                }
                            }
                        }
                        if let Some(n) = &c.imp_groups {
                            match n {
                                Names::All => out.push((
                                    Target::ClusterAdmin,
                                    EdgeKind::Impersonate,
                                    vec![cause],
                                    "impersonate any group (system:masters included)".into(),
                                    None,
                                )),
                                Names::Only(v) => {
                                    for gname in v {
                                        let t = if gname == MASTERS {
                                            Target::ClusterAdmin
                                        } else {
                                            Target::Subject(Subject::group(gname))
                                        };
                                        out.push((
                                            t,
                                            EdgeKind::Impersonate,
                                            vec![cause],
                                            format!("impersonate group {gname}"),
                                            None,
                                        ));
                                    }
                                }
                            }
                        }
                        if c.nodes_proxy {
                            out.push((
                                Target::NodeRoot,
                                EdgeKind::NodesProxy,
                                vec![cause],
                                "nodes/proxy".into(),
                                None,
                            ));
                        }
                        if c.mutating_webhook {
                            out.push((
                                Target::ClusterAdmin,
                                EdgeKind::MutatingWebhook,
                                vec![cause],
                                "write mutatingwebhookconfigurations".into(),
                                None,
                            ));
                        }
                        if c.pv_create {
                            out.push((
                                Target::NodeRoot,
                                EdgeKind::CreatePersistentVolume,
                                vec![cause],
                                "create persistentvolumes (hostPath)".into(),
                                None,
                            ));
                        }
                        if c.csr_approval {
                            csr.0.get_or_insert(cause);
                        }
                        if c.signer_approve {
                            csr.1.get_or_insert(cause);
                        }
                    }
                    if let Some(e) = c.exec {
                        out.push((
                            scope_target(),
                            EdgeKind::PodExec,
                            vec![cause],
                            format!("{e} {}", where_()),
                            None,
                        ));
                    }
                    if let Some(n) = &c.ns_patch {
                        nsp.push((scope.clone(), cause, n.clone()));
                    }
                    // bind: on roles in scope, or on clusterroles (cluster-wide or in a RoleBinding).
                    if let Some(n) = &c.bind_clusterroles {
                        bind_c.push((scope.clone(), cause, n.clone(), true));
                    }
                    if let Some(n) = &c.bind_roles {
                        bind_c.push((scope.clone(), cause, n.clone(), false));
                    }
                    if c.write_rolebindings {
                        writeb.push((scope.clone(), cause, false));
                    }
                    if c.write_clusterrolebindings && cl {
                        writeb.push((None, cause, true));
                    }
                    if c.escalate_roles {
                        esc.push((scope.clone(), cause, false));
                    }
                    if c.escalate_clusterroles && cl {
                        esc.push((None, cause, true));
                    }
                    if c.write_roles {
                        writer.push((scope.clone(), cause, false));
                    }
                    if c.write_clusterroles && cl {
                        writer.push((None, cause, true));
                    }
                    for (k, n) in &c.workload_patch {
                        match n {
                            // Any workload of the kind in scope: one edge to
                            // the group node (edges per workload would make
                            // the graph subjects x workloads).
                            Names::All => {
                                let any = match &scope {
                                    None => kinds_present.contains(k),
                                    Some(ns) => by_kind_ns.contains_key(&(*k, ns.as_str())),
                                };
                                if any {
                                    wanted.insert((*k, scope.clone()));
                                    out.push((
                                        Target::Workloads {
                                            resource: res_names[*k].clone(),
                                            namespace: scope.clone(),
                                        },
                                        EdgeKind::PatchWorkload,
                                        vec![cause],
                                        format!("patch {} {}", pod_kinds[*k].1, where_()),
                                        None,
                                    ));
                                }
                            }
                            Names::Only(names) => {
                                for name in names {
                                    for w in
                                        by_kind_name.get(&(*k, name.as_str())).into_iter().flatten()
                                    {
                                        if scope.as_ref().is_some_and(|ns| *ns != w.namespace) {
                                            continue;
                                        }
                                        out.push((
                                            Target::Subject(Subject::sa(&w.namespace, &w.sa)),
                                            EdgeKind::PatchWorkload,
                                            vec![cause],
                                            format!(
                                                "patch {} {}/{}",
                                                pod_kinds[*k].1, w.namespace, w.name
                                            ),
                                            Some(w.object),
                                        ));
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if let (Some(a), Some(b)) = csr {
                out.push((
                    Target::ClusterAdmin,
                    EdgeKind::ApproveCsr,
                    vec![a, b],
                    "approve certificatesigningrequests for kubernetes.io/kube-apiserver-client"
                        .into(),
                    None,
                ));
            }
            // bind + write bindings; escalate + write roles.
            for (bscope, bc, names, on_cluster_roles) in &bind_c {
                for (wscope, wc, crb) in &writeb {
                    let target = if *crb {
                        (bscope.is_none() && *on_cluster_roles).then_some(Target::ClusterAdmin)
                    } else {
                        meet(bscope, wscope)
                    };
                    let Some(target) = target else { continue };
                    let strong = match names {
                        Names::All => true,
                        Names::Only(v) => v
                            .iter()
                            .any(|n| powerful.contains(&(*on_cluster_roles, n.clone()))),
                    };
                    if strong {
                        out.push((
                            target,
                            EdgeKind::Bind,
                            vec![*bc, *wc],
                            "bind roles and write bindings".into(),
                            None,
                        ));
                    }
                }
            }
            for (escope, ec, cl) in &esc {
                for (wscope, wc, wcl) in &writer {
                    if cl != wcl {
                        continue;
                    }
                    let target = if *cl {
                        Some(Target::ClusterAdmin)
                    } else {
                        meet(escope, wscope)
                    };
                    if let Some(t) = target {
                        out.push((
                            t,
                            EdgeKind::Escalate,
                            vec![*ec, *wc],
                            "escalate and write roles".into(),
                            None,
                        ));
                    }
                }
            }
            for (nscope, nc, names) in &nsp {
                for (pscope, pc) in &pods {
                    let ok = match (nscope, pscope) {
                        (None, _) => match pscope {
                            None => true,
                            Some(ns) => names.has(ns),
                        },
                        (Some(a), Some(b)) => a == b && names.has(a),
                        (Some(a), None) => names.has(a),
                    };
                    if ok {
                        out.push((
                            Target::NodeRoot,
                            EdgeKind::PatchNamespace,
                            vec![*nc, *pc],
                            "patch namespaces and create pods".into(),
                            None,
                        ));
                        break;
                    }
                }
            }
            let mut seen: HashSet<(Target, EdgeKind)> = HashSet::new();
            for (t, k, causes, detail, obj) in out {
                if !seen.insert((t.clone(), k)) {
                    continue;
                }
                let to = self.node(t);
                if to != from {
                    self.add(from, to, k, causes, detail, obj);
                }
            }
        }

        // The workload groups: every namespace's group of a kind, then each
        // ServiceAccount its workloads run as (once, naming the first).
        let mut groups: BTreeSet<(usize, String)> = BTreeSet::new();
        for (k, scope) in &wanted {
            match scope {
                Some(ns) => {
                    groups.insert((*k, ns.clone()));
                }
                None => {
                    let all = self.node(Target::Workloads {
                        resource: res_names[*k].clone(),
                        namespace: None,
                    });
                    for (&(_, ns), _) in by_kind_ns.range((*k, "")..(*k + 1, "")) {
                        let n = self.node(Target::Workloads {
                            resource: res_names[*k].clone(),
                            namespace: Some(ns.to_string()),
                        });
                        self.add(all, n, EdgeKind::AnyNamespace, vec![], String::new(), None);
                        groups.insert((*k, ns.to_string()));
                    }
                }
            }
        }
        for (k, ns) in groups {
            let from = self.node(Target::Workloads {
                resource: res_names[k].clone(),
                namespace: Some(ns.clone()),
            });
            let mut seen: HashSet<&str> = HashSet::new();
            for w in by_kind_ns.get(&(k, ns.as_str())).into_iter().flatten() {
                if !seen.insert(w.sa.as_str()) {
                    continue;
                }
                let to = self.node(Target::Subject(Subject::sa(&w.namespace, &w.sa)));
                self.add(
                    from,
                    to,
                    EdgeKind::RunsAs,
                    vec![],
                    format!("{} {}/{}", pod_kinds[k].1, w.namespace, w.name),
                    Some(w.object),
                );
            }
        }
    }

    /// Names of roles (cluster: true for ClusterRoles) whose rules run or
    /// read workloads: binding one of them is an escalation.
    fn powerful_roles(&self, caps: &[&Caps]) -> HashSet<(bool, String)> {
        self.roles
            .iter()
            .filter(|r| {
                r.rules.iter().any(|&i| {
                    let c = caps[i];
                    c.superuser || c.create_pods.is_some() || c.read_secrets || c.exec.is_some()
                })
            })
            .map(|r| (r.cluster, r.name.clone()))
            .collect()
    }

    fn add(
        &mut self,
        a: NodeIndex,
        b: NodeIndex,
        kind: EdgeKind,
        causes: Vec<Cause>,
        detail: String,
        object: Option<ObjectId>,
    ) {
        self.graph.add_edge(
            a,
            b,
            Edge {
                kind,
                causes,
                detail,
                object,
            },
        );
    }

    /// For every node, the first edge of a shortest path to one of `targets`
    /// (breadth-first over reversed edges, deterministic).
    fn shortest_to(&self, targets: &[NodeIndex]) -> Vec<Option<EdgeIndex>> {
        let n = self.graph.node_count();
        let mut next = vec![None; n];
        let mut seen = vec![false; n];
        let mut q = VecDeque::new();
        for &t in targets {
            if !seen[t.index()] {
                seen[t.index()] = true;
                q.push_back(t);
            }
        }
        while let Some(v) = q.pop_front() {
            let mut inc: Vec<_> = self.graph.edges_directed(v, Direction::Incoming).collect();
            inc.sort_by_key(|e| e.id());
            for e in inc {
                let u = e.source();
                if !seen[u.index()] {
                    seen[u.index()] = true;
                    next[u.index()] = Some(e.id());
                    q.push_back(u);
                }
            }
        }
        next
    }

    fn follow(&self, start: NodeIndex, next: &[Option<EdgeIndex>]) -> Path {
        let mut steps = Vec::new();
        let mut v = start;
        while let Some(e) = next[v.index()] {
            let (a, b) = self.graph.edge_endpoints(e).expect("edge exists");
            steps.push(Step {
                from: self.graph[a].clone(),
                to: self.graph[b].clone(),
                edge: self.graph[e].clone(),
            });
            v = b;
            if steps.len() > self.graph.node_count() {
                break;
            }
        }
        Path { steps }
    }

    /// Subjects that can reach cluster-admin equivalence, each with its
    /// shortest path, sorted by subject.
    pub fn cluster_admin_equivalent(&self) -> Vec<(Subject, Path)> {
        let mut v: Vec<(Subject, Path)> = self
            .graph
            .node_indices()
            .filter_map(|i| match &self.graph[i] {
                Target::Subject(s) if self.to_admin[i.index()].is_some() => {
                    Some((s.clone(), self.follow(i, &self.to_admin)))
                }
                _ => None,
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The shortest path from a subject to cluster-admin, if there is one.
    pub fn path_to_admin(&self, s: &Subject) -> Option<Path> {
        self.path(s, &Target::ClusterAdmin)
    }

    /// Starting nodes for a subject, with the membership step that leads
    /// there when the subject itself holds no grant.
    fn starts(&self, s: &Subject) -> Vec<(NodeIndex, Option<Step>)> {
        if let Some(i) = self.index.get(&Target::Subject(s.clone())) {
            return vec![(*i, None)];
        }
        s.implicit_groups()
            .into_iter()
            .filter_map(|gr| {
                let t = Target::Subject(gr);
                let i = *self.index.get(&t)?;
                Some((
                    i,
                    Some(Step {
                        from: Target::Subject(s.clone()),
                        to: t,
                        edge: Edge {
                            kind: EdgeKind::Member,
                            causes: vec![],
                            detail: String::new(),
                            object: None,
                        },
                    }),
                ))
            })
            .collect()
    }

    /// The shortest path from a subject to a target.
    pub fn path(&self, from: &Subject, to: &Target) -> Option<Path> {
        let t = self.node_of(to)?;
        self.path_to_any(from, &[t])
    }

    /// The shortest path from a subject to a request: to a subject the
    /// bindings allow it, or to cluster-admin. An empty path when the
    /// subject (or one of its implicit groups) is allowed directly.
    pub fn path_to_request(&self, from: &Subject, req: &Request) -> Option<Path> {
        let direct = self.direct(req);
        if direct.iter().any(|d| d.subject == *from) {
            return Some(Path::default());
        }
        let mut targets: Vec<NodeIndex> = direct
            .iter()
            .filter_map(|d| self.node_of(&Target::Subject(d.subject.clone())))
            .collect();
        targets.push(self.admin);
        self.path_to_any(from, &targets)
    }

    fn path_to_any(&self, from: &Subject, targets: &[NodeIndex]) -> Option<Path> {
        let next = self.shortest_to(targets);
        let mut best: Option<Path> = None;
        for (i, pre) in self.starts(from) {
            let at_target = targets.contains(&i);
            if next[i.index()].is_none() && !at_target {
                continue;
            }
            let mut p = self.follow(i, &next);
            if let Some(s) = pre {
                p.steps.insert(0, s);
            }
            if best.as_ref().is_none_or(|b| p.steps.len() < b.steps.len()) {
                best = Some(p);
            }
        }
        best
    }

    /// Every node a subject can reach, each with its shortest path (a
    /// breadth-first tree), in order of distance.
    pub fn reachable(&self, from: &Subject) -> Vec<(Target, Path)> {
        let mut out = Vec::new();
        let mut prev: HashMap<NodeIndex, (NodeIndex, EdgeIndex)> = HashMap::new();
        let mut seen: HashSet<NodeIndex> = HashSet::new();
        let mut q = VecDeque::new();
        let starts = self.starts(from);
        let mut pre_of: HashMap<NodeIndex, Step> = HashMap::new();
        for (i, pre) in starts {
            if seen.insert(i) {
                q.push_back(i);
                if let Some(p) = pre {
                    pre_of.insert(i, p.clone());
                    out.push((self.graph[i].clone(), Path { steps: vec![p] }));
                }
            }
        }
        while let Some(v) = q.pop_front() {
            let mut es: Vec<_> = self.graph.edges(v).collect();
            es.sort_by_key(|e| e.id());
            for e in es {
                let w = e.target();
                if seen.insert(w) {
                    prev.insert(w, (v, e.id()));
                    q.push_back(w);
                    let mut steps = Vec::new();
                    let mut x = w;
                    while let Some((p, eid)) = prev.get(&x) {
                        steps.push(Step {
                            from: self.graph[*p].clone(),
                            to: self.graph[x].clone(),
                            edge: self.graph[*eid].clone(),
                        });
                        x = *p;
                    }
                    if let Some(s) = pre_of.get(&x) {
                        steps.push(s.clone());
                    }
                    steps.reverse();
                    out.push((self.graph[w].clone(), Path { steps }));
                }
            }
        }
        out
    }

    /// The grants (binding, subject, rule) that allow a request directly.
    pub fn direct(&self, req: &Request) -> Vec<DirectGrant> {
        let mut out = Vec::new();
        for (bi, b) in self.bindings.iter().enumerate() {
            if !b.cluster && (req.namespace.is_none() || req.namespace != b.namespace) {
                continue;
            }
            let Some(role) = b.role else { continue };
            for &ri in &self.roles[role].rules {
                let r = &self.rules[ri];
                if !b.cluster && req.non_resource_url.is_some() {
                    continue;
                }
                if r.allows(req) {
                    for (si, (s, _)) in b.subjects.iter().enumerate() {
                        out.push(DirectGrant {
                            subject: s.clone(),
                            cause: Cause {
                                binding: bi,
                                subject: si,
                                rule: ri,
                            },
                        });
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// Who can do `verb` on `resource` (as `kubectl auth can-i` writes it:
    /// `pods`, `pods/exec`, `deployments.apps`, `/metrics`) in `namespace`
    /// (`None`: cluster-wide), optionally on one named object.
    pub fn who_can(
        &self,
        verb: &str,
        resource: &str,
        namespace: Option<&str>,
        resource_name: Option<&str>,
    ) -> WhoCan {
        self.who_can_request(&Request::new(verb, resource, namespace, resource_name))
    }

    /// Escalation paths from a subject: the shortest path to cluster-admin,
    /// to a request, or to every node it reaches.
    pub fn paths(&self, from: &Subject, to: &Goal) -> Vec<(Target, Path)> {
        match to {
            Goal::ClusterAdmin => self
                .path(from, &Target::ClusterAdmin)
                .map(|p| vec![(Target::ClusterAdmin, p)])
                .unwrap_or_default(),
            Goal::Request(req) => self
                .path_to_request(from, req)
                .map(|p| {
                    let end = p
                        .steps
                        .last()
                        .map(|s| s.to.clone())
                        .unwrap_or(Target::Subject(from.clone()));
                    vec![(end, p)]
                })
                .unwrap_or_default(),
            Goal::Everything => self.reachable(from),
        }
    }

    /// Who can do this: directly (binding + role + rule) and by escalation
    /// (the shortest path to a subject that can, or to cluster-admin).
    pub fn who_can_request(&self, req: &Request) -> WhoCan {
        let direct = self.direct(req);
        let allowed: BTreeSet<&Subject> = direct.iter().map(|d| &d.subject).collect();
        let mut targets: Vec<NodeIndex> = allowed
            .iter()
            .filter_map(|s| self.index.get(&Target::Subject((*s).clone())).copied())
            .collect();
        targets.push(self.admin);
        let next = self.shortest_to(&targets);
        let mut escalation: Vec<(Subject, Path)> = self
            .graph
            .node_indices()
            .filter_map(|i| match &self.graph[i] {
                Target::Subject(s) if !allowed.contains(s) && next[i.index()].is_some() => {
                    Some((s.clone(), self.follow(i, &next)))
                }
                _ => None,
            })
            .collect();
        escalation.sort_by(|a, b| (a.1.steps.len(), &a.0).cmp(&(b.1.steps.len(), &b.0)));
        WhoCan { direct, escalation }
    }

    /// Whether a subject is allowed a request directly, through itself or
    /// its implicit groups.
    pub fn allowed(&self, s: &Subject, req: &Request) -> bool {
        let ids = s.identities();
        self.direct(req).iter().any(|d| ids.contains(&d.subject))
    }

    /// The transitive closure of escalation: for every node, the set of
    /// nodes it reaches (strongly connected components condensed, one
    /// bitset per component).
    pub fn closure(&self) -> Closure {
        let sccs = petgraph::algo::tarjan_scc(&self.graph);
        let n = self.graph.node_count();
        let words = n.div_ceil(64);
        let mut comp = vec![0usize; n];
        for (ci, c) in sccs.iter().enumerate() {
            for v in c {
                comp[v.index()] = ci;
            }
        }
        // tarjan_scc yields components in reverse topological order:
        // successors come first.
        let mut bits: Vec<Vec<u64>> = Vec::with_capacity(sccs.len());
        for (ci, c) in sccs.iter().enumerate() {
            let mut b = vec![0u64; words];
            for v in c {
                b[v.index() / 64] |= 1 << (v.index() % 64);
            }
            let mut succ: Vec<usize> = c
                .iter()
                .flat_map(|v| self.graph.neighbors(*v))
                .map(|w| comp[w.index()])
                .filter(|&d| d != ci)
                .collect();
            succ.sort_unstable();
            succ.dedup();
            for d in succ {
                let (done, _) = bits.split_at(ci);
                for (x, y) in b.iter_mut().zip(&done[d]) {
                    *x |= *y;
                }
            }
            bits.push(b);
        }
        Closure { comp, bits }
    }

    /// The out-edges of a subject and of its implicit groups (what it can
    /// do itself, before any escalation), sorted by edge id.
    pub fn edges_from(&self, s: &Subject) -> Vec<(&Target, &Edge)> {
        let mut v: Vec<_> = s
            .identities()
            .into_iter()
            .filter_map(|i| self.node_of(&Target::Subject(i)))
            .flat_map(|n| self.graph.edges(n))
            .filter(|e| e.weight().kind != EdgeKind::Member)
            .map(|e| (e.id(), &self.graph[e.target()], e.weight()))
            .collect();
        v.sort_by_key(|(id, _, _)| *id);
        v.into_iter().map(|(_, t, e)| (t, e)).collect()
    }

    /// Every subject that holds a grant, sorted.
    pub fn subjects(&self) -> Vec<&Subject> {
        let mut v: Vec<&Subject> = self.by_subject.keys().collect();
        v.sort();
        v
    }

    /// The binding subject entry behind a cause.
    pub fn binding_of(&self, c: &Cause) -> &BindingDef {
        &self.bindings[c.binding]
    }
}

/// Reachability between every pair of nodes.
#[derive(Debug)]
pub struct Closure {
    comp: Vec<usize>,
    bits: Vec<Vec<u64>>,
}

impl Closure {
    /// Whether node `a` reaches node `b` (every node reaches itself).
    pub fn reaches(&self, a: NodeIndex, b: NodeIndex) -> bool {
        let bs = &self.bits[self.comp[a.index()]];
        bs[b.index() / 64] & (1 << (b.index() % 64)) != 0
    }

    /// How many nodes `a` reaches (itself included).
    pub fn count(&self, a: NodeIndex) -> usize {
        self.bits[self.comp[a.index()]]
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum()
    }
}

/// The scope two grants share: all namespaces, one namespace, or none.
fn meet(a: &Option<String>, b: &Option<String>) -> Option<Target> {
    match (a, b) {
        (None, None) => Some(Target::AllNamespaces),
        (None, Some(ns)) | (Some(ns), None) => Some(Target::Namespace {
            namespace: ns.clone(),
        }),
        (Some(x), Some(y)) if x == y => Some(Target::Namespace {
            namespace: x.clone(),
        }),
        _ => None,
    }
}

fn sa_edges(
    out: &mut Vec<PendingEdge>,
    n: &Names,
    scope: &Option<String>,
    sa_by_name: &HashMap<&str, Vec<&str>>,
    kind: EdgeKind,
    cause: Cause,
    what: &str,
) {
    match (n, scope) {
        (Names::All, None) => out.push((
            Target::AllNamespaces,
            kind,
            vec![cause],
            format!("{what} cluster-wide"),
            None,
        )),
        (Names::All, Some(ns)) => out.push((
            Target::Namespace {
                namespace: ns.clone(),
            },
            kind,
            vec![cause],
            format!("{what} in {ns}"),
            None,
        )),
        (Names::Only(v), Some(ns)) => {
            for name in v {
                out.push((
                    Target::Subject(Subject::sa(ns, name)),
                    kind,
                    vec![cause],
                    format!("{what} {ns}/{name}"),
                    None,
                ));
            }
        }
        (Names::Only(v), None) => {
            for name in v {
                for ns in sa_by_name.get(name.as_str()).into_iter().flatten() {
                    out.push((
                        Target::Subject(Subject::sa(ns, name)),
                        kind,
                        vec![cause],
                        format!("{what} {ns}/{name}"),
                        None,
                    ));
                }
            }
        }
    }
}

/// Resolves aggregated ClusterRoles to a fixpoint.
fn aggregate(roles: &mut [RoleDef]) {
    for r in roles.iter_mut() {
        r.rules = r.own.clone();
    }
    let aggregating: Vec<usize> = (0..roles.len())
        .filter(|&i| roles[i].cluster && !roles[i].selectors.is_empty())
        .collect();
    if aggregating.is_empty() {
        return;
    }
    // ClusterRoles by label, so that a selector with matchLabels looks at
    // the roles carrying its first label only (a scan of every role per
    // aggregating role is quadratic in large repositories).
    let mut by_label: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    let mut clusterroles: Vec<usize> = Vec::new();
    for (j, r) in roles.iter().enumerate() {
        if !r.cluster {
            continue;
        }
        clusterroles.push(j);
        for (k, v) in &r.labels {
            by_label
                .entry((k.as_str(), v.as_str()))
                .or_default()
                .push(j);
        }
    }
    let sources: Vec<Vec<usize>> = aggregating
        .iter()
        .map(|&i| {
            let mut v: Vec<usize> = Vec::new();
            for sel in &roles[i].selectors {
                let cands: &[usize] = match sel.labels.first() {
                    Some((k, val)) => by_label
                        .get(&(k.as_str(), val.as_str()))
                        .map_or(&[], Vec::as_slice),
                    None => &clusterroles,
                };
                v.extend(
                    cands
                        .iter()
                        .copied()
                        .filter(|&j| j != i && sel.matches(&roles[j].labels)),
                );
            }
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect();
    // Fixpoint over the aggregating roles only (aggregation can chain:
    // admin aggregates edit aggregates view); a role is revisited only
    // when one of its sources grew.
    let slot: HashMap<usize, usize> = aggregating
        .iter()
        .enumerate()
        .map(|(k, &i)| (i, k))
        .collect();
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); aggregating.len()];
    for (k, src) in sources.iter().enumerate() {
        for j in src {
            if let Some(&kj) = slot.get(j) {
                users[kj].push(k);
            }
        }
    }
    let mut queued = vec![true; aggregating.len()];
    let mut work: VecDeque<usize> = (0..aggregating.len()).collect();
    let mut rounds = 0usize;
    let limit = aggregating.len().saturating_mul(aggregating.len() + 1);
    while let Some(k) = work.pop_front() {
        queued[k] = false;
        rounds += 1;
        if rounds > limit {
            break;
        }
        let i = aggregating[k];
        let mut set: Vec<usize> = roles[i].rules.clone();
        let before = set.len();
        for &j in &sources[k] {
            set.extend_from_slice(&roles[j].rules);
        }
        set.sort_unstable();
        set.dedup();
        if set.len() != before {
            roles[i].rules = set;
            for &u in &users[k] {
                if !queued[u] {
                    queued[u] = true;
                    work.push_back(u);
                }
            }
        }
    }
}

struct DefaultRole {
    name: String,
    labels: BTreeMap<String, String>,
    rules: Vec<PolicyRule>,
    selectors: Vec<Selector>,
}

fn defaults() -> Vec<DefaultRole> {
    let (docs, _) = crate::yaml::parse_stream(
        include_str!("defaults.yaml"),
        crate::yaml::Limits::default(),
    );
    let Some(doc) = docs.into_iter().next() else {
        return Vec::new();
    };
    doc.root
        .items()
        .iter()
        .map(|n| {
            let name = n.field("name").scalar_text().unwrap_or_default();
            DefaultRole {
                rules: policy::read_rules(n, None, &format!("ClusterRole {name} (built-in)")),
                labels: crate::object::string_map(n.get("labels")),
                selectors: n
                    .field("aggregationRule")
                    .field("clusterRoleSelectors")
                    .items()
                    .iter()
                    .map(Selector::read)
                    .collect(),
                name,
            }
        })
        .collect()
}
