//! The RBAC privilege graph against hand-checked answers (testdata/rbac/),
//! and two properties on random small inventories: adding a binding never
//! removes an access, and who-can equals a brute-force evaluation of the
//! RBAC rule semantics.

use std::collections::BTreeSet;
use std::path::Path;

use ml_audit::rbac::{EdgeKind, RbacGraph, Request, Subject, Target};
use ml_audit::{Input, Inventory, LoadOptions};
use proptest::prelude::*;

fn inv(file: &str) -> Inventory {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/rbac")
        .join(file);
    let inv = Inventory::new(ml_audit::load(&[Input::Path(p)], &LoadOptions::default()));
    assert!(
        inv.diagnostics
            .iter()
            .all(|d| d.level != ml_audit::Level::Error),
        "{:?}",
        inv.diagnostics
    );
    inv
}

fn text_inv(text: String) -> Inventory {
    Inventory::from_text("gen.yaml", &text)
}

fn u(n: &str) -> Subject {
    Subject::user(n)
}

fn ns(n: &str) -> Target {
    Target::Namespace {
        namespace: n.into(),
    }
}

/// The edges out of a subject, as (target, kind).
fn edges(g: &RbacGraph, s: &Subject) -> BTreeSet<(Target, EdgeKind)> {
    g.edges_from(s)
        .into_iter()
        .map(|(t, e)| (t.clone(), e.kind))
        .collect()
}

fn has_edge(g: &RbacGraph, s: &str, t: Target, k: EdgeKind) {
    let e = edges(g, &u(s));
    assert!(
        e.contains(&(t.clone(), k)),
        "{s}: expected edge {k:?} to {t}, got {e:?}"
    );
}

#[test]
fn every_escalation_edge() {
    let inv = inv("edges.yaml");
    let g = RbacGraph::build(&inv);
    // An ML CRD that creates pods counts as pod creation.
    has_edge(&g, "pod-maker", ns("a"), EdgeKind::CreatePods);
    has_edge(&g, "secret-reader", ns("b"), EdgeKind::ReadSecrets);
    // resourceNames restrict token creation to the named ServiceAccount.
    has_edge(
        &g,
        "tokener",
        Target::Subject(Subject::sa("c", "builder")),
        EdgeKind::CreateToken,
    );
    assert!(!edges(&g, &u("tokener")).iter().any(|(t, _)| *t == ns("c")));
    has_edge(
        &g,
        "impersonator",
        Target::Subject(u("carol")),
        EdgeKind::Impersonate,
    );
    has_edge(
        &g,
        "impersonator",
        Target::ClusterAdmin,
        EdgeKind::Impersonate,
    );
    has_edge(
        &g,
        "imp-viewers",
        Target::Subject(Subject::group("viewers")),
        EdgeKind::Impersonate,
    );
    assert!(g.path_to_admin(&u("imp-viewers")).is_none());
    has_edge(&g, "binder", ns("d"), EdgeKind::Bind);
    has_edge(&g, "crb-binder", Target::ClusterAdmin, EdgeKind::Bind);
    assert!(
        edges(&g, &u("bind-only")).is_empty(),
        "bind alone is no edge"
    );
    has_edge(&g, "escalator", Target::ClusterAdmin, EdgeKind::Escalate);
    has_edge(&g, "execer", ns("e"), EdgeKind::PodExec);
    has_edge(&g, "ephemeral", ns("e"), EdgeKind::PodExec);
    has_edge(&g, "kubelet", Target::NodeRoot, EdgeKind::NodesProxy);
    has_edge(&g, "approver", Target::ClusterAdmin, EdgeKind::ApproveCsr);
    has_edge(
        &g,
        "hooker",
        Target::ClusterAdmin,
        EdgeKind::MutatingWebhook,
    );
    has_edge(&g, "pv", Target::NodeRoot, EdgeKind::CreatePersistentVolume);
    // A RoleBinding grants patch on its own Namespace object.
    has_edge(&g, "ns-patcher", Target::NodeRoot, EdgeKind::PatchNamespace);
    // patch on every Deployment of g: an edge to the Deployments of g, which
    // run as g/powerful (one node per kind and namespace, not one edge per
    // workload, so the graph stays linear in the repository).
    let deployments = |ns: Option<&str>| Target::Workloads {
        resource: "deployments.apps".into(),
        namespace: ns.map(String::from),
    };
    has_edge(
        &g,
        "deployer",
        deployments(Some("g")),
        EdgeKind::PatchWorkload,
    );
    let powerful = Target::Subject(Subject::sa("g", "powerful"));
    let p = g
        .path(&u("deployer"), &powerful)
        .expect("deployer reaches g/powerful");
    let kinds: Vec<EdgeKind> = p.steps.iter().map(|s| s.edge.kind).collect();
    assert_eq!(kinds, [EdgeKind::PatchWorkload, EdgeKind::RunsAs]);
    assert_eq!(p.steps[1].edge.detail, "deployments g/web");
    // Cluster-wide: every namespace's Deployments, then g's, then the account.
    has_edge(
        &g,
        "all-deployers",
        deployments(None),
        EdgeKind::PatchWorkload,
    );
    let p = g
        .path(&u("all-deployers"), &powerful)
        .expect("all-deployers reaches g/powerful");
    assert_eq!(p.steps.len(), 3, "{p:?}");
    // resourceNames: straight to the account the named workload runs as.
    has_edge(&g, "web-patcher", powerful.clone(), EdgeKind::PatchWorkload);
    has_edge(&g, "wild", Target::ClusterAdmin, EdgeKind::Wildcard);
    // resourceNames never grant create.
    assert!(edges(&g, &u("create-named")).is_empty());

    // Cluster-admin equivalence, exactly.
    let admins: BTreeSet<String> = g
        .cluster_admin_equivalent()
        .into_iter()
        .map(|(s, _)| s.to_string())
        .collect();
    let want: BTreeSet<String> = [
        "Group:system:masters",
        "User:approver",
        "User:crb-binder",
        "User:escalator",
        "User:hooker",
        "User:impersonator",
        "User:wild",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(admins, want);

    // Node root reaches every ServiceAccount, but not cluster-admin here.
    let p = g
        .path(&u("pv"), &Target::Subject(Subject::sa("g", "powerful")))
        .unwrap();
    let kinds: Vec<EdgeKind> = p.steps.iter().map(|s| s.edge.kind).collect();
    assert_eq!(
        kinds,
        [
            EdgeKind::CreatePersistentVolume,
            EdgeKind::NodeTokens,
            EdgeKind::AnyNamespace,
            EdgeKind::AnyServiceAccount
        ]
    );

    // Each edge names the binding subject and the role rule, with lines.
    let p = g.path_to_admin(&u("approver")).unwrap();
    let text = ml_audit::rbac::render::path_text(&g, &inv, &p);
    assert!(text.contains("ClusterRoleBinding approver"), "{text}");
    assert!(text.contains("edges.yaml:"), "{text}");
    assert!(text.contains("/rules/1"), "{text}");
    let cites = ml_audit::rbac::render::citations(&g, &inv, &p.steps[0].edge);
    assert_eq!(cites.len(), 4, "two grants, each binding + rule: {cites:?}");
    assert_eq!(cites[0].pointer, "/subjects/0");
}

#[test]
fn aggregation_to_a_fixpoint() {
    let g = RbacGraph::build(&inv("aggregation.yaml"));
    let create_ray = Request::new("create", "rayclusters", Some("team"), None);
    assert!(
        g.allowed(&u("boss"), &create_ray),
        "ml-admin <- ml-edit <- ray-edit"
    );
    assert!(g.allowed(
        &u("boss"),
        &Request::new("get", "configmaps", Some("team"), None)
    ));
    // A CRD role aggregated into the default edit reaches admin too, not view.
    let nb = Request::new("create", "notebooks", Some("team"), None);
    assert!(g.allowed(&u("adm"), &nb));
    assert!(!g.allowed(&u("viewer"), &nb));
    // admin includes edit's defaults and its own.
    assert!(g.allowed(
        &u("adm"),
        &Request::new("create", "pods/exec", Some("team"), None)
    ));
    assert!(g.allowed(
        &u("adm"),
        &Request::new("create", "rolebindings", Some("team"), None)
    ));
    assert!(!g.allowed(
        &u("viewer"),
        &Request::new("get", "secrets", Some("team"), None)
    ));
    assert!(g.allowed(
        &u("viewer"),
        &Request::new("list", "deployments", Some("team"), None)
    ));
}

#[test]
fn resource_names() {
    let g = RbacGraph::build(&inv("names.yaml"));
    let r = u("reader");
    assert!(g.allowed(&r, &Request::new("get", "secrets", Some("n"), Some("s1"))));
    assert!(!g.allowed(&r, &Request::new("get", "secrets", Some("n"), Some("s2"))));
    assert!(!g.allowed(&r, &Request::new("get", "secrets", Some("n"), None)));
    // list/watch/create/deletecollection of the collection: never by name.
    for v in ["list", "watch", "create", "deletecollection"] {
        assert!(
            !g.allowed(&r, &Request::new(v, "secrets", Some("n"), None)),
            "{v}"
        );
    }
    // A list with fieldSelector metadata.name=s1 names the object.
    assert!(g.allowed(&r, &Request::new("list", "secrets", Some("n"), Some("s1"))));
    assert!(
        edges(&g, &r).is_empty(),
        "one named secret is no escalation"
    );
}

#[test]
fn implicit_groups() {
    let g = RbacGraph::build(&inv("groups.yaml"));
    let cm = Request::new("get", "configmaps", Some("x"), None);
    assert!(g.allowed(&Subject::sa("x", "anything"), &cm));
    assert!(!g.allowed(&Subject::sa("y", "anything"), &cm));
    assert!(!g.allowed(&u("alice"), &cm));
    let nodes = Request::new("get", "nodes", None, None);
    assert!(g.allowed(&u("alice"), &nodes));
    assert!(g.allowed(&Subject::sa("y", "s"), &nodes));
    assert!(!g.allowed(&u("system:anonymous"), &nodes));
    assert!(
        !g.allowed(&Subject::group("team"), &nodes),
        "a group is not authenticated by itself"
    );
    // User form of a ServiceAccount.
    assert_eq!(u("system:serviceaccount:x:bot"), Subject::sa("x", "bot"));
    // Every ServiceAccount can create pods in y, so any SA reaches y's SAs.
    let p = g
        .path(
            &Subject::sa("x", "bot"),
            &Target::Subject(Subject::sa("y", "default")),
        )
        .unwrap();
    let kinds: Vec<EdgeKind> = p.steps.iter().map(|s| s.edge.kind).collect();
    assert_eq!(
        kinds,
        [
            EdgeKind::Member,
            EdgeKind::CreatePods,
            EdgeKind::AnyServiceAccount
        ]
    );
    // system:masters bypasses RBAC.
    assert!(g.allowed(
        &Subject::group("system:masters"),
        &Request::new("delete", "nodes", None, None)
    ));
    let p = g.path_to_admin(&Subject::group("system:masters")).unwrap();
    assert_eq!(p.steps[0].edge.kind, EdgeKind::Masters);
}

#[test]
fn rolebinding_to_clusterrole() {
    let g = RbacGraph::build(&inv("rolebinding-clusterrole.yaml"));
    let dev = u("dev");
    // The default edit, scoped to the RoleBinding's namespace.
    assert!(g.allowed(&dev, &Request::new("create", "pods", Some("p"), None)));
    assert!(!g.allowed(&dev, &Request::new("create", "pods", Some("q"), None)));
    assert!(!g.allowed(&dev, &Request::new("create", "pods", None, None)));
    // A ServiceAccount of another namespace, granted here.
    let bot = Subject::sa("q", "bot");
    assert!(g.allowed(&bot, &Request::new("get", "secrets", Some("p"), None)));
    assert!(!g.allowed(&bot, &Request::new("get", "secrets", Some("q"), None)));
    // nonResourceURLs count only through ClusterRoleBindings.
    let metrics = Request::new("get", "/metrics", None, None);
    assert!(g.allowed(&u("crb-metrics"), &metrics));
    assert!(g.allowed(
        &u("crb-metrics"),
        &Request::new("get", "/debug/pprof", None, None)
    ));
    assert!(!g.allowed(&u("rb-metrics"), &metrics));
    // who-can: dev and bot directly; by escalation, nobody else here.
    let w = g.who_can_request(&Request::new("create", "pods", Some("p"), None));
    let direct: BTreeSet<String> = w.direct.iter().map(|d| d.subject.to_string()).collect();
    assert!(
        direct.contains("User:dev") && direct.contains("ServiceAccount:q/bot"),
        "{direct:?}"
    );
    assert!(direct.contains("Group:system:masters"));
    // The escalation answers are real paths that end at an allowed subject.
    for (s, p) in &w.escalation {
        assert_eq!(p.steps[0].from, Target::Subject(s.clone()));
    }
}

// ---- properties ----

const VERBS: &[&str] = &["get", "list", "create", "*"];
const GROUPS: &[&str] = &["", "apps", "*"];
const RESOURCES: &[&str] = &["pods", "secrets", "pods/exec", "*/exec", "deployments", "*"];
const NAMES: &[&str] = &["a", "b"];
const NSS: &[&str] = &["n0", "n1"];

#[derive(Clone, Debug)]
struct GRule {
    verbs: Vec<usize>,
    groups: Vec<usize>,
    resources: Vec<usize>,
    names: Vec<usize>,
}

#[derive(Clone, Debug)]
struct GRole {
    ns: Option<usize>,
    name: usize,
    rules: Vec<GRule>,
}

#[derive(Clone, Debug)]
struct GBinding {
    ns: Option<usize>,
    cluster_role: bool,
    role: usize,
    subjects: Vec<usize>,
}

fn subject(i: usize) -> (Subject, String) {
    match i {
        0 => (u("u0"), "{kind: User, name: u0}".into()),
        1 => (u("u1"), "{kind: User, name: u1}".into()),
        2 => (Subject::group("g0"), "{kind: Group, name: g0}".into()),
        3 => (
            Subject::sa("n0", "s0"),
            "{kind: ServiceAccount, name: s0, namespace: n0}".into(),
        ),
        _ => (
            Subject::sa("n1", "s0"),
            "{kind: ServiceAccount, name: s0, namespace: n1}".into(),
        ),
    }
}

fn list(idx: &[usize], from: &[&str]) -> String {
    let v: Vec<String> = idx.iter().map(|i| format!("{:?}", from[*i])).collect();
    format!("[{}]", v.join(", "))
}

fn yaml(roles: &[GRole], bindings: &[GBinding]) -> String {
    let mut docs = Vec::new();
    for r in roles {
        let (kind, md) = match r.ns {
            Some(n) => (
                "Role",
                format!("{{name: r{}, namespace: {}}}", r.name, NSS[n]),
            ),
            None => ("ClusterRole", format!("{{name: r{}}}", r.name)),
        };
        let mut s = format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {md}\nrules:\n"
        );
        for x in &r.rules {
            s.push_str(&format!(
                "- {{verbs: {}, apiGroups: {}, resources: {}, resourceNames: {}}}\n",
                list(&x.verbs, VERBS),
                list(&x.groups, GROUPS),
                list(&x.resources, RESOURCES),
                list(&x.names, NAMES)
            ));
        }
        docs.push(s);
    }
    for (i, b) in bindings.iter().enumerate() {
        let (kind, md) = match b.ns {
            Some(n) => (
                "RoleBinding",
                format!("{{name: b{i}, namespace: {}}}", NSS[n]),
            ),
            None => ("ClusterRoleBinding", format!("{{name: b{i}}}")),
        };
        let rk = if b.cluster_role || b.ns.is_none() {
            "ClusterRole"
        } else {
            "Role"
        };
        let subs: Vec<String> = b
            .subjects
            .iter()
            .map(|s| format!("- {}\n", subject(*s).1))
            .collect();
        docs.push(format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {md}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {rk}, name: r{}}}\nsubjects:\n{}",
            b.role,
            subs.concat()
        ));
    }
    docs.join("---\n")
}

/// The RBAC authorizer, written again from the documentation.
fn brute(roles: &[GRole], bindings: &[GBinding], req: &Request) -> BTreeSet<Subject> {
    let mut out = BTreeSet::new();
    out.insert(Subject::group("system:masters"));
    let combined = if req.subresource.is_empty() {
        req.resource.clone()
    } else {
        format!("{}/{}", req.resource, req.subresource)
    };
    for b in bindings {
        if let Some(n) = b.ns {
            if req.namespace.as_deref() != Some(NSS[n]) {
                continue;
            }
        }
        let want_ns = if b.cluster_role || b.ns.is_none() {
            None
        } else {
            b.ns
        };
        // First definition of a name wins.
        let Some(role) = roles.iter().find(|r| r.ns == want_ns && r.name == b.role) else {
            continue;
        };
        let ok = role.rules.iter().any(|x| {
            let verb = x
                .verbs
                .iter()
                .any(|v| VERBS[*v] == "*" || VERBS[*v] == req.verb);
            let group = x
                .groups
                .iter()
                .any(|g| GROUPS[*g] == "*" || GROUPS[*g] == req.group);
            let res = x.resources.iter().any(|r| {
                let r = RESOURCES[*r];
                r == "*"
                    || r == combined
                    || (!req.subresource.is_empty() && r == format!("*/{}", req.subresource))
            });
            let name = x.names.is_empty()
                || req
                    .name
                    .as_ref()
                    .is_some_and(|n| x.names.iter().any(|i| NAMES[*i] == n));
            verb && group && res && name
        });
        if ok {
            for s in &b.subjects {
                out.insert(subject(*s).0);
            }
        }
    }
    out
}

fn requests() -> Vec<Request> {
    let mut v = Vec::new();
    for verb in ["get", "list", "create", "delete"] {
        for (g, r, s) in [
            ("", "pods", ""),
            ("", "secrets", ""),
            ("", "pods", "exec"),
            ("apps", "deployments", ""),
            ("apps", "deployments", "exec"),
        ] {
            for n in [None, Some("n0"), Some("n1")] {
                for name in [None, Some("a")] {
                    v.push(Request {
                        verb: verb.into(),
                        group: g.into(),
                        resource: r.into(),
                        subresource: s.into(),
                        namespace: n.map(Into::into),
                        name: name.map(Into::into),
                        non_resource_url: None,
                    });
                }
            }
        }
    }
    v
}

fn idx_set(max: usize, len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::btree_set(0..max, len).prop_map(|s| s.into_iter().collect())
}

fn rule() -> impl Strategy<Value = GRule> {
    (
        idx_set(VERBS.len(), 1..3),
        idx_set(GROUPS.len(), 1..3),
        idx_set(RESOURCES.len(), 1..3),
        idx_set(NAMES.len(), 0..2),
    )
        .prop_map(|(verbs, groups, resources, names)| GRule {
            verbs,
            groups,
            resources,
            names,
        })
}

fn role() -> impl Strategy<Value = GRole> {
    (
        proptest::option::of(0..NSS.len()),
        0..3usize,
        proptest::collection::vec(rule(), 1..3),
    )
        .prop_map(|(ns, name, rules)| GRole { ns, name, rules })
}

fn binding() -> impl Strategy<Value = GBinding> {
    (
        proptest::option::of(0..NSS.len()),
        any::<bool>(),
        0..3usize,
        idx_set(5, 1..3),
    )
        .prop_map(|(ns, cluster_role, role, subjects)| GBinding {
            ns,
            cluster_role,
            role,
            subjects,
        })
}

fn reachable_accesses(g: &RbacGraph, reqs: &[Request]) -> BTreeSet<(usize, Subject)> {
    let mut out = BTreeSet::new();
    for (i, r) in reqs.iter().enumerate() {
        let w = g.who_can_request(r);
        for d in w.direct {
            out.insert((i, d.subject));
        }
        for (s, _) in w.escalation {
            out.insert((i, s));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn who_can_equals_brute_force(
        roles in proptest::collection::vec(role(), 0..6),
        bindings in proptest::collection::vec(binding(), 0..6),
    ) {
        let g = RbacGraph::build(&text_inv(yaml(&roles, &bindings)));
        for req in requests() {
            let got: BTreeSet<Subject> = g.direct(&req).into_iter().map(|d| d.subject).collect();
            let want = brute(&roles, &bindings, &req);
            prop_assert_eq!(got, want, "request {}", req.describe());
        }
    }

    #[test]
    fn adding_a_binding_never_removes_access(
        roles in proptest::collection::vec(role(), 0..6),
        bindings in proptest::collection::vec(binding(), 0..5),
        extra in binding(),
    ) {
        let reqs = requests();
        let before = reachable_accesses(&RbacGraph::build(&text_inv(yaml(&roles, &bindings))), &reqs);
        let mut more = bindings.clone();
        more.push(extra);
        let g2 = RbacGraph::build(&text_inv(yaml(&roles, &more)));
        let after = reachable_accesses(&g2, &reqs);
        let lost: Vec<_> = before.difference(&after).collect();
        prop_assert!(lost.is_empty(), "lost {:?}", lost);
        let admins1: BTreeSet<Subject> = RbacGraph::build(&text_inv(yaml(&roles, &bindings))).cluster_admin_equivalent().into_iter().map(|x| x.0).collect();
        let admins2: BTreeSet<Subject> = g2.cluster_admin_equivalent().into_iter().map(|x| x.0).collect();
        prop_assert!(admins1.is_subset(&admins2));
    }
}

/// A kind only a config teaches creates pods like a built-in one: "can
/// create trainers" is an escalation edge, and a request for `trainers`
/// (no group) finds the config's group.
#[test]
fn config_declared_pod_kind_gives_an_escalation_edge() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/config-kinds");
    let config = ml_audit::config::Config::load(&dir.join(".ml-audit.yaml")).unwrap();
    let loaded = || {
        ml_audit::load(
            &[Input::Path(dir.join("rbac.yaml"))],
            &LoadOptions::default(),
        )
    };
    let secrets = |g: &RbacGraph| {
        g.who_can("get", "secrets", Some("ml"), None)
            .escalation
            .into_iter()
            .map(|(s, _)| s)
            .collect::<Vec<_>>()
    };

    let g = RbacGraph::build(&Inventory::with_kinds(loaded(), &config.kind_table()));
    let p = g
        .path(&u("bob"), &Target::Subject(Subject::sa("ml", "runner")))
        .expect("bob reaches ml/runner by creating a Trainer");
    assert_eq!(p.steps[0].edge.kind, EdgeKind::CreatePods);
    assert_eq!(
        p.steps[0].edge.detail,
        "create trainers.ml.example.com in ml"
    );
    assert_eq!(secrets(&g), [u("bob")]);
    let direct = g.who_can("create", "trainers", Some("ml"), None).direct;
    assert!(direct.iter().any(|d| d.subject == u("bob")), "{direct:?}");

    // The built-in table alone does not know Trainers.
    let g = RbacGraph::build(&Inventory::new(loaded()));
    assert!(secrets(&g).is_empty());
}
