//! The built-in rules. Each rule lives in its own file, declared once with
//! [`declare_rule!`]: id, category, severity, title, options, its catalogue
//! page (`crates/ml-audit/rules/<id>.md`) and its check function. The one
//! list of them is [`REGISTRY`]; see `CONTRIBUTING.md`.

use crate::finding::Finding;
use crate::object::Object;
use crate::rule::{Context, Rule, RuleMeta};
use crate::workload::Workload;

/// The catalogue page of a built-in rule, `crates/ml-audit/rules/<id>.md`
/// (inside the crate, so that it is packaged with it).
macro_rules! rule_doc {
    ($id:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $id, ".md"))
    };
}

/// A rule option: `option!(name, type, default, doc)`, the type an
/// [`OptionType`](crate::rule::OptionType) variant, the default as written
/// in YAML.
macro_rules! option {
    ($name:literal, $ty:ident, $default:literal, $doc:literal $(,)?) => {
        $crate::rule::RuleOption::builtin($name, $crate::rule::OptionType::$ty, $default, $doc)
    };
}

/// Declares a built-in rule: its metadata (the id is written once and also
/// names the catalogue page), its options, and the function that checks it.
/// Defines `META` (the metadata) and `RULE` (what [`REGISTRY`] lists) in the
/// module it is written in.
///
/// ```ignore
/// declare_rule! {
///     id: "image-untrusted-registry", category: "images", severity: Medium, workload: check,
///     title: "Images must come from a trusted registry",
///     options: [option!("registries", StringList, "[]", "Trusted prefixes ...")],
/// }
/// ```
///
/// The check is one of `workload: f` (`fn(&Context, &Workload, &mut
/// Vec<Finding>)`, once per pod template), `object: f` (once per object),
/// `inventory: f` (once per audit), `pss: baseline|restricted, f` (a Pod
/// Security control, see [`pss`]), or none (the suppression rules, whose
/// findings [`crate::suppress`] makes). `skip_patches: true` skips
/// workloads read from Kustomize patch files (partial objects: what they
/// leave out, their base says).
macro_rules! declare_rule {
    (
        id: $id:literal, category: $category:literal, severity: $severity:ident,
        $(workload: $workload:path,)?
        $(object: $object:path,)?
        $(inventory: $inventory:path,)?
        $(pss: $level:ident, $control:path,)?
        $(skip_patches: $skip:literal,)?
        title: $title:literal,
        $(options: [$($option:expr),* $(,)?],)?
    ) => {
        /// The rule's metadata.
        pub(crate) static META: $crate::rule::RuleMeta = $crate::rule::RuleMeta::builtin(
            $id,
            $category,
            $crate::finding::Severity::$severity,
            $title,
            rule_doc!($id),
        )
        .with_options({
            // (An item of its own: a `&[...]` argument would not live
            // long enough.)
            const OPTIONS: &[$crate::rule::RuleOption] = &[$($($option),*)?];
            OPTIONS
        });

        /// The rule, as the registry lists it.
        pub(crate) static RULE: $crate::rules::Builtin = $crate::rules::Builtin {
            meta: &META,
            skip_patches: false $(|| $skip)?,
            hook: declare_rule!(@hook $title;
                $(workload $workload)?
                $(object $object)?
                $(inventory $inventory)?
                $(pss $level $control)?
            ),
        };
    };
    (@hook $title:literal;) => { $crate::rules::Hook::None };
    (@hook $title:literal; workload $f:path) => { $crate::rules::Hook::Workload($f) };
    (@hook $title:literal; object $f:path) => { $crate::rules::Hook::Object($f) };
    (@hook $title:literal; inventory $f:path) => { $crate::rules::Hook::Inventory($f) };
    (@hook $title:literal; pss baseline $f:path) => {
        $crate::rules::Hook::Pss($crate::rules::pss::Control {
            level: $crate::rules::pss::PssLevel::Baseline,
            check: $f,
            help: concat!($title, " (Pod Security Standards, baseline level)"),
        })
    };
    (@hook $title:literal; pss restricted $f:path) => {
        $crate::rules::Hook::Pss($crate::rules::pss::Control {
            level: $crate::rules::pss::PssLevel::Restricted,
            check: $f,
            help: concat!($title, " (Pod Security Standards, restricted level)"),
        })
    };
}

/// What most rule files use: `use crate::rules::prelude::*;`.
pub(crate) mod prelude {
    pub(crate) use crate::finding::Finding;
    pub(crate) use crate::node::Pointer;
    pub(crate) use crate::object::Object;
    pub(crate) use crate::rule::Context;
    pub(crate) use crate::rules::util::finding;
    pub(crate) use crate::secctx::Effective;
    pub(crate) use crate::workload::Workload;
}

mod gpu;
mod hygiene;
mod images;
mod jupyter;
mod network;
pub mod pss;
mod quota;
mod ray;
mod rbac;
mod resources;
pub mod secrets;
mod serviceaccount;
mod serving;
pub(crate) mod suppression;
mod training;
pub(crate) mod util;

/// What a rule checks, and how often.
pub(crate) enum Hook {
    /// Nothing: the findings are made elsewhere (the suppression rules).
    None,
    /// Each workload (pod template).
    Workload(fn(&Context<'_>, &Workload, &mut Vec<Finding>)),
    /// Each object.
    Object(fn(&Context<'_>, &Object, &mut Vec<Finding>)),
    /// The whole inventory, once.
    Inventory(fn(&Context<'_>, &mut Vec<Finding>)),
    /// A Pod Security Standards control, on each workload.
    Pss(pss::Control),
}

/// A built-in rule, as [`declare_rule!`] declares it.
pub(crate) struct Builtin {
    pub meta: &'static RuleMeta,
    /// Whether workloads read from Kustomize patch files are skipped.
    pub skip_patches: bool,
    pub hook: Hook,
}

impl Rule for &'static Builtin {
    fn meta(&self) -> &RuleMeta {
        self.meta
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        // A Kustomize patch leaves out what its base already says.
        let skip = || self.skip_patches && util::from_patch(cx, w);
        match &self.hook {
            Hook::Workload(f) if !skip() => f(cx, w, out),
            Hook::Pss(control) if !skip() => control.run(cx, self.meta, w, out),
            _ => {}
        }
    }

    fn check_object(&self, cx: &Context<'_>, o: &Object, out: &mut Vec<Finding>) {
        if let Hook::Object(f) = self.hook {
            f(cx, o, out)
        }
    }

    fn check_inventory(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if let Hook::Inventory(f) = self.hook {
            f(cx, out)
        }
    }
}

/// Every built-in rule, in catalogue order: the one list.
static REGISTRY: &[&Builtin] = &[
    &pss::host_process::RULE,
    &pss::host_namespaces::RULE,
    &pss::privileged::RULE,
    &pss::capabilities::RULE,
    &pss::host_path_volumes::RULE,
    &pss::host_ports::RULE,
    &pss::apparmor::RULE,
    &pss::selinux::RULE,
    &pss::proc_mount::RULE,
    &pss::seccomp::RULE,
    &pss::sysctls::RULE,
    &pss::host_probes::RULE,
    &pss::volume_types::RULE,
    &pss::allow_privilege_escalation::RULE,
    &pss::run_as_non_root::RULE,
    &pss::run_as_user::RULE,
    &pss::seccomp_restricted::RULE,
    &pss::capabilities_restricted::RULE,
    &pss::proc_mount_restricted::RULE,
    &images::latest_tag::RULE,
    &images::not_pinned_by_digest::RULE,
    &images::untrusted_registry::RULE,
    &secrets::hardcoded_credential::RULE,
    &secrets::hardcoded_secret_by_name::RULE,
    &secrets::secret_in_env_var::RULE,
    &serviceaccount::default_service_account::RULE,
    &serviceaccount::automount_token_without_rbac::RULE,
    &resources::missing_requests::RULE,
    &resources::missing_memory_limit::RULE,
    &resources::accelerator_request_without_limit::RULE,
    &resources::gpu_without_node_targeting::RULE,
    &resources::memory_emptydir_without_size_limit::RULE,
    &training::distributed_training_without_shm::RULE,
    &gpu::nvidia_visible_devices_without_gpu::RULE,
    &gpu::sensitive_host_path::RULE,
    &ray::ray_head_exposed::RULE,
    &jupyter::notebook_auth_disabled::RULE,
    &jupyter::notebook_runs_as_root::RULE,
    &jupyter::notebook_host_access::RULE,
    &serving::model_server_without_readiness_probe::RULE,
    &serving::inference_service_exposed::RULE,
    &hygiene::missing_readiness_probe::RULE,
    &hygiene::missing_liveness_probe::RULE,
    &hygiene::mutable_tag_pull_policy::RULE,
    &suppression::without_reason::RULE,
    &suppression::expired::RULE,
    &suppression::unused::RULE,
    &rbac::cluster_admin_equivalent::RULE,
    &rbac::cluster_admin_binding::RULE,
    &rbac::dangerous_permission::RULE,
    &rbac::ml_workload_service_account::RULE,
    &rbac::wildcard_rule::RULE,
    &rbac::public_subject_binding::RULE,
    &rbac::cross_namespace_service_account::RULE,
    &network::namespace_without_network_policy::RULE,
    &network::missing_default_deny::RULE,
    &network::cross_tenant_ml_port::RULE,
    &network::ml_pod_unrestricted_egress::RULE,
    &network::network_policy_selects_no_pod::RULE,
    &network::network_policy_unknown_named_port::RULE,
    &network::ingress_without_tls::RULE,
    &quota::gpu_without_quota::RULE,
    &quota::resource_quota_exceeded::RULE,
    &quota::limitrange_rejects_pod::RULE,
    &quota::quota_limits_extended_resource::RULE,
    &quota::quota_missing_requests::RULE,
    &quota::kueue_queue_not_found::RULE,
    &quota::kueue_cluster_queue_not_found::RULE,
    &quota::kueue_workload_exceeds_queue::RULE,
];

/// Every built-in rule, in catalogue order.
pub fn builtin() -> Vec<Box<dyn Rule>> {
    REGISTRY
        .iter()
        .map(|r| Box::new(*r) as Box<dyn Rule>)
        .collect()
}
