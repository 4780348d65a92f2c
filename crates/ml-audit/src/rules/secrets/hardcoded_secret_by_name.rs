//! Literal values under names that say "password", "token", "secret".
use super::{report_hits, Class};
use crate::rules::prelude::*;

declare_rule! {
    id: "hardcoded-secret-by-name", category: "secrets", severity: High, workload: check,
    title: "Passwords, tokens and secrets must not be given as literal values",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    const HELP: &str = "put the value in a Secret and mount it as a file (or use `valueFrom.secretKeyRef`); rotate it if this manifest was ever shared";
    report_hits(cx, &META, w, HELP, out, |c, h| {
        let Class::ByName { name, redacted } = &h.class else {
            return None;
        };
        let what = if h.what.starts_with("env var") {
            h.what.clone()
        } else {
            format!("{} (`{name}`)", h.what)
        };
        Some(format!(
            "container `{}`: {what} is given a literal value {redacted}",
            c.name
        ))
    });
}
