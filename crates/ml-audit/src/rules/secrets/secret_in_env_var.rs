//! Secrets passed as environment variables.
use crate::rules::prelude::*;

declare_rule! {
    id: "secret-in-env-var", category: "secrets", severity: Low, workload: check,
    title: "Secrets should be mounted as files, not passed as environment variables",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    const HELP: &str = "mount the Secret as a volume and read the file; environment variables leak into crash dumps, `/proc/<pid>/environ`, child processes and experiment trackers that log the environment";
    for c in &w.containers {
        let mut push = |pointer: Pointer, message: String| {
            out.push(finding(cx, &META, w, Some(c), &pointer, message).help(HELP));
        };
        for (i, e) in c.spec.env.iter().flatten().enumerate() {
            if let Some(r) = e
                .value_from
                .as_ref()
                .and_then(|v| v.secret_key_ref.as_ref())
            {
                push(
                    c.pointer
                        .key("env")
                        .idx(i)
                        .keys(&["valueFrom", "secretKeyRef"]),
                    format!(
                        "container `{}`: env var `{}` is set from Secret `{}` key `{}`",
                        c.name, e.name, r.name, r.key
                    ),
                );
            }
        }
        for (i, e) in c.spec.env_from.iter().flatten().enumerate() {
            if let Some(r) = e.secret_ref.as_ref() {
                push(
                    c.pointer.key("envFrom").idx(i).key("secretRef"),
                    format!(
                        "container `{}`: every key of Secret `{}` becomes an environment variable",
                        c.name, r.name
                    ),
                );
            }
        }
    }
}
