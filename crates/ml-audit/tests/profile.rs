//! Rule profiling (`rule::set_profiling`, `rule::profile`), what
//! `ML_AUDIT_STATS` prints: in a test binary of its own, as the times are
//! the process's.
use ml_audit::{Audit, Inventory};

#[test]
fn profiling_times_each_rule_and_shared_analysis() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - {name: c, image: busybox}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: d, namespace: a}\nspec: {podSelector: {}}\n";
    let inv = Inventory::from_text("p.yaml", text);
    ml_audit::set_profiling(true);
    let audit = Audit::new();
    let report = audit.run(&inv);
    assert!(!report.findings.is_empty());
    let times = ml_audit::profile();
    for r in audit.active() {
        let id = &r.meta().id;
        assert!(times.iter().any(|(t, _)| t == id), "no time for {id}");
    }
    assert!(
        times
            .iter()
            .any(|(t, _)| t.starts_with("analysis:") && t.contains("Reachability")),
        "{times:?}"
    );
    // Turning it on again starts from zero; off stops adding.
    ml_audit::set_profiling(true);
    assert!(ml_audit::profile().is_empty());
    ml_audit::set_profiling(false);
    audit.run(&inv);
    assert!(ml_audit::profile().is_empty());
}
