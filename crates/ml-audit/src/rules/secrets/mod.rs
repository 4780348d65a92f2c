//! Secrets in plain sight: literal credentials in `env[].value`, `args` and
//! `command`, and Secrets passed as environment variables.
//!
//! The secret text never leaves this module: findings carry its kind, the
//! variable or flag name and a redacted form ([`detect::redact`]), and
//! [`secret_spans`] tells front ends which source ranges to mask when they
//! show source lines.

pub mod detect;
pub(super) mod hardcoded_credential;
pub(super) mod hardcoded_secret_by_name;
pub(super) mod secret_in_env_var;

use std::rc::Rc;

use crate::finding::Finding;
use crate::inventory::Inventory;
use crate::node::{Pointer, Span};
use crate::rule::{Context, RuleMeta};
use crate::rules::util::finding;
use crate::workload::{ContainerRef, Workload};

/// Env var names that hold one known kind of credential.
fn known_credential(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_uppercase().as_str() {
        "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN" => "AWS secret access key",
        "WANDB_API_KEY" => "Weights & Biases API key",
        "HF_TOKEN" | "HUGGING_FACE_HUB_TOKEN" | "HUGGINGFACEHUB_API_TOKEN" | "HF_API_TOKEN" => {
            "Hugging Face token"
        }
        "OPENAI_API_KEY" | "ANTHROPIC_API_KEY" | "COHERE_API_KEY" | "MISTRAL_API_KEY" => {
            "OpenAI-style API key"
        }
        "AZURE_STORAGE_KEY"
        | "AZURE_STORAGE_ACCESS_KEY"
        | "AZURE_CLIENT_SECRET"
        | "AZURE_STORAGE_CONNECTION_STRING"
        | "AZURE_OPENAI_API_KEY" => "Azure key",
        "GOOGLE_APPLICATION_CREDENTIALS_JSON" | "GCP_SERVICE_ACCOUNT_KEY" => {
            "GCP service-account key"
        }
        _ => return None,
    })
}

/// How a site holds a secret.
#[derive(Clone, Debug)]
pub(crate) enum Class {
    /// A recognised credential format (or a variable that only ever holds one).
    Credential {
        kind: &'static str,
        redacted: String,
    },
    /// A literal value under a name that says "secret".
    ByName { name: String, redacted: String },
}

/// One place where a literal secret was found.
pub(crate) struct SiteHit {
    /// The container's index in the workload's `containers`.
    pub container: usize,
    pub pointer: Pointer,
    /// `env var `X``, `args[2]`, `command[0]`.
    pub what: String,
    pub class: Class,
}

/// `NAME=value`, `--flag=value` and `--flag value` pairs in a string.
fn assignments(s: &str) -> Vec<(String, String)> {
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_matches(['"', '\'']);
        let w = w.strip_prefix("export").map_or(w, |_| w);
        if let Some((n, v)) = w.split_once('=') {
            let n = n.trim_start_matches('-');
            if !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                out.push((n.to_string(), v.trim_matches(['"', '\'']).to_string()));
            }
        } else if w.starts_with("--") && w.len() > 2 {
            if let Some(next) = words.get(i + 1) {
                if !next.starts_with('-') {
                    out.push((
                        w.trim_start_matches('-').to_string(),
                        next.trim_matches(['"', '\'']).to_string(),
                    ));
                }
            }
        }
    }
    out
}

fn classify_text(text: &str) -> Option<Class> {
    if detect::well_known_dev_credential(text) {
        return None;
    }
    if let Some(h) = detect::scan(text).into_iter().next() {
        return Some(Class::Credential {
            kind: h.kind,
            redacted: detect::redact(&text[h.start..h.start + h.len]),
        });
    }
    let mut by_name = None;
    for (n, v) in assignments(text) {
        if !detect::literal_secret_value(&v) {
            continue;
        }
        // The last segment of `--NotebookApp.password` or `Foo.token`.
        let last = n.rsplit('.').next().unwrap_or(&n);
        if let Some(kind) = known_credential(&n.replace('-', "_")) {
            return Some(Class::Credential {
                kind,
                redacted: detect::redact_length(&v),
            });
        }
        if by_name.is_none() && (detect::secret_name(&n) || detect::secret_name(last)) {
            by_name = Some(Class::ByName {
                name: n.clone(),
                redacted: detect::redact_length(&v),
            });
        }
    }
    by_name
}

/// Reports each literal secret in `w` that `message` describes (given its
/// container; `None` for a secret of another class), at the secret.
pub(crate) fn report_hits(
    cx: &Context<'_>,
    meta: &RuleMeta,
    w: &Workload,
    help: &'static str,
    out: &mut Vec<Finding>,
    message: impl Fn(&ContainerRef, &SiteHit) -> Option<String>,
) {
    for h in workload_hits(cx, w).iter() {
        let c = &w.containers[h.container];
        if let Some(m) = message(c, h) {
            out.push(finding(cx, meta, w, Some(c), &h.pointer, m).help(help));
        }
    }
}

/// Every literal secret in a workload's containers, found once per workload
/// for the rules that report them.
pub(crate) fn workload_hits(cx: &Context<'_>, w: &Workload) -> Rc<Vec<SiteHit>> {
    cx.per_workload(w, site_hits)
}

/// Every literal secret in a workload's containers.
pub(crate) fn site_hits(w: &Workload) -> Vec<SiteHit> {
    let mut out = Vec::new();
    for (ci, c) in w.containers.iter().enumerate() {
        for (i, e) in c.spec.env.iter().flatten().enumerate() {
            let Some(v) = e.value.as_deref() else {
                continue;
            };
            let class = if detect::well_known_dev_credential(v) {
                None
            } else if let Some(h) = detect::scan(v).into_iter().next() {
                Some(Class::Credential {
                    kind: h.kind,
                    redacted: detect::redact(&v[h.start..h.start + h.len]),
                })
            } else if !detect::literal_secret_value(v) {
                None
            } else if let Some(kind) = known_credential(&e.name) {
                Some(Class::Credential {
                    kind,
                    redacted: detect::redact_length(v),
                })
            } else if detect::secret_name(&e.name) {
                Some(Class::ByName {
                    name: e.name.clone(),
                    redacted: detect::redact_length(v),
                })
            } else {
                None
            };
            // (Pointer and label only for a hit: most values are none.)
            if let Some(class) = class {
                out.push(SiteHit {
                    container: ci,
                    pointer: c.pointer.key("env").idx(i).key("value"),
                    what: format!("env var `{}`", e.name),
                    class,
                });
            }
        }
        for (field, list) in [("command", &c.spec.command), ("args", &c.spec.args)] {
            let list = list.as_deref().unwrap_or_default();
            let mut skip = false;
            for (i, a) in list.iter().enumerate() {
                if std::mem::take(&mut skip) {
                    continue;
                }
                let mut at = i;
                let mut class = classify_text(a);
                // `--password` `hunter2` as two items: the value is the finding.
                if class.is_none() && i + 1 < list.len() && a.starts_with("--") && !a.contains('=')
                {
                    class = classify_text(&format!("{a} {}", list[i + 1]));
                    at = i + 1;
                    skip = class.is_some();
                }
                if let Some(class) = class {
                    out.push(SiteHit {
                        container: ci,
                        pointer: c.pointer.key(field).idx(at),
                        what: format!("{field}[{at}]"),
                        class,
                    });
                }
            }
        }
    }
    out
}

/// Source ranges (file path, span of the value) that hold a literal secret,
/// for front ends to mask before they print source lines.
pub fn secret_spans(inv: &Inventory) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    for w in &inv.workloads {
        let obj = inv.object(w.object);
        for h in site_hits(w) {
            if let Some(n) = obj.root.pointer(h.pointer.as_str()) {
                // The file the value is written in (a rendered object's
                // patch, base or kustomization).
                let file = inv.place(obj, h.pointer.as_str()).file;
                out.push((file.to_string(), n.span));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Where the literal secrets are and what they are, found in one pass
/// over the workloads (in parallel): the spans [`secret_spans`] gives, and
/// the literal values themselves (each value those spans cover, and the
/// credentials and `NAME=value` secrets inside it), for front ends to mask
/// wherever a source line shows them (the value written once at a YAML
/// anchor and used at an alias, the same token in another object). The
/// values are sorted, without duplicates, none shorter than four bytes.
#[allow(clippy::type_complexity)] // a pair of the two lists, as named above
pub fn secret_sites(inv: &Inventory) -> (Vec<(String, Span)>, Vec<String>) {
    use rayon::prelude::*;
    type Sites = (Vec<(String, Span)>, Vec<String>);
    let per: Vec<Sites> = inv
        .workloads
        .par_iter()
        .map(|w| {
            let obj = inv.object(w.object);
            let (mut spans, mut values) = (Vec::new(), Vec::new());
            for h in site_hits(w) {
                let Some(n) = obj.root.pointer(h.pointer.as_str()) else {
                    continue;
                };
                let file = inv.place(obj, h.pointer.as_str()).file;
                spans.push((file.to_string(), n.span));
                if let Some(v) = n.as_str() {
                    values_of(v, &mut values);
                }
            }
            (spans, values)
        })
        .collect();
    let (mut spans, mut values): (Vec<_>, Vec<_>) = (Vec::new(), Vec::new());
    for (s, v) in per {
        spans.extend(s);
        values.extend(v);
    }
    spans.sort();
    spans.dedup();
    values.retain(|v| v.len() >= 4);
    values.sort();
    values.dedup();
    (spans, values)
}

/// The secrets in a value that holds one: its lines, the credentials in
/// it, and the values of its secret `NAME=value` pairs.
fn values_of(v: &str, out: &mut Vec<String>) {
    out.extend(v.lines().map(str::trim).map(str::to_string));
    out.extend(
        detect::scan(v)
            .into_iter()
            .map(|d| v[d.start..d.start + d.len].to_string()),
    );
    out.extend(
        assignments(v)
            .into_iter()
            .filter(|(n, value)| {
                let last = n.rsplit('.').next().unwrap_or(n);
                detect::literal_secret_value(value)
                    && (known_credential(&n.replace('-', "_")).is_some()
                        || detect::secret_name(n)
                        || detect::secret_name(last))
            })
            .map(|(_, value)| value),
    );
}
