//! Secrets passed as environment variables.
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::finding;
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "secret-in-env-var",
    "secrets",
    Severity::Low,
    "Secrets should be mounted as files, not passed as environment variables",
    rule_doc!("secret-in-env-var"),
);

/// The rule.
pub struct SecretInEnvVar;

impl Rule for SecretInEnvVar {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        const HELP: &str = "mount the Secret as a volume and read the file; environment variables leak into crash dumps, `/proc/<pid>/environ`, child processes and experiment trackers that log the environment";
        for c in &w.containers {
            for (i, e) in c.spec.env.iter().flatten().enumerate() {
                let Some(r) = e
                    .value_from
                    .as_ref()
                    .and_then(|v| v.secret_key_ref.as_ref())
                else {
                    continue;
                };
                out.push(
                    finding(
                        cx,
                        &META,
                        w,
                        Some(c),
                        &c.pointer
                            .key("env")
                            .idx(i)
                            .keys(&["valueFrom", "secretKeyRef"]),
                        format!(
                            "container `{}`: env var `{}` is set from Secret `{}` key `{}`",
                            c.name, e.name, r.name, r.key
                        ),
                    )
                    .help(HELP),
                );
            }
            for (i, e) in c.spec.env_from.iter().flatten().enumerate() {
                let Some(r) = e.secret_ref.as_ref() else {
                    continue;
                };
                out.push(
                    finding(
                        cx,
                        &META,
                        w,
                        Some(c),
                        &c.pointer.key("envFrom").idx(i).key("secretRef"),
                        format!(
                            "container `{}`: every key of Secret `{}` becomes an environment variable",
                            c.name, r.name
                        ),
                    )
                    .help(HELP),
                );
            }
        }
    }
}
