//! The quota ledger against hand-computed totals (YAML in testdata/quota/).

use std::path::Path;

use ml_audit::quota::{Ledger, Quantity};
use ml_audit::{Input, Inventory, LoadOptions};

fn inventory(file: &str) -> Inventory {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/quota")
        .join(file);
    let loaded = ml_audit::load(&[Input::Path(p)], &LoadOptions::default());
    let inv = Inventory::new(loaded);
    assert!(inv.diagnostics.is_empty(), "{file}: {:?}", inv.diagnostics);
    inv
}

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap()
}

fn get(m: &ml_audit::quota::Amounts, r: &str) -> Quantity {
    m.get(r).copied().unwrap_or_default()
}

/// The ledger entry of the workload of `kind/name` with this role.
fn usage<'a>(
    inv: &Inventory,
    l: &'a Ledger,
    name: &str,
    role: &str,
) -> &'a ml_audit::quota::WorkloadUsage {
    let i = inv
        .workloads
        .iter()
        .position(|w| inv.object(w.object).name == name && w.role == role)
        .unwrap_or_else(|| panic!("no workload {name} ({role})"));
    l.usage_of(i).expect("counted")
}

#[test]
fn autoscaling_upper_bounds() {
    let inv = inventory("autoscaling.yaml");
    let l = Ledger::build(&inv);
    assert_eq!(usage(&inv, &l, "rc", "worker gpu").replicas, 4);
    assert_eq!(usage(&inv, &l, "rc", "worker gpu").declared_replicas, 1);
    assert_eq!(usage(&inv, &l, "rc", "worker cpu").replicas, 2);
    let api = usage(&inv, &l, "api", "");
    assert_eq!(api.replicas, 5);
    assert!(api.hpa.is_some());
    assert_eq!(usage(&inv, &l, "elastic", "Worker").replicas, 4);
    let ml = &l.namespaces["ml"];
    // head 2 + gpu workers 4 x 8 + cpu workers 2 x 4 (from limits) + api 5 x 0.5 + elastic 4 x 1
    assert_eq!(get(&ml.requests, "cpu"), q("48.5"));
    assert_eq!(get(&ml.requests, "memory"), q("136Gi"));
    assert_eq!(get(&ml.requests, "nvidia.com/gpu"), q("4"));
    assert_eq!(get(&ml.limits, "nvidia.com/gpu"), q("4"));
    assert_eq!(get(&ml.limits, "cpu"), q("8"));
    assert_eq!(ml.pods, 1 + 4 + 2 + 5 + 4);
    // The WorkflowTemplate is a template: not counted.
    assert_eq!(ml.workloads.len(), 5);
}

#[test]
fn init_containers_sidecars_and_overhead() {
    let inv = inventory("init.yaml");
    let l = Ledger::build(&inv);
    // max(init a 2, sidecar 0.5, b 1 + 0.5; app 1.25 + sidecar 0.5) + overhead 0.1
    let p = usage(&inv, &l, "sidecars", "");
    assert_eq!(get(&p.pod_requests, "cpu"), q("2100m"));
    let m = usage(&inv, &l, "memory", "");
    // cpu: max(a 1, s 1; main 1 + s 1) = 2; memory: max(a 1Gi, s 64Mi; 256Mi + 64Mi)
    assert_eq!(get(&m.pod_requests, "cpu"), q("2"));
    assert_eq!(get(&m.pod_requests, "memory"), q("1Gi"));
    assert_eq!(get(&m.pod_limits, "memory"), q("1Gi"));
    let s = usage(&inv, &l, "sandboxed", "");
    assert_eq!(get(&s.pod_requests, "cpu"), q("1250m"));
    assert_eq!(get(&s.pod_limits, "cpu"), q("2250m"));
    assert_eq!(get(&s.pod_requests, "memory"), q("120Mi"));
    assert_eq!(get(&s.pod_limits, "memory"), Quantity::ZERO);
    assert_eq!(get(&l.namespaces["init"].requests, "cpu"), q("5350m"));
}

#[test]
fn limitrange_defaults_before_comparison() {
    let inv = inventory("limitrange.yaml");
    let l = Ledger::build(&inv);
    let u = usage(&inv, &l, "app", "");
    // bare: 250m / 1Gi requests, 1 / 1Gi limits, 4Gi ephemeral-storage (default from max)
    // cpu-limit: 2 (from its limit) / 1Gi requests, 2 / 1Gi limits, 4Gi ephemeral-storage
    assert_eq!(get(&u.pod_requests, "cpu"), q("2250m"));
    assert_eq!(get(&u.pod_requests, "memory"), q("2Gi"));
    assert_eq!(get(&u.pod_limits, "cpu"), q("3"));
    assert_eq!(get(&u.pod_limits, "memory"), q("2Gi"));
    assert_eq!(get(&u.pod_requests, "ephemeral-storage"), q("8Gi"));
    let ns = &l.namespaces["lr"];
    assert_eq!(get(&ns.requests, "cpu"), q("6750m"));
    assert_eq!(get(&ns.limits, "memory"), q("6Gi"));
    assert_eq!(get(&ns.requests, "ephemeral-storage"), q("24Gi"));
    assert!(u.containers[0].defaulted.contains_key("cpu"));
    assert!(!u.containers[1].defaulted.contains_key("cpu"));
    assert!(l.rejections.is_empty(), "{:?}", l.rejections);
}

#[test]
fn quota_scopes() {
    let inv = inventory("scopes.yaml");
    let l = Ledger::build(&inv);
    let ns = &l.namespaces["sc"];
    let used = |quota: &str, key: &str| {
        let qu = ns.quotas.iter().find(|x| x.name == quota).unwrap();
        let h = qu.hard.iter().find(|h| h.key == key).unwrap();
        (h.used, h.exceeded())
    };
    // be 3 (BestEffort) + web 2 (NotBestEffort, priority high) + batch 2 (Terminating)
    assert_eq!(used("all", "pods"), (Some(q("7")), false));
    assert_eq!(used("all", "requests.cpu"), (Some(q("3")), false));
    assert_eq!(used("all", "count/deployments.apps"), (Some(q("2")), true));
    assert_eq!(used("all", "services"), (Some(q("1")), false));
    assert_eq!(used("all", "secrets"), (Some(q("1")), true));
    assert_eq!(used("besteffort", "pods"), (Some(q("3")), true));
    assert_eq!(used("notbesteffort", "requests.cpu"), (Some(q("3")), false));
    assert_eq!(
        used("high", "requests.nvidia.com/gpu"),
        (Some(q("2")), false)
    );
    assert_eq!(used("terminating", "pods"), (Some(q("2")), false));
    // `all` tracks requests.cpu and the BestEffort Deployment requests none.
    let missing: Vec<_> = l
        .missing
        .iter()
        .map(|m| {
            (
                inv.object(inv.workloads[m.workload].object).name.as_str(),
                m.key.as_str(),
            )
        })
        .collect();
    assert_eq!(missing, vec![("be", "requests.cpu")]);
}

#[test]
fn kueue_cohort_borrowing() {
    let inv = inventory("kueue.yaml");
    let l = Ledger::build(&inv);
    let k = &l.kueue;
    let grant = |cq: &str| get(&k.queues[cq].max_grant, "nvidia.com/gpu");
    // a: 4 + min(borrowingLimit 2, b lends 3 + c lends 2)
    assert_eq!(grant("a"), q("6"));
    // b: 8 + a 4 + c 2 (a100 only)
    assert_eq!(grant("b"), q("14"));
    // c: a100 2 + (a 4 + b 3), h100 4 + nothing to borrow
    assert_eq!(grant("c"), q("13"));
    assert_eq!(get(&k.queues["c"].max_flavor, "nvidia.com/gpu"), q("9"));
    assert_eq!(get(&k.queues["c"].nominal, "nvidia.com/gpu"), q("6"));
    // d: no cohort
    assert_eq!(grant("d"), q("1"));
    assert_eq!(k.flavors.len(), 2);
    // The RayCluster is admitted at declared replicas: 2 GPUs, 1 + 2 x 4 cpu.
    let rc = k
        .workloads
        .iter()
        .find(|w| inv.object(w.object).name == "rc")
        .unwrap();
    assert_eq!(rc.cluster_queue.as_deref(), Some("a"));
    assert_eq!(get(&rc.requests, "nvidia.com/gpu"), q("2"));
    assert_eq!(get(&rc.requests, "cpu"), q("9"));
    assert_eq!(get(&k.queues["a"].requested, "cpu"), q("9"));
    // ... while the namespace ledger counts its upper bound.
    assert_eq!(
        get(&l.namespaces["team-a"].requests, "nvidia.com/gpu"),
        q("5")
    );
    let lost = k
        .workloads
        .iter()
        .find(|w| inv.object(w.object).name == "lost")
        .unwrap();
    assert!(lost.local_queue.is_none());
    assert_eq!(
        lost.label_pointer.as_str(),
        "/metadata/labels/kueue.x-k8s.io~1queue-name"
    );
}

/// A negative storage request (refused by the API server) takes nothing
/// and lowers nothing: found by the quota fuzzer.
#[test]
fn a_negative_claim_does_not_lower_storage_usage() {
    let inv = inventory("negative-claim.yaml");
    let l = Ledger::build(&inv);
    let hard = l.namespaces["team-b"]
        .quotas
        .iter()
        .flat_map(|u| &u.hard)
        .find(|h| h.key == "fast.storageclass.storage.k8s.io/requests.storage")
        .expect("the storage-class quota is accounted");
    assert_eq!(hard.used, Some(q("320Gi")));
    for (_, c) in &hard.contributors {
        assert!(*c <= q("320Gi") && *c >= Quantity::ZERO, "{c}");
    }
}
