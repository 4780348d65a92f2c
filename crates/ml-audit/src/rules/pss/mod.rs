//! The Pod Security Standards, one rule per control of the `baseline` and
//! `restricted` levels, as the upstream Pod Security Admission checks them
//! (v1.37), applied to every workload, pod templates in ML CRDs included.

use crate::finding::{Finding, Severity};
use crate::node::Pointer;
use crate::rule::{Context, RuleMeta};
use crate::rules::util::{context_of, described, effective_all};
use crate::secctx::Effective;
use crate::workload::{ContainerRef, Workload};
use k8s_openapi::api::core::v1::{PodSecurityContext, SecurityContext};

pub(super) mod allow_privilege_escalation;
pub(super) mod apparmor;
pub(super) mod capabilities;
pub(super) mod capabilities_restricted;
pub(super) mod host_namespaces;
pub(super) mod host_path_volumes;
pub(super) mod host_ports;
pub(super) mod host_probes;
pub(super) mod host_process;
pub(super) mod privileged;
pub(super) mod proc_mount;
pub(super) mod proc_mount_restricted;
pub(super) mod run_as_non_root;
pub(super) mod run_as_user;
pub(super) mod seccomp;
pub(super) mod seccomp_restricted;
pub(super) mod selinux;
pub(super) mod sysctls;
pub(super) mod volume_types;

/// A Pod Security Standards level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PssLevel {
    /// `baseline`: prevents known privilege escalations.
    Baseline,
    /// `restricted`: current pod hardening best practice.
    Restricted,
}

impl PssLevel {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            PssLevel::Baseline => "baseline",
            PssLevel::Restricted => "restricted",
        }
    }
}

/// One violation of a control.
pub(crate) struct Violation {
    pub pointer: Pointer,
    pub message: String,
    pub container: Option<String>,
}

impl Violation {
    pub(crate) fn pod(pointer: Pointer, message: impl Into<String>) -> Violation {
        Violation {
            pointer,
            message: message.into(),
            container: None,
        }
    }
    pub(crate) fn container(
        c: &ContainerRef,
        pointer: Pointer,
        message: impl Into<String>,
    ) -> Violation {
        Violation {
            pointer,
            message: message.into(),
            container: Some(c.name.clone()),
        }
    }
}

/// Where a security setting is written: the pod's `securityContext`, or a
/// container's.
#[derive(Clone, Copy)]
pub(crate) enum Site<'w> {
    Pod,
    Container(&'w ContainerRef),
}

impl Site<'_> {
    /// `the pod`, or ``container `NAME` ``: how messages name the site.
    pub(crate) fn who(&self) -> String {
        match self {
            Site::Pod => "the pod".to_string(),
            Site::Container(c) => format!("container `{}`", c.name),
        }
    }

    /// The pointer of `keys` inside the site's `securityContext`.
    pub(crate) fn at(&self, w: &Workload, keys: &[&str]) -> Pointer {
        match self {
            Site::Pod => w.field_pointer("securityContext").keys(keys),
            Site::Container(c) => c.pointer.key("securityContext").keys(keys),
        }
    }

    /// A violation of this site, at `pointer`.
    pub(crate) fn violation(&self, pointer: Pointer, message: String) -> Violation {
        match self {
            Site::Pod => Violation::pod(pointer, message),
            Site::Container(c) => Violation::container(c, pointer, message),
        }
    }
}

/// Calls `f` with a setting of the pod's security context (what `pod`
/// reads), then with the same setting of each container's own (what
/// `container` reads), set or not.
pub(crate) fn each_setting<'w, T>(
    w: &'w Workload,
    pod: impl FnOnce(&'w PodSecurityContext) -> Option<T>,
    container: impl Fn(&'w SecurityContext) -> Option<T>,
    mut f: impl FnMut(Site<'w>, Option<T>),
) {
    f(Site::Pod, w.spec.security_context.as_ref().and_then(pod));
    for c in &w.containers {
        let value = c.spec.security_context.as_ref().and_then(&container);
        f(Site::Container(c), value);
    }
}

/// The check of one control: pushes the violations it finds in a workload,
/// given the effective security context of each of its containers (in the
/// order of `containers`; resolved once for every control).
type Check = fn(&Workload, &[Effective], &mut Vec<Violation>);

/// A Pod Security Standards control: its level, its check, and the help
/// every finding of it shares (`<title> (Pod Security Standards, <level>
/// level)`), as [`declare_rule!`] declares it.
pub(crate) struct Control {
    pub level: PssLevel,
    pub check: Check,
    pub help: &'static str,
}

/// The level a namespace enforces, from its `pod-security.kubernetes.io/enforce` label.
pub fn enforced_level(cx: &Context<'_>, ns: Option<&str>) -> Option<PssLevel> {
    let labels = cx.inventory.namespace_labels(ns?)?;
    match labels.get("pod-security.kubernetes.io/enforce")?.as_str() {
        "baseline" => Some(PssLevel::Baseline),
        "restricted" => Some(PssLevel::Restricted),
        _ => None,
    }
}

/// The level of the Pod Security Standards control with this rule id;
/// `None` for any other rule.
pub fn level_of(rule: &str) -> Option<PssLevel> {
    super::REGISTRY.iter().find_map(|r| match &r.hook {
        super::Hook::Pss(c) if r.meta.id == rule => Some(c.level),
        _ => None,
    })
}

impl Control {
    /// Runs the control on a workload: a finding per violation, critical
    /// where the namespace enforces the control's level.
    pub(crate) fn run(
        &self,
        cx: &Context<'_>,
        meta: &RuleMeta,
        w: &Workload,
        out: &mut Vec<Finding>,
    ) {
        let mut v = Vec::new();
        (self.check)(w, &effective_all(cx, w).0, &mut v);
        if v.is_empty() {
            return;
        }
        let obj = cx.inventory.object(w.object);
        let enforced = enforced_level(cx, w.namespace.as_deref()).filter(|l| *l >= self.level);
        // What every violation of this workload shares, written once (the
        // restricted controls find about 90,000 at 100,000 objects).
        let described = described(cx, w);
        let enforcement = enforced.map(|level| {
            format!(
                " (namespace {} enforces Pod Security `{}`: the API server will reject these pods)",
                w.namespace.as_deref().unwrap_or(""),
                level.as_str()
            )
        });
        for violation in v {
            let ctx = context_of(w, violation.container.as_deref());
            let tail = enforcement.as_deref().unwrap_or("");
            let mut message =
                String::with_capacity(described.0.len() + 2 + violation.message.len() + tail.len());
            message.push_str(&described.0);
            message.push_str(": ");
            message.push_str(&violation.message);
            message.push_str(tail);
            let mut f = cx.finding(meta, obj, &violation.pointer, message);
            if enforcement.is_some() {
                f = f.severity(Severity::Critical);
            }
            out.push(f.context(ctx).help(self.help));
        }
    }
}

/// Whether the pod declares `spec.os.name: windows`.
pub(crate) fn is_windows(w: &Workload) -> bool {
    w.spec.os.as_ref().is_some_and(|o| o.name == "windows")
}
