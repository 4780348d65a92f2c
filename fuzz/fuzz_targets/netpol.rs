//! NetworkPolicy reachability on generated inventories (namespaces with and
//! without labels, labelled workloads with named ports, policies with pod and
//! namespace selectors, expressions, ports and port ranges, ipBlocks with
//! exceptions, Services). Never a panic; the model is deterministic (built
//! twice, the same connlist); and the verdict `explain` recomputes for a pair
//! is the one the tables hold.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ml_audit::netpol::{Endpoint, MissingNamespaces, Options, Reachability};
use ml_audit_fuzz::{generated, Parts};

fuzz_target!(|data: &[u8]| {
    let Some(inv) = generated(
        data,
        Parts {
            netpol: true,
            ..Parts::default()
        },
    ) else {
        return;
    };
    for missing in [MissingNamespaces::Unknown, MissingNamespaces::NameLabelOnly] {
        let options = Options {
            missing_namespaces: missing,
        };
        let r = Reachability::build(&inv, &options);
        let again = Reachability::build(&inv, &options);
        assert_eq!(
            r.connlist(),
            again.connlist(),
            "connlist differs between two builds"
        );
        assert_eq!(
            r.unknown_list(),
            again.unknown_list(),
            "unknown list differs between two builds"
        );
        let n = r.peers.len().min(8);
        for a in 0..n {
            for b in 0..n {
                let v = r.between(a, b);
                let e = r.explain(Endpoint::Peer(a), Endpoint::Peer(b));
                assert_eq!(
                    e.allowed,
                    v.allowed.to_string(),
                    "explain disagrees for {a} -> {b}"
                );
                assert_eq!(
                    e.unknown,
                    v.unknown.to_string(),
                    "explain disagrees for {a} -> {b}"
                );
            }
            for (bi, block) in r.out_blocks.iter().enumerate() {
                let v = r.to_external(a, bi);
                let e = r.explain(Endpoint::Peer(a), Endpoint::Ip(*block));
                assert_eq!(
                    e.allowed,
                    v.allowed.to_string(),
                    "explain disagrees for {a} -> {block}"
                );
            }
            for (bi, block) in r.in_blocks.iter().enumerate() {
                let v = r.from_external(bi, a);
                let e = r.explain(Endpoint::Ip(*block), Endpoint::Peer(a));
                assert_eq!(
                    e.allowed,
                    v.allowed.to_string(),
                    "explain disagrees for {block} -> {a}"
                );
            }
        }
        let _ = r.class_pairs();
    }
});
