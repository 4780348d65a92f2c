//! Training jobs and notebooks that may send anything anywhere.
use super::{is_training_or_notebook, peer_site, reach};
use crate::netpol::Endpoint;
use crate::rules::prelude::*;

declare_rule! {
    id: "ml-pod-unrestricted-egress", category: "network", severity: High, inventory: check,
    title: "Training and notebook pods must not have unrestricted egress to the internet",
}

/// A public address standing for "the internet".
const PUBLIC: u32 = u32::from_be_bytes([8, 8, 8, 8]);

fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let r = reach(cx);
    let inv = cx.inventory;
    let Some(b) = r
        .out_blocks
        .iter()
        .position(|b| b.lo <= PUBLIC && PUBLIC <= b.hi)
    else {
        return;
    };
    for (p, peer) in r.peers.iter().enumerate() {
        if peer.synthetic
            || !peer
                .object
                .is_some_and(|o| is_training_or_notebook(inv.object(o)))
        {
            continue;
        }
        let v = r.to_external(p, b);
        if !v.allowed.is_all() {
            continue;
        }
        let Some((obj, ptr)) = peer_site(inv, peer) else {
            continue;
        };
        let block = r.out_blocks[b];
        let e = r.explain(Endpoint::Peer(p), Endpoint::Ip(block));
        let allowing: Vec<_> = e
            .steps
            .iter()
            .filter(|s| s.verdict == "allow" && s.tier != "default")
            .collect();
        let why = if allowing.is_empty() {
            "no policy restricts its egress".to_string()
        } else {
            format!(
                "allowed by {}",
                allowing
                    .iter()
                    .map(|s| format!("{} {}", s.tier, s.policy))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut f = cx
            .finding(
                &META,
                obj,
                &ptr,
                format!("{} can open any connection to the internet ({block}): {why}", peer.display()),
            )
            .help("give training and notebook pods an egress policy that allows DNS, the cluster's own services and the data/model stores they need, and nothing else");
        for s in &allowing {
            if let Some(np) = r
                .policies
                .netpols
                .iter()
                .find(|np| format!("{}/{}", np.namespace, np.name) == s.policy)
            {
                let rp = s
                    .rule
                    .map(|i| Pointer::root().keys(&["spec", "egress"]).idx(i))
                    .unwrap_or_else(|| Pointer::root().key("spec"));
                f = f.with_related(cx.related(
                    inv.object(np.object),
                    &rp,
                    "allows egress to 0.0.0.0/0",
                ));
            }
        }
        out.push(f);
    }
}
