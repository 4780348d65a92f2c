//! Probes and pull policies, as kube-score and Polaris users expect.

pub(super) mod missing_liveness_probe;
pub(super) mod missing_readiness_probe;
pub(super) mod mutable_tag_pull_policy;
