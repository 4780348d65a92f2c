//! Quota and capacity: do the declared workloads fit the namespace's
//! ResourceQuotas and LimitRanges and their Kueue queues, GPUs first. Every
//! rule reads the one quota ledger ([`crate::quota::Ledger`]).

use std::sync::Arc;

use crate::quota::Ledger;
use crate::rule::Context;
use crate::workload::Workload;

pub(super) mod gpu_without_quota;
pub(super) mod kueue_cluster_queue_not_found;
pub(super) mod kueue_queue_not_found;
pub(super) mod kueue_workload_exceeds_queue;
pub(super) mod limitrange_rejects_pod;
pub(super) mod quota_limits_extended_resource;
pub(super) mod quota_missing_requests;
pub(super) mod resource_quota_exceeded;

/// The shared ledger.
pub(crate) fn ledger(cx: &Context<'_>) -> Arc<Ledger> {
    cx.analysis::<Ledger>(Ledger::build)
}

/// `role, container NAME` for a finding's context.
pub(crate) fn context(w: &Workload, container: Option<usize>) -> String {
    let mut ctx = w.role.clone();
    if let Some(c) = container.and_then(|i| w.containers.get(i)) {
        if !ctx.is_empty() {
            ctx.push_str(", ");
        }
        ctx.push_str(&format!("container {}", c.name));
    }
    ctx
}
