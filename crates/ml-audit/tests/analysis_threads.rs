//! The shared analyses (RBAC graph, reachability, quota ledger, ...) are
//! built in thread pools of their own: when an audit returns, every thread
//! it started has exited. A thread left to end on its own was seen by the
//! fuzzers' leak checker as a leaked thread handle. In a test binary of its
//! own, so that no other test's threads are counted.
use ml_audit::{Audit, Inventory};

/// The threads of this process, as Linux lists them.
fn threads() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/task").ok()?.count())
}

#[test]
fn an_audit_leaves_no_thread_behind() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  serviceAccountName: s\n  containers:\n  - {name: c, image: busybox, resources: {requests: {cpu: '1'}}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: d, namespace: a}\nspec: {podSelector: {}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: a}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}\nsubjects: [{kind: ServiceAccount, name: s, namespace: a}]\n---\napiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: a}\nspec: {hard: {requests.cpu: '2'}}\n";
    let inv = Inventory::from_text("p.yaml", text);
    let audit = Audit::new();
    // The global pool's threads start with the first audit, and stay.
    assert!(!audit.run(&inv).findings.is_empty());
    let Some(before) = threads() else {
        println!("no /proc/self/task here: thread count not checked");
        return;
    };
    for round in 0..30 {
        audit.run(&inv);
        let after = threads().unwrap_or(before);
        assert_eq!(after, before, "round {round}: threads left running");
    }
}
