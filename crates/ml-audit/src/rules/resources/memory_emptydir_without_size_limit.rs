//! Memory-backed emptyDir volumes without sizeLimit.
use crate::rules::prelude::*;

declare_rule! {
    id: "memory-emptydir-without-size-limit", category: "resources", severity: Low, workload: check,
    title: "Memory-backed emptyDir volumes must set sizeLimit",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
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
