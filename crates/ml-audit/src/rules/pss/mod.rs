//! The Pod Security Standards, one rule per control of the `baseline` and
//! `restricted` levels, as the upstream Pod Security Admission checks them
//! (v1.37), applied to every workload, pod templates in ML CRDs included.

use std::sync::OnceLock;

use crate::finding::{Finding, Severity};
use crate::node::Pointer;
use crate::rule::{Context, Rule, RuleMeta};
use crate::rules::util::{context_of, described, effective_all};
use crate::secctx::Effective;
use crate::workload::{ContainerRef, Workload};

mod allow_privilege_escalation;
mod apparmor;
mod capabilities;
mod capabilities_restricted;
mod host_namespaces;
mod host_path_volumes;
mod host_ports;
mod host_probes;
mod host_process;
mod privileged;
mod proc_mount;
mod proc_mount_restricted;
mod run_as_non_root;
mod run_as_user;
mod seccomp;
mod seccomp_restricted;
mod selinux;
mod sysctls;
mod volume_types;

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

/// The check of one control: pushes the violations it finds in a workload,
/// given the effective security context of each of its containers (in the
/// order of `containers`; resolved once for every control).
type Check = fn(&Workload, &[Effective], &mut Vec<Violation>);

/// A Pod Security Standards control as a rule.
pub struct PssRule {
    meta: RuleMeta,
    level: PssLevel,
    check: Check,
    /// `<title> (Pod Security Standards, <level> level)`, shared by every
    /// finding of the control.
    help: &'static str,
}

impl PssRule {
    /// The level this control belongs to.
    pub fn level(&self) -> PssLevel {
        self.level
    }
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

impl Rule for PssRule {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
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
            let mut f = cx.finding(&self.meta, obj, &violation.pointer, message);
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

/// Every Pod Security Standards rule.
pub fn rules() -> Vec<PssRule> {
    let all: [(RuleMeta, PssLevel, Check); 19] = [
        (host_process::META, PssLevel::Baseline, host_process::check),
        (
            host_namespaces::META,
            PssLevel::Baseline,
            host_namespaces::check,
        ),
        (privileged::META, PssLevel::Baseline, privileged::check),
        (capabilities::META, PssLevel::Baseline, capabilities::check),
        (
            host_path_volumes::META,
            PssLevel::Baseline,
            host_path_volumes::check,
        ),
        (host_ports::META, PssLevel::Baseline, host_ports::check),
        (apparmor::META, PssLevel::Baseline, apparmor::check),
        (selinux::META, PssLevel::Baseline, selinux::check),
        (proc_mount::META, PssLevel::Baseline, proc_mount::check),
        (seccomp::META, PssLevel::Baseline, seccomp::check),
        (sysctls::META, PssLevel::Baseline, sysctls::check),
        (host_probes::META, PssLevel::Baseline, host_probes::check),
        (
            volume_types::META,
            PssLevel::Restricted,
            volume_types::check,
        ),
        (
            allow_privilege_escalation::META,
            PssLevel::Restricted,
            allow_privilege_escalation::check,
        ),
        (
            run_as_non_root::META,
            PssLevel::Restricted,
            run_as_non_root::check,
        ),
        (run_as_user::META, PssLevel::Restricted, run_as_user::check),
        (
            seccomp_restricted::META,
            PssLevel::Restricted,
            seccomp_restricted::check,
        ),
        (
            capabilities_restricted::META,
            PssLevel::Restricted,
            capabilities_restricted::check,
        ),
        (
            proc_mount_restricted::META,
            PssLevel::Restricted,
            proc_mount_restricted::check,
        ),
    ];
    // The helps are written once for the process, and borrowed by every
    // finding (90,000 of them at 100,000 objects).
    static HELPS: OnceLock<Vec<String>> = OnceLock::new();
    let helps = HELPS.get_or_init(|| {
        all.iter()
            .map(|(meta, level, _)| {
                format!(
                    "{} (Pod Security Standards, {} level)",
                    meta.title,
                    level.as_str()
                )
            })
            .collect()
    });
    all.into_iter()
        .zip(helps)
        .map(|((meta, level, check), help)| PssRule {
            meta,
            level,
            check,
            help,
        })
        .collect()
}
