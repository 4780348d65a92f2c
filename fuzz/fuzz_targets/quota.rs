//! The quota ledger on generated inventories (workloads with requests and
//! limits, init and sidecar containers, overhead, HPAs, ResourceQuotas with
//! scopes, LimitRanges, Kueue ClusterQueues, cohorts and LocalQueues), then
//! the quota rules. Never a panic; the ledger is deterministic; a
//! namespace's totals (and a ClusterQueue's) are at least what each of its
//! workloads adds, when no amount is negative.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ml_audit::quota::{Ledger, Quantity};
use ml_audit::Audit;
use ml_audit_fuzz::{generated, Parts};

fuzz_target!(|data: &[u8]| {
    let Some(inv) = generated(
        data,
        Parts {
            quota: true,
            ..Parts::default()
        },
    ) else {
        return;
    };
    let l = Ledger::build(&inv);
    let again = Ledger::build(&inv);
    let public = |l: &Ledger| {
        format!(
            "{:?} {:?} {:?} {:?} {:?}",
            l.workloads, l.namespaces, l.rejections, l.missing, l.kueue
        )
    };
    assert_eq!(
        public(&l),
        public(&again),
        "ledger differs between two builds"
    );
    let negative = l.workloads.iter().any(|w| {
        w.pod_requests
            .values()
            .chain(w.pod_limits.values())
            .any(|q| *q < Quantity::ZERO)
    });
    for (ns, nl) in &l.namespaces {
        let mut pods = 0i128;
        for &i in &nl.workloads {
            let w = &l.workloads[i];
            assert_eq!(&w.namespace, ns);
            assert_eq!(l.usage_of(w.workload).map(|x| x.workload), Some(w.workload));
            pods += i128::from(w.replicas);
            if negative {
                continue;
            }
            for (r, q) in &w.total_requests() {
                let total = nl.requests.get(r).copied().unwrap_or_default();
                assert!(
                    total >= *q,
                    "{ns}: requests.{r} {total} below one workload's {q}"
                );
            }
            for (r, q) in &w.total_limits() {
                let total = nl.limits.get(r).copied().unwrap_or_default();
                assert!(
                    total >= *q,
                    "{ns}: limits.{r} {total} below one workload's {q}"
                );
            }
        }
        assert_eq!(pods, nl.pods, "{ns}: pods");
        for q in &nl.quotas {
            for h in &q.hard {
                let _ = h.exceeded();
                if !negative {
                    for (_, c) in &h.contributors {
                        if let Some(used) = h.used {
                            assert!(
                                used >= *c,
                                "{ns}: {} used {used} below a contributor's {c}",
                                h.key
                            );
                        }
                    }
                }
            }
        }
    }
    if !negative {
        for q in l.kueue.queues.values() {
            for &i in &q.workloads {
                for (r, v) in &l.kueue.workloads[i].requests {
                    let total = q.requested.get(r).copied().unwrap_or_default();
                    assert!(
                        total >= *v,
                        "queue {}: {r} {total} below one job's {v}",
                        q.info.name
                    );
                }
            }
        }
    }
    let mut audit = Audit::new();
    audit.select(&["quota"]).unwrap();
    let _ = audit.run(&inv).to_json();
});
