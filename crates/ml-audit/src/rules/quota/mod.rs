//! Quota and capacity: do the declared workloads fit the namespace's
//! ResourceQuotas and LimitRanges and their Kueue queues, GPUs first. Every
//! rule reads the one quota ledger ([`crate::quota::Ledger`]).

use std::sync::Arc;

use crate::quota::Ledger;
use crate::rule::{Context, Rule};
use crate::workload::Workload;

mod gpu_without_quota;
mod kueue_cluster_queue_not_found;
mod kueue_queue_not_found;
mod kueue_workload_exceeds_queue;
mod limitrange_rejects_pod;
mod quota_limits_extended_resource;
mod quota_missing_requests;
mod resource_quota_exceeded;

/// The quota rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(gpu_without_quota::GpuWithoutQuota),
        Box::new(resource_quota_exceeded::ResourceQuotaExceeded),
        Box::new(limitrange_rejects_pod::LimitRangeRejectsPod),
        Box::new(quota_limits_extended_resource::QuotaLimitsExtendedResource),
        Box::new(quota_missing_requests::QuotaMissingRequests),
        Box::new(kueue_queue_not_found::KueueQueueNotFound),
        Box::new(kueue_cluster_queue_not_found::KueueClusterQueueNotFound),
        Box::new(kueue_workload_exceeds_queue::KueueWorkloadExceedsQueue),
    ]
}

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
