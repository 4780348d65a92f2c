//! Accelerators requested without an equal limit.
use crate::rules::prelude::*;
use crate::rules::util::is_accelerator;

declare_rule! {
    id: "accelerator-request-without-limit", category: "resources", severity: Medium, workload: check,
    title: "GPU and other extended resources must be requested with an equal limit",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    for c in &w.containers {
        let Some(res) = c.spec.resources.as_ref() else {
            continue;
        };
        let Some(requests) = res.requests.as_ref() else {
            continue;
        };
        for (k, v) in requests {
            if !is_accelerator(k) {
                continue;
            }
            let limit = res.limits.as_ref().and_then(|l| l.get(k));
            let why = match limit {
                None => "with no limit".to_string(),
                Some(l) if l.0.trim() != v.0.trim() => {
                    format!("with a different limit ({})", l.0)
                }
                Some(_) => continue,
            };
            out.push(
                finding(
                    cx,
                    &META,
                    w,
                    Some(c),
                    &c.pointer.keys(&["resources", "requests", k]),
                    format!(
                        "container `{}` requests {} `{k}` {why}: extended resources cannot be overcommitted, and the API server rejects such pods",
                        c.name, v.0
                    ),
                )
                .help(format!("set `resources.limits.{k}` to {} (or give only the limit: the request defaults to it)", v.0)),
            );
        }
    }
}
