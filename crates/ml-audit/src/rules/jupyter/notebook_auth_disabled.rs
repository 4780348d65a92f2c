//! Jupyter servers started with the token or password disabled.
use crate::rules::prelude::*;

declare_rule! {
    id: "notebook-auth-disabled", category: "jupyter", severity: Critical, workload: check,
    title: "Jupyter servers must not disable the token or password",
}

/// The setting (`ServerApp.token`) a string sets to empty, if any; and
/// whether the string sets a non-empty password.
fn empty_setting(s: &str) -> (Option<String>, bool) {
    let mut empty = None;
    let mut password = false;
    if !(s.contains(".token") || s.contains(".password")) {
        return (empty, password);
    }
    for app in [
        "NotebookApp",
        "ServerApp",
        "IdentityProvider",
        "LabApp",
        "PasswordIdentityProvider",
    ] {
        for what in ["token", "password"] {
            let key = format!("{app}.{what}");
            let mut rest = s;
            while let Some(i) = rest.find(&key) {
                let after = &rest[i + key.len()..];
                rest = after;
                // `.token_hashed`, `.tokenize`: another setting.
                if after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let Some(v) = after.trim_start().strip_prefix('=') else {
                    continue;
                };
                let is_empty = v.is_empty()
                    || v.starts_with(char::is_whitespace)
                    || v.starts_with("''")
                    || v.starts_with("\"\"")
                    || v.starts_with("\\'\\'");
                if is_empty {
                    empty.get_or_insert(key.clone());
                } else if what == "password" {
                    password = true;
                }
            }
        }
    }
    (empty, password)
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    for c in &w.containers {
        let mut hits = Vec::new();
        let mut has_password = false;
        for (field, list) in [("command", &c.spec.command), ("args", &c.spec.args)] {
            for (i, a) in list.iter().flatten().enumerate() {
                let (e, p) = empty_setting(a);
                has_password |= p;
                if let Some(k) = e {
                    hits.push((c.pointer.key(field).idx(i), format!("`--{k}` is empty")));
                }
            }
        }
        for (i, e) in c.spec.env.iter().flatten().enumerate() {
            let Some(v) = e.value.as_deref() else {
                continue;
            };
            let (empty, p) = empty_setting(v);
            has_password |= p;
            let ptr = c.pointer.key("env").idx(i).key("value");
            if let Some(k) = empty {
                hits.push((ptr, format!("env var `{}` sets `{k}` empty", e.name)));
            } else if e.name == "JUPYTER_TOKEN" && v.trim().is_empty() {
                hits.push((ptr, "env var `JUPYTER_TOKEN` is empty".to_string()));
            }
        }
        if has_password {
            continue;
        }
        for (ptr, what) in hits {
            out.push(
                finding(cx, &META, w, Some(c), &ptr, format!(
                    "container `{}`: {what}, so the Jupyter server accepts anyone who reaches it (code execution in the pod)",
                    c.name
                ))
                .help("keep Jupyter's token (the default) or set a hashed password; behind Kubeflow, rely on the platform's authenticating proxy *and* keep the token for direct Service access"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::empty_setting;

    #[test]
    fn settings() {
        assert!(empty_setting("--ServerApp.token=''").0.is_some());
        assert!(
            empty_setting("jupyter lab --NotebookApp.token= --ip=0.0.0.0")
                .0
                .is_some()
        );
        assert!(empty_setting("--ServerApp.token=abc").0.is_none());
        assert!(empty_setting("--NotebookApp.password=sha1:abc").1);
        assert!(empty_setting("--ServerApp.token_hashed=''").0.is_none());
    }
}
