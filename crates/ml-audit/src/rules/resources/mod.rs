//! Resources: requests and limits, accelerators, memory-backed volumes.

pub(super) mod accelerator_request_without_limit;
pub(super) mod gpu_without_node_targeting;
pub(super) mod memory_emptydir_without_size_limit;
pub(super) mod missing_memory_limit;
pub(super) mod missing_requests;

use crate::finding::Finding;
use crate::inventory::Inventory;
use crate::rule::{Context, RuleMeta};
use crate::rules::util::{finding, resources_pointer};
use crate::workload::{ContainerKind, ContainerRef, Workload};

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

/// Reports each container of `w` (ephemeral ones aside) for which
/// `missing(container, namespace)` says what it lacks, at the narrowest
/// place: `resources.<field>` when the container has that map, else
/// `resources` when it has one, else the container.
pub(crate) fn report_missing(
    cx: &Context<'_>,
    meta: &RuleMeta,
    w: &Workload,
    field: &str,
    help: &'static str,
    out: &mut Vec<Finding>,
    missing: impl Fn(&ContainerRef, &str) -> Option<String>,
) {
    let ns = w.namespace.as_deref().unwrap_or("");
    for c in w
        .containers
        .iter()
        .filter(|c| c.kind != ContainerKind::Ephemeral)
    {
        let Some(message) = missing(c, ns) else {
            continue;
        };
        let pointer = resources_pointer(c, field);
        out.push(finding(cx, meta, w, Some(c), &pointer, message).help(help));
    }
}
