//! The effective security context of each container, resolved once: the
//! container's own setting where it has one, else the pod's. Every value
//! keeps the pointer of the node that set it, so a finding points at the
//! line to change (the pod-level `runAsUser: 0`, not the container).

use k8s_openapi::api::core::v1::{PodSecurityContext, SecurityContext};

use crate::node::Pointer;
use crate::workload::{ContainerRef, Workload};

/// A value and where it was set.
#[derive(Clone, Debug, PartialEq)]
pub struct Set<T> {
    /// The value.
    pub value: T,
    /// The pointer of the node that set it.
    pub pointer: Pointer,
    /// Whether it comes from the pod-level `securityContext`.
    pub from_pod: bool,
}

/// The security settings a container actually runs with.
#[derive(Clone, Debug, Default)]
pub struct Effective {
    /// `runAsNonRoot`.
    pub run_as_non_root: Option<Set<bool>>,
    /// `runAsUser`.
    pub run_as_user: Option<Set<i64>>,
    /// `runAsGroup`.
    pub run_as_group: Option<Set<i64>>,
    /// `seccompProfile.type`.
    pub seccomp: Option<Set<String>>,
    /// `appArmorProfile.type`.
    pub apparmor: Option<Set<String>>,
    /// `privileged` (container only).
    pub privileged: Option<Set<bool>>,
    /// `allowPrivilegeEscalation` (container only).
    pub allow_privilege_escalation: Option<Set<bool>>,
    /// `readOnlyRootFilesystem` (container only).
    pub read_only_root_filesystem: Option<Set<bool>>,
    /// `procMount` (container only).
    pub proc_mount: Option<Set<String>>,
    /// `capabilities.add` (container only).
    pub cap_add: Vec<Set<String>>,
    /// `capabilities.drop` (container only).
    pub cap_drop: Vec<Set<String>>,
    /// `windowsOptions.hostProcess`.
    pub host_process: Option<Set<bool>>,
}

impl Effective {
    /// Whether the container may run as UID 0: it neither sets
    /// `runAsNonRoot: true` nor a non-zero `runAsUser`.
    pub fn may_run_as_root(&self) -> bool {
        let non_root = self.run_as_non_root.as_ref().is_some_and(|s| s.value);
        let uid_nonzero = self.run_as_user.as_ref().is_some_and(|s| s.value != 0);
        !(non_root || uid_nonzero)
    }

    /// Whether the container explicitly runs as UID 0.
    pub fn runs_as_root_explicitly(&self) -> bool {
        self.run_as_user.as_ref().is_some_and(|s| s.value == 0)
    }

    /// Whether `ALL` capabilities are dropped.
    pub fn drops_all(&self) -> bool {
        self.cap_drop.iter().any(|c| c.value == "ALL")
    }
}

/// The container's value, else the pod's, with where it was set. Pointers
/// are built only for a value that is set (most are not, and this runs for
/// every container in many rules).
fn pick<T: Clone>(
    c: Option<T>,
    cp: impl FnOnce() -> Pointer,
    p: Option<T>,
    pp: impl FnOnce() -> Pointer,
) -> Option<Set<T>> {
    match (c, p) {
        (Some(v), _) => Some(Set {
            value: v,
            pointer: cp(),
            from_pod: false,
        }),
        (None, Some(v)) => Some(Set {
            value: v,
            pointer: pp(),
            from_pod: true,
        }),
        _ => None,
    }
}

/// Resolves the effective security context of one container of a workload.
pub fn effective(w: &Workload, c: &ContainerRef) -> Effective {
    let default_pod = PodSecurityContext::default();
    let default_ctr = SecurityContext::default();
    let pod = w.spec.security_context.as_ref().unwrap_or(&default_pod);
    let ctr = c.spec.security_context.as_ref().unwrap_or(&default_ctr);
    let pp = w.field_pointer("securityContext");
    let cp = c.pointer.key("securityContext");
    let only = |v: Option<bool>, k: &str| {
        v.map(|value| Set {
            value,
            pointer: cp.key(k),
            from_pod: false,
        })
    };
    let caps = ctr.capabilities.as_ref();
    let list = |v: Option<&Vec<String>>, k: &str| -> Vec<Set<String>> {
        v.into_iter()
            .flatten()
            .enumerate()
            .map(|(i, s)| Set {
                value: s.clone(),
                pointer: cp.keys(&["capabilities", k]).idx(i),
                from_pod: false,
            })
            .collect()
    };
    Effective {
        run_as_non_root: pick(
            ctr.run_as_non_root,
            || cp.key("runAsNonRoot"),
            pod.run_as_non_root,
            || pp.key("runAsNonRoot"),
        ),
        run_as_user: pick(
            ctr.run_as_user,
            || cp.key("runAsUser"),
            pod.run_as_user,
            || pp.key("runAsUser"),
        ),
        run_as_group: pick(
            ctr.run_as_group,
            || cp.key("runAsGroup"),
            pod.run_as_group,
            || pp.key("runAsGroup"),
        ),
        seccomp: pick(
            ctr.seccomp_profile.as_ref().map(|s| s.type_.clone()),
            || cp.keys(&["seccompProfile", "type"]),
            pod.seccomp_profile.as_ref().map(|s| s.type_.clone()),
            || pp.keys(&["seccompProfile", "type"]),
        ),
        apparmor: pick(
            ctr.app_armor_profile.as_ref().map(|s| s.type_.clone()),
            || cp.keys(&["appArmorProfile", "type"]),
            pod.app_armor_profile.as_ref().map(|s| s.type_.clone()),
            || pp.keys(&["appArmorProfile", "type"]),
        ),
        privileged: only(ctr.privileged, "privileged"),
        allow_privilege_escalation: only(
            ctr.allow_privilege_escalation,
            "allowPrivilegeEscalation",
        ),
        read_only_root_filesystem: only(ctr.read_only_root_filesystem, "readOnlyRootFilesystem"),
        proc_mount: ctr.proc_mount.clone().map(|value| Set {
            value,
            pointer: cp.key("procMount"),
            from_pod: false,
        }),
        cap_add: list(caps.and_then(|c| c.add.as_ref()), "add"),
        cap_drop: list(caps.and_then(|c| c.drop.as_ref()), "drop"),
        host_process: pick(
            ctr.windows_options.as_ref().and_then(|w| w.host_process),
            || cp.keys(&["windowsOptions", "hostProcess"]),
            pod.windows_options.as_ref().and_then(|w| w.host_process),
            || pp.keys(&["windowsOptions", "hostProcess"]),
        ),
    }
}
