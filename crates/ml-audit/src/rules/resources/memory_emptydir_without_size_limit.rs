//! Memory-backed emptyDir volumes without sizeLimit.
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::finding;
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "memory-emptydir-without-size-limit",
    "resources",
    Severity::Low,
    "Memory-backed emptyDir volumes must set sizeLimit",
    rule_doc!("memory-emptydir-without-size-limit"),
);

/// The rule.
pub struct MemoryEmptyDirWithoutSizeLimit;

impl Rule for MemoryEmptyDirWithoutSizeLimit {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        for (i, v) in w.spec.volumes.iter().flatten().enumerate() {
            let Some(e) = &v.empty_dir else {
                continue;
            };
            if e.medium.as_deref() == Some("Memory") && e.size_limit.is_none() {
                out.push(
                    finding(
                        cx,
                        &META,
                        w,
                        None,
                        &w.field_pointer("volumes").idx(i).keys(&["emptyDir", "medium"]),
                        format!(
                            "volume `{}` is a memory-backed emptyDir without `sizeLimit`: what is written there counts against the node's memory, unbounded",
                            v.name
                        ),
                    )
                    .help("set `emptyDir.sizeLimit` (for `/dev/shm`, a few GiB is typical) and keep the container memory limit above it"),
                );
            }
        }
    }
}
