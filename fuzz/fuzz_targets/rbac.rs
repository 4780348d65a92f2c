//! The RBAC privilege graph on generated inventories (Roles, ClusterRoles
//! with wildcards and aggregation, bindings to users, groups and
//! ServiceAccounts, workloads that run as ServiceAccounts). Never a panic;
//! every path starts at its subject, is connected, and ends at the target
//! it is reported for; a subject allowed a request directly is found by
//! `who_can`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ml_audit::rbac::{render, Goal, Path, RbacGraph, Request, Subject, Target};
use ml_audit_fuzz::{generated, Parts};

fn check_path(from: &Subject, to: &Target, p: &Path) {
    let Some(first) = p.steps.first() else {
        assert_eq!(to, &Target::Subject(from.clone()), "empty path to {to}");
        return;
    };
    assert_eq!(
        first.from,
        Target::Subject(from.clone()),
        "path for {from} starts at {}",
        first.from
    );
    for w in p.steps.windows(2) {
        assert_eq!(w[0].to, w[1].from, "path for {from} is not connected");
    }
    assert_eq!(
        &p.steps.last().unwrap().to,
        to,
        "path for {from} ends elsewhere"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some(inv) = generated(
        data,
        Parts {
            rbac: true,
            ..Parts::default()
        },
    ) else {
        return;
    };
    let g = RbacGraph::build(&inv);
    let requests = [
        Request::new("get", "secrets", None, None),
        Request::new("create", "pods", Some("team-a"), None),
        Request::new("*", "*", None, None),
        Request::new("impersonate", "users", None, Some("alice")),
    ];
    let subjects: Vec<Subject> = g.subjects().into_iter().take(12).cloned().collect();
    for s in &subjects {
        for (t, p) in g.reachable(s) {
            check_path(s, &t, &p);
            let _ = render::path_text(&g, &inv, &p);
            let _ = render::path_json(&g, &inv, &p);
        }
        if let Some(p) = g.path_to_admin(s) {
            check_path(s, &Target::ClusterAdmin, &p);
        }
        for (t, p) in g.paths(s, &Goal::ClusterAdmin) {
            check_path(s, &t, &p);
        }
        for r in &requests {
            if let Some(p) = g.path_to_request(s, r) {
                assert_eq!(
                    p.steps
                        .first()
                        .map(|st| &st.from)
                        .unwrap_or(&Target::Subject(s.clone())),
                    &Target::Subject(s.clone())
                );
            }
            let _ = g.allowed(s, r);
        }
        let _ = g.edges_from(s);
    }
    for r in &requests {
        let who = g.who_can_request(r);
        for (s, p) in &who.escalation {
            if let Some(first) = p.steps.first() {
                assert_eq!(
                    first.from,
                    Target::Subject(s.clone()),
                    "escalation for {s} starts at {}",
                    first.from
                );
            }
        }
        for d in g.direct(r) {
            assert!(
                who.direct.iter().any(|x| x.subject == d.subject),
                "{} is allowed {} directly but who_can misses it",
                d.subject,
                r.describe()
            );
        }
    }
    let _ = g.cluster_admin_equivalent();
});
