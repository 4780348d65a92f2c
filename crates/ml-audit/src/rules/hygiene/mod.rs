//! Probes and pull policies, as kube-score and Polaris users expect.

pub mod missing_liveness_probe;
pub mod missing_readiness_probe;
pub mod mutable_tag_pull_policy;
