//! Drawing the escalation edges of the privilege graph: the structure
//! (node tokens, namespaces, ServiceAccounts, group membership), then for
//! each subject the edges its own grants give, one function per family of
//! edges, then the workload groups that patch edges point at.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use petgraph::graph::NodeIndex;

use super::{
    Cause, Edge, EdgeKind, PolicyRule, RbacGraph, Subject, Target, MASTERS, RBAC_GROUP,
    TEMPLATE_ONLY,
};
use crate::inventory::Inventory;
use crate::kinds::KindTable;
use crate::object::ObjectId;

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
    workload_patch: Vec<WorkloadPatch>,
}

/// Patch or update on a pod-creating kind whose pod template can change.
#[derive(Clone, Debug)]
struct WorkloadPatch {
    /// Index into the pod-creating resources.
    kind: usize,
    names: Names,
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
            c.workload_patch.push(WorkloadPatch { kind: i, names: n });
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

/// An edge about to be drawn.
struct PendingEdge {
    target: Target,
    kind: EdgeKind,
    /// The grants that create it.
    causes: Vec<Cause>,
    /// What exactly (`create pods in team-a`).
    detail: String,
    /// The workload, for edges that name one.
    workload: Option<ObjectId>,
}

impl PendingEdge {
    /// An edge one grant creates.
    fn new(target: Target, kind: EdgeKind, cause: Cause, detail: impl Into<String>) -> Self {
        PendingEdge {
            target,
            kind,
            causes: vec![cause],
            detail: detail.into(),
            workload: None,
        }
    }

    /// An edge two grants create together.
    fn pair(target: Target, kind: EdgeKind, a: Cause, b: Cause, detail: &str) -> Self {
        PendingEdge {
            target,
            kind,
            causes: vec![a, b],
            detail: detail.into(),
            workload: None,
        }
    }
}

/// `bind` on Roles or ClusterRoles, in a binding's scope (`None`: cluster-wide).
struct BindGrant {
    scope: Option<String>,
    cause: Cause,
    names: Names,
    /// On ClusterRoles (else on Roles).
    cluster_roles: bool,
}

/// A write (or `escalate`) on Roles and RoleBindings, or on ClusterRoles
/// and ClusterRoleBindings (`cluster`), in a binding's scope.
struct RbacWrite {
    scope: Option<String>,
    cause: Cause,
    cluster: bool,
}

/// `patch` on namespaces, in a binding's scope.
struct NamespacePatch {
    scope: Option<String>,
    cause: Cause,
    names: Names,
}

/// `create` on a pod-creating kind, in a binding's scope.
struct PodCreate {
    scope: Option<String>,
    cause: Cause,
}

/// One subject's grants that escalate only together (bind + write
/// bindings, escalate + write roles, the two halves of CSR approval,
/// patch namespaces + create pods).
#[derive(Default)]
struct PartialGrants {
    bind: Vec<BindGrant>,
    write_bindings: Vec<RbacWrite>,
    escalate: Vec<RbacWrite>,
    write_roles: Vec<RbacWrite>,
    csr_approval: Option<Cause>,
    signer_approve: Option<Cause>,
    patch_namespaces: Vec<NamespacePatch>,
    create_pods: Vec<PodCreate>,
}

/// The (group, resource) of every kind of a kinds table that creates pods.
pub(crate) fn pod_creating_resources(table: &KindTable) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = table
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
    /// Index into the pod-creating resources.
    kind: usize,
    namespace: String,
    name: String,
    sa: String,
    object: ObjectId,
}

/// What the escalation edges of every subject are drawn from.
struct Lookup<'a> {
    /// The (group, resource) of every pod-creating kind.
    pod_kinds: &'a [(String, String)],
    /// `resource.group` of each pod-creating kind.
    res_names: Vec<String>,
    /// The capabilities of each role rule (by index into the graph's rules).
    caps: Vec<&'a Caps>,
    /// Roles whose binding is an escalation (see [`RbacGraph::powerful_roles`]).
    powerful: HashSet<(bool, String)>,
    /// The namespaces that have a ServiceAccount of each name.
    sa_by_name: HashMap<&'a str, Vec<&'a str>>,
    /// Workloads by (kind, namespace) and by (kind, name).
    by_kind_ns: BTreeMap<(usize, &'a str), Vec<&'a RunsAs>>,
    by_kind_name: HashMap<(usize, &'a str), Vec<&'a RunsAs>>,
    /// The pod-creating kinds some workload has.
    kinds_present: HashSet<usize>,
}

/// The node a grant in `scope` reaches: its namespace, or all of them.
fn scope_target(scope: &Option<String>) -> Target {
    match scope {
        None => Target::AllNamespaces,
        Some(ns) => Target::Namespace {
            namespace: ns.clone(),
        },
    }
}

/// `cluster-wide` or `in NAMESPACE`, for edge details.
fn scope_words(scope: &Option<String>) -> String {
    match scope {
        None => "cluster-wide".to_string(),
        Some(ns) => format!("in {ns}"),
    }
}

impl RbacGraph {
    /// Draws every edge: the structure, membership, each subject's
    /// escalation edges (in subject order), then the workload groups.
    pub(super) fn draw(&mut self, inv: &Inventory) {
        let pod_kinds = pod_creating_resources(inv.kinds());
        let distinct = self.distinct_caps(&pod_kinds);
        let caps: Vec<&Caps> = distinct
            .of_rule
            .iter()
            .map(|&i| &distinct.caps[i])
            .collect();
        let powerful = self.powerful_roles(&caps);

        let (sas, namespaces, runs_as) = self.accounts_and_workloads(inv, &pod_kinds);
        let mut sa_by_name: HashMap<&str, Vec<&str>> = HashMap::new();
        for (ns, n) in &sas {
            sa_by_name.entry(n.as_str()).or_default().push(ns.as_str());
        }
        self.structure_edges(&namespaces, &sas);
        let mut subjects: Vec<Subject> = self.by_subject.keys().cloned().collect();
        subjects.sort();
        self.membership_edges(&subjects);

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
        let look = Lookup {
            pod_kinds: &pod_kinds,
            res_names: pod_kinds.iter().map(resource_name).collect(),
            caps,
            powerful,
            sa_by_name,
            by_kind_ns,
            by_kind_name,
            kinds_present: runs_as.iter().map(|r| r.kind).collect(),
        };
        // The Workloads nodes some edge points at: (kind, scope).
        let mut wanted: BTreeSet<(usize, Option<String>)> = BTreeSet::new();
        for s in subjects {
            let from = self.index[&Target::Subject(s.clone())];
            let out = self.subject_edges(&look, &s, &mut wanted);
            self.add_pending(from, out);
        }
        self.workload_group_edges(&look, &wanted);
    }

    /// The capabilities of each distinct rule, computed once: identical
    /// rules are common (kustomize copies, one role per tenant namespace).
    fn distinct_caps(&self, pod_kinds: &[(String, String)]) -> DistinctCaps {
        let mut memo: HashMap<[&[String]; 5], usize> = HashMap::new();
        let mut caps: Vec<Caps> = Vec::new();
        let of_rule = self
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
                    caps.push(caps_of(r, pod_kinds));
                    caps.len() - 1
                })
            })
            .collect();
        DistinctCaps { caps, of_rule }
    }

    /// Which ServiceAccounts exist (declared, run as, or bound), which
    /// namespaces, and who runs as which ServiceAccount; indexes the
    /// bindings by subject on the way.
    #[allow(clippy::type_complexity)]
    fn accounts_and_workloads(
        &mut self,
        inv: &Inventory,
        pod_kinds: &[(String, String)],
    ) -> (BTreeSet<(String, String)>, BTreeSet<String>, Vec<RunsAs>) {
        let kind_ix = pod_kind_index(pod_kinds);
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
            let Some(spec) = inv.kinds().get(o.group(), &o.kind) else {
                continue;
            };
            let Some(res) = &spec.resource else { continue };
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
        (sas, namespaces, runs_as)
    }

    /// Node root -> all namespaces -> each namespace -> each ServiceAccount.
    fn structure_edges(&mut self, namespaces: &BTreeSet<String>, sas: &BTreeSet<(String, String)>) {
        let all = self.node(Target::AllNamespaces);
        let root = self.node(Target::NodeRoot);
        self.add(root, all, EdgeKind::NodeTokens, vec![], String::new(), None);
        for ns in namespaces {
            let n = self.node(Target::Namespace {
                namespace: ns.clone(),
            });
            self.add(all, n, EdgeKind::AnyNamespace, vec![], String::new(), None);
        }
        for (ns, name) in sas {
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
    }

    /// A node for every subject that holds a grant, then the edges from
    /// each subject to the implicit groups it is a member of, and from
    /// `system:masters` to cluster-admin.
    fn membership_edges(&mut self, subjects: &[Subject]) {
        for s in subjects {
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
    }

    /// The escalation edges of one subject's grants, in drawing order.
    fn subject_edges(
        &self,
        look: &Lookup<'_>,
        s: &Subject,
        wanted: &mut BTreeSet<(usize, Option<String>)>,
    ) -> Vec<PendingEdge> {
        let mut out: Vec<PendingEdge> = Vec::new();
        let mut partial = PartialGrants::default();
        for &(bi, si) in &self.by_subject[s] {
            let b = &self.bindings[bi];
            let Some(role) = b.role else { continue };
            let scope: Option<String> = if b.cluster { None } else { b.namespace.clone() };
            for &ri in &self.roles[role].rules {
                let c = look.caps[ri];
                let cause = Cause {
                    binding: bi,
                    subject: si,
                    rule: ri,
                };
                workload_access_edges(c, &scope, cause, &mut out, &mut partial);
                identity_edges(c, &scope, cause, &look.sa_by_name, &mut out);
                if scope.is_none() {
                    cluster_edges(c, cause, &mut out, &mut partial);
                }
                if let Some(e) = c.exec {
                    out.push(PendingEdge::new(
                        scope_target(&scope),
                        EdgeKind::PodExec,
                        cause,
                        format!("{e} {}", scope_words(&scope)),
                    ));
                }
                partial.collect(c, &scope, cause);
                workload_patch_edges(look, c, &scope, cause, &mut out, wanted);
            }
        }
        partial.combined_edges(&look.powerful, &mut out);
        out
    }

    /// Draws pending edges from `from`, the first of each (target, kind).
    fn add_pending(&mut self, from: NodeIndex, out: Vec<PendingEdge>) {
        let mut seen: HashSet<(Target, EdgeKind)> = HashSet::new();
        for e in out {
            if !seen.insert((e.target.clone(), e.kind)) {
                continue;
            }
            let to = self.node(e.target);
            if to != from {
                self.add(from, to, e.kind, e.causes, e.detail, e.workload);
            }
        }
    }

    /// The workload groups: every namespace's group of a kind, then each
    /// ServiceAccount its workloads run as (once, naming the first).
    fn workload_group_edges(
        &mut self,
        look: &Lookup<'_>,
        wanted: &BTreeSet<(usize, Option<String>)>,
    ) {
        let mut groups: BTreeSet<(usize, String)> = BTreeSet::new();
        for (k, scope) in wanted {
            match scope {
                Some(ns) => {
                    groups.insert((*k, ns.clone()));
                }
                None => {
                    let all = self.node(Target::Workloads {
                        resource: look.res_names[*k].clone(),
                        namespace: None,
                    });
                    for (&(_, ns), _) in look.by_kind_ns.range((*k, "")..(*k + 1, "")) {
                        let n = self.node(Target::Workloads {
                            resource: look.res_names[*k].clone(),
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
                resource: look.res_names[k].clone(),
                namespace: Some(ns.clone()),
            });
            let mut seen: HashSet<&str> = HashSet::new();
            for w in look.by_kind_ns.get(&(k, ns.as_str())).into_iter().flatten() {
                if !seen.insert(w.sa.as_str()) {
                    continue;
                }
                let to = self.node(Target::Subject(Subject::sa(&w.namespace, &w.sa)));
                self.add(
                    from,
                    to,
                    EdgeKind::RunsAs,
                    vec![],
                    format!("{} {}/{}", look.pod_kinds[k].1, w.namespace, w.name),
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
}

/// The capabilities of the distinct rules, and which one each rule has.
struct DistinctCaps {
    caps: Vec<Caps>,
    /// Per rule of the graph, an index into `caps`.
    of_rule: Vec<usize>,
}

/// Running or reading what the workloads hold: `*` on `*` cluster-wide,
/// creating pods (or a kind that creates them), reading secrets.
fn workload_access_edges(
    c: &Caps,
    scope: &Option<String>,
    cause: Cause,
    out: &mut Vec<PendingEdge>,
    partial: &mut PartialGrants,
) {
    if c.superuser && scope.is_none() {
        out.push(PendingEdge::new(
            Target::ClusterAdmin,
            EdgeKind::Wildcard,
            cause,
            "* on * cluster-wide",
        ));
    }
    if let Some(r) = &c.create_pods {
        out.push(PendingEdge::new(
            scope_target(scope),
            EdgeKind::CreatePods,
            cause,
            format!("create {r} {}", scope_words(scope)),
        ));
        partial.create_pods.push(PodCreate {
            scope: scope.clone(),
            cause,
        });
    }
    if c.read_secrets {
        out.push(PendingEdge::new(
            scope_target(scope),
            EdgeKind::ReadSecrets,
            cause,
            format!("read secrets {}", scope_words(scope)),
        ));
    }
}

/// Becoming another identity: ServiceAccount tokens, impersonating
/// ServiceAccounts, and (cluster-wide grants only) users and groups.
fn identity_edges(
    c: &Caps,
    scope: &Option<String>,
    cause: Cause,
    sa_by_name: &HashMap<&str, Vec<&str>>,
    out: &mut Vec<PendingEdge>,
) {
    if let Some(n) = &c.token {
        sa_edges(
            out,
            n,
            scope,
            sa_by_name,
            EdgeKind::CreateToken,
            cause,
            "create serviceaccounts/token",
        );
    }
    if let Some(n) = &c.imp_sas {
        sa_edges(
            out,
            n,
            scope,
            sa_by_name,
            EdgeKind::Impersonate,
            cause,
            "impersonate serviceaccounts",
        );
    }
    if scope.is_some() {
        return;
    }
    if let Some(n) = &c.imp_users {
        impersonate_edges(out, n, cause, "impersonate any user", |u| {
            (
                Target::Subject(Subject::user(u)),
                format!("impersonate user {u}"),
            )
        });
    }
    if let Some(n) = &c.imp_groups {
        impersonate_edges(
            out,
            n,
            cause,
            "impersonate any group (system:masters included)",
            |g| {
                let t = if g == MASTERS {
                    Target::ClusterAdmin
                } else {
                    Target::Subject(Subject::group(g))
                };
                (t, format!("impersonate group {g}"))
            },
        );
    }
}

/// Impersonating users or groups: any of them is cluster-admin, named ones
/// are edges to each (`named` gives the target and detail of one).
fn impersonate_edges(
    out: &mut Vec<PendingEdge>,
    names: &Names,
    cause: Cause,
    any: &str,
    named: impl Fn(&str) -> (Target, String),
) {
    match names {
        Names::All => out.push(PendingEdge::new(
            Target::ClusterAdmin,
            EdgeKind::Impersonate,
            cause,
            any,
        )),
        Names::Only(v) => {
            for n in v {
                let (target, detail) = named(n);
                out.push(PendingEdge::new(
                    target,
                    EdgeKind::Impersonate,
                    cause,
                    detail,
                ));
            }
        }
    }
}

/// Grants that matter only cluster-wide: nodes/proxy, mutating webhooks,
/// persistent volumes (hostPath), and the halves of CSR approval.
fn cluster_edges(c: &Caps, cause: Cause, out: &mut Vec<PendingEdge>, partial: &mut PartialGrants) {
    if c.nodes_proxy {
        out.push(PendingEdge::new(
            Target::NodeRoot,
            EdgeKind::NodesProxy,
            cause,
            "nodes/proxy",
        ));
    }
    if c.mutating_webhook {
        out.push(PendingEdge::new(
            Target::ClusterAdmin,
            EdgeKind::MutatingWebhook,
            cause,
            "write mutatingwebhookconfigurations",
        ));
    }
    if c.pv_create {
        out.push(PendingEdge::new(
            Target::NodeRoot,
            EdgeKind::CreatePersistentVolume,
            cause,
            "create persistentvolumes (hostPath)",
        ));
    }
    if c.csr_approval {
        partial.csr_approval.get_or_insert(cause);
    }
    if c.signer_approve {
        partial.signer_approve.get_or_insert(cause);
    }
}

/// Patching a workload's pod template: any workload of the kind in scope
/// is one edge to the group node (edges per workload would make the graph
/// subjects x workloads); named ones are edges to the ServiceAccount each
/// runs as.
fn workload_patch_edges(
    look: &Lookup<'_>,
    c: &Caps,
    scope: &Option<String>,
    cause: Cause,
    out: &mut Vec<PendingEdge>,
    wanted: &mut BTreeSet<(usize, Option<String>)>,
) {
    for WorkloadPatch { kind: k, names } in &c.workload_patch {
        match names {
            Names::All => {
                let any = match scope {
                    None => look.kinds_present.contains(k),
                    Some(ns) => look.by_kind_ns.contains_key(&(*k, ns.as_str())),
                };
                if any {
                    wanted.insert((*k, scope.clone()));
                    out.push(PendingEdge::new(
                        Target::Workloads {
                            resource: look.res_names[*k].clone(),
                            namespace: scope.clone(),
                        },
                        EdgeKind::PatchWorkload,
                        cause,
                        format!("patch {} {}", look.pod_kinds[*k].1, scope_words(scope)),
                    ));
                }
            }
            Names::Only(names) => {
                for name in names {
                    for w in look
                        .by_kind_name
                        .get(&(*k, name.as_str()))
                        .into_iter()
                        .flatten()
                    {
                        if scope.as_ref().is_some_and(|ns| *ns != w.namespace) {
                            continue;
                        }
                        out.push(PendingEdge {
                            target: Target::Subject(Subject::sa(&w.namespace, &w.sa)),
                            kind: EdgeKind::PatchWorkload,
                            causes: vec![cause],
                            detail: format!(
                                "patch {} {}/{}",
                                look.pod_kinds[*k].1, w.namespace, w.name
                            ),
                            workload: Some(w.object),
                        });
                    }
                }
            }
        }
    }
}

impl PartialGrants {
    /// Records the partial grants of one rule in `scope`.
    fn collect(&mut self, c: &Caps, scope: &Option<String>, cause: Cause) {
        let cluster_wide = scope.is_none();
        if let Some(n) = &c.ns_patch {
            self.patch_namespaces.push(NamespacePatch {
                scope: scope.clone(),
                cause,
                names: n.clone(),
            });
        }
        // bind: on roles in scope, or on clusterroles (cluster-wide or in a RoleBinding).
        if let Some(n) = &c.bind_clusterroles {
            self.bind.push(BindGrant {
                scope: scope.clone(),
                cause,
                names: n.clone(),
                cluster_roles: true,
            });
        }
        if let Some(n) = &c.bind_roles {
            self.bind.push(BindGrant {
                scope: scope.clone(),
                cause,
                names: n.clone(),
                cluster_roles: false,
            });
        }
        let write = |scope: Option<String>, cluster: bool| RbacWrite {
            scope,
            cause,
            cluster,
        };
        if c.write_rolebindings {
            self.write_bindings.push(write(scope.clone(), false));
        }
        if c.write_clusterrolebindings && cluster_wide {
            self.write_bindings.push(write(None, true));
        }
        if c.escalate_roles {
            self.escalate.push(write(scope.clone(), false));
        }
        if c.escalate_clusterroles && cluster_wide {
            self.escalate.push(write(None, true));
        }
        if c.write_roles {
            self.write_roles.push(write(scope.clone(), false));
        }
        if c.write_clusterroles && cluster_wide {
            self.write_roles.push(write(None, true));
        }
    }

    /// The edges that pairs of partial grants make.
    fn combined_edges(&self, powerful: &HashSet<(bool, String)>, out: &mut Vec<PendingEdge>) {
        if let (Some(a), Some(b)) = (self.csr_approval, self.signer_approve) {
            out.push(PendingEdge::pair(
                Target::ClusterAdmin,
                EdgeKind::ApproveCsr,
                a,
                b,
                "approve certificatesigningrequests for kubernetes.io/kube-apiserver-client",
            ));
        }
        self.bind_edges(powerful, out);
        self.escalate_edges(out);
        self.patch_namespace_edges(out);
    }

    /// Binding a powerful role and writing the binding.
    fn bind_edges(&self, powerful: &HashSet<(bool, String)>, out: &mut Vec<PendingEdge>) {
        for b in &self.bind {
            for w in &self.write_bindings {
                let target = if w.cluster {
                    (b.scope.is_none() && b.cluster_roles).then_some(Target::ClusterAdmin)
                } else {
                    meet(&b.scope, &w.scope)
                };
                let Some(target) = target else { continue };
                let strong = match &b.names {
                    Names::All => true,
                    Names::Only(v) => v
                        .iter()
                        .any(|n| powerful.contains(&(b.cluster_roles, n.clone()))),
                };
                if strong {
                    out.push(PendingEdge::pair(
                        target,
                        EdgeKind::Bind,
                        b.cause,
                        w.cause,
                        "bind roles and write bindings",
                    ));
                }
            }
        }
    }

    /// Escalating roles and writing them.
    fn escalate_edges(&self, out: &mut Vec<PendingEdge>) {
        for e in &self.escalate {
            for w in &self.write_roles {
                if e.cluster != w.cluster {
                    continue;
                }
                let target = if e.cluster {
                    Some(Target::ClusterAdmin)
                } else {
                    meet(&e.scope, &w.scope)
                };
                if let Some(t) = target {
                    out.push(PendingEdge::pair(
                        t,
                        EdgeKind::Escalate,
                        e.cause,
                        w.cause,
                        "escalate and write roles",
                    ));
                }
            }
        }
    }

    /// Patching a namespace's Pod Security labels and creating pods in it.
    fn patch_namespace_edges(&self, out: &mut Vec<PendingEdge>) {
        for np in &self.patch_namespaces {
            for p in &self.create_pods {
                let ok = match (&np.scope, &p.scope) {
                    (None, None) => true,
                    (None, Some(ns)) => np.names.has(ns),
                    (Some(a), Some(b)) => a == b && np.names.has(a),
                    (Some(a), None) => np.names.has(a),
                };
                if ok {
                    out.push(PendingEdge::pair(
                        Target::NodeRoot,
                        EdgeKind::PatchNamespace,
                        np.cause,
                        p.cause,
                        "patch namespaces and create pods",
                    ));
                    break;
                }
            }
        }
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

/// Edges to ServiceAccounts (token creation, impersonation): all of a
/// scope, or the named ones (in the scope, or in every namespace that has
/// one of that name).
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
        (Names::All, _) => out.push(PendingEdge::new(
            scope_target(scope),
            kind,
            cause,
            format!("{what} {}", scope_words(scope)),
        )),
        (Names::Only(v), Some(ns)) => {
            for name in v {
                out.push(PendingEdge::new(
                    Target::Subject(Subject::sa(ns, name)),
                    kind,
                    cause,
                    format!("{what} {ns}/{name}"),
                ));
            }
        }
        (Names::Only(v), None) => {
            for name in v {
                for ns in sa_by_name.get(name.as_str()).into_iter().flatten() {
                    out.push(PendingEdge::new(
                        Target::Subject(Subject::sa(ns, name)),
                        kind,
                        cause,
                        format!("{what} {ns}/{name}"),
                    ));
                }
            }
        }
    }
}
