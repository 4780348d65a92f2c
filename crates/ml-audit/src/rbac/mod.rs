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

mod draw;
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
    pub(crate) graph: DiGraph<Target, Edge>,
    index: HashMap<Target, NodeIndex>,
    by_subject: HashMap<Subject, Vec<(usize, usize)>>,
    admin: NodeIndex,
    /// For every node, the first edge of its shortest path to cluster-admin.
    to_admin: Vec<Option<EdgeIndex>>,
    /// The inventory's kinds table (`None`: the built-in one).
    kinds: Option<std::sync::Arc<KindTable>>,
}

/// An edge about to be drawn: target, kind, causes, detail, workload.
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
            kinds: inv.shared_kinds(),
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
    pub(crate) fn node_of(&self, t: &Target) -> Option<NodeIndex> {
        self.index.get(t).copied()
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
        self.who_can_request(&self.request(verb, resource, namespace, resource_name))
    }

    /// A request as `kubectl auth can-i` takes it (see [`Request::new`]),
    /// resources without a group looked up in the inventory's kinds table
    /// (which a config's `kinds:` extends).
    pub fn request(
        &self,
        verb: &str,
        resource: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Request {
        let table = self.kinds.as_deref().unwrap_or(KindTable::builtin());
        Request::with_kinds(verb, resource, namespace, name, table)
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

    /// How many nodes (subjects and targets) the graph has.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// How many escalation edges the graph has.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Every node, in node order (the numbering [`Closure`] uses).
    pub fn nodes(&self) -> impl Iterator<Item = &Target> {
        self.graph.node_weights()
    }

    /// Every edge: from, to, and the edge, in the order they were drawn.
    pub fn edges(&self) -> impl Iterator<Item = (&Target, &Target, &Edge)> {
        self.graph
            .edge_references()
            .map(|e| (&self.graph[e.source()], &self.graph[e.target()], e.weight()))
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
    /// Nodes are numbered in the order of [`RbacGraph::nodes`].
    pub fn reaches(&self, a: usize, b: usize) -> bool {
        let bs = &self.bits[self.comp[a]];
        bs[b / 64] & (1 << (b % 64)) != 0
    }

    /// How many nodes `a` reaches (itself included).
    pub fn count(&self, a: usize) -> usize {
        self.bits[self.comp[a]]
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum()
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
