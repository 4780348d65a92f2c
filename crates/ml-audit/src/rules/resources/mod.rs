//! Resources: requests and limits, accelerators, memory-backed volumes.

pub mod accelerator_request_without_limit;
pub mod gpu_without_node_targeting;
pub mod memory_emptydir_without_size_limit;
pub mod missing_memory_limit;
pub mod missing_requests;

use crate::inventory::Inventory;

/// Whether a LimitRange in the namespace gives containers a default for
/// `resource` (`default` for limits, `defaultRequest` for requests).
pub(crate) fn limit_range_default(inv: &Inventory, ns: &str, field: &str, resource: &str) -> bool {
    inv.in_namespace(ns)
        .filter(|o| o.kind == "LimitRange" && o.group().is_empty())
        .any(|o| {
            o.root.field("spec").field("limits").items().iter().any(|l| {
                l.field("type").as_str() == Some("Container")
                    && (l.field(field).get(resource).is_some()
                        // defaultRequest falls back to default.
                        || (field == "defaultRequest" && l.field("default").get(resource).is_some()))
            })
        })
}
