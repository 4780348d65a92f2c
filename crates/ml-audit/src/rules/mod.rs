//! The built-in rules. Each rule lives in its own file with its metadata;
//! its catalogue page is `rules/<id>.md` at the repository root.

use crate::rule::Rule;

pub mod gpu;
pub mod hygiene;
pub mod images;
pub mod jupyter;
pub mod network;
pub mod pss;
pub mod quota;
pub mod ray;
pub mod rbac;
pub mod resources;
pub mod secrets;
pub mod serviceaccount;
pub mod serving;
pub mod suppression;
pub mod training;
pub(crate) mod util;

/// Every built-in rule, in catalogue order.
pub fn builtin() -> Vec<Box<dyn Rule>> {
    let mut v: Vec<Box<dyn Rule>> = Vec::new();
    for r in pss::rules() {
        v.push(Box::new(r));
    }
    v.push(Box::new(images::latest_tag::ImageLatestTag));
    v.push(Box::new(
        images::not_pinned_by_digest::ImageNotPinnedByDigest,
    ));
    v.push(Box::new(images::untrusted_registry::ImageUntrustedRegistry));
    v.push(Box::new(secrets::hardcoded_credential::HardcodedCredential));
    v.push(Box::new(
        secrets::hardcoded_secret_by_name::HardcodedSecretByName,
    ));
    v.push(Box::new(secrets::secret_in_env_var::SecretInEnvVar));
    v.push(Box::new(
        serviceaccount::default_service_account::DefaultServiceAccount,
    ));
    v.push(Box::new(
        serviceaccount::automount_token_without_rbac::AutomountTokenWithoutRbac,
    ));
    v.push(Box::new(
        resources::missing_requests::MissingResourceRequests,
    ));
    v.push(Box::new(
        resources::missing_memory_limit::MissingMemoryLimit,
    ));
    v.push(Box::new(
        resources::accelerator_request_without_limit::AcceleratorRequestWithoutLimit,
    ));
    v.push(Box::new(
        resources::gpu_without_node_targeting::GpuWithoutNodeTargeting,
    ));
    v.push(Box::new(
        resources::memory_emptydir_without_size_limit::MemoryEmptyDirWithoutSizeLimit,
    ));
    v.push(Box::new(
        training::distributed_training_without_shm::DistributedTrainingWithoutShm,
    ));
    v.push(Box::new(
        gpu::nvidia_visible_devices_without_gpu::NvidiaVisibleDevicesWithoutGpu,
    ));
    v.push(Box::new(gpu::sensitive_host_path::SensitiveHostPathMount));
    v.push(Box::new(ray::ray_head_exposed::RayHeadExposed));
    v.push(Box::new(
        jupyter::notebook_auth_disabled::NotebookAuthDisabled,
    ));
    v.push(Box::new(jupyter::notebook_runs_as_root::NotebookRunsAsRoot));
    v.push(Box::new(jupyter::notebook_host_access::NotebookHostAccess));
    v.push(Box::new(
        serving::model_server_without_readiness_probe::ModelServerWithoutReadinessProbe,
    ));
    v.push(Box::new(
        serving::inference_service_exposed::InferenceServiceExposed,
    ));
    v.push(Box::new(
        hygiene::missing_readiness_probe::MissingReadinessProbe,
    ));
    v.push(Box::new(
        hygiene::missing_liveness_probe::MissingLivenessProbe,
    ));
    v.push(Box::new(
        hygiene::mutable_tag_pull_policy::MutableTagPullPolicy,
    ));
    v.extend(suppression::rules());
    v.extend(rbac::rules());
    v.extend(network::rules());
    v.extend(quota::rules());
    v
}
