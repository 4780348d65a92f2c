//! Resources: requests and limits, accelerators, memory-backed volumes.

pub mod accelerator_request_without_limit;
pub mod gpu_without_node_targeting;
pub mod memory_emptydir_without_size_limit;
pub mod missing_memory_limit;
pub mod missing_requests;

use crate::inventory::Inventory;
use crate::rule::Context;

/// Container defaults that LimitRanges give, per namespace: namespace ->
/// (`default` resources, `defaultRequest` resources).
#[derive(Debug, Default)]
pub(crate) struct LimitDefaults(std::collections::HashMap<String, (Vec<String>, Vec<String>)>);

impl LimitDefaults {
    fn build(inv: &Inventory) -> LimitDefaults {
        let mut out = LimitDefaults::default();
        for o in inv.of_kind("LimitRange") {
            if !o.group().is_empty() {
                continue;
            }
            let Some(ns) = o.effective_namespace() else {
                continue;
            };
            let e = out.0.entry(ns.to_string()).or_default();
            for l in o.root.field("spec").field("limits").items() {
                if l.field("type").as_str() != Some("Container") {
                    continue;
                }
                e.0.extend(
                    l.field("default")
                        .entries()
                        .iter()
                        .map(|x| x.key.to_string()),
                );
                e.1.extend(
                    l.field("defaultRequest")
                        .entries()
                        .iter()
                        .map(|x| x.key.to_string()),
                );
            }
        }
        out
    }
}

/// Whether a LimitRange in the namespace gives containers a default for
/// `resource` (`default` for limits, `defaultRequest` for requests; a
/// `default` limit also becomes the default request).
pub(crate) fn limit_range_default(cx: &Context<'_>, ns: &str, field: &str, resource: &str) -> bool {
    let d = cx.analysis(LimitDefaults::build);
    let Some((limits, requests)) = d.0.get(ns) else {
        return false;
    };
    let has = |v: &Vec<String>| v.iter().any(|r| r == resource);
    match field {
        "defaultRequest" => has(requests) || has(limits),
        _ => has(limits),
    }
}
