//! `who-can` and `rbac paths`: queries of the RBAC privilege graph.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use ml_audit::rbac::{render, Goal, RbacGraph, Subject, Target};
use ml_audit::Inventory;
use serde_json::json;

use crate::output::quote::{quote, quote_text, table};
use crate::{emit, read_inputs, usage_error};

/// Output formats of `who-can`.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum TableFormat {
    /// A table for people.
    Table,
    /// JSON.
    Json,
}

/// Output formats of `rbac paths`.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum PathFormat {
    /// Each step with the object, file:line and rule that grants it.
    Text,
    /// JSON.
    Json,
    /// Graphviz dot.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}

/// Arguments of `who-can`.
#[derive(Args, Debug)]
pub struct WhoCanArgs {
    /// The verb (get, list, create, impersonate, bind, ...).
    verb: String,
    /// The resource as `kubectl auth can-i` writes it: `pods`, `pods/exec`,
    /// `deployments.apps`, `rayclusters.ray.io`, or a URL such as `/metrics`.
    resource: String,
    /// The namespace (without it: cluster-wide, which only ClusterRoleBindings grant).
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// The name of the object asked for.
    #[arg(long, value_name = "N")]
    resource_name: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
    /// Files and directories to read.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A file to read; `-` reads standard input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    files: Vec<String>,
}

/// `rbac` subcommands.
#[derive(Subcommand, Debug)]
pub enum RbacCommand {
    /// Escalation paths from a subject.
    ///
    /// Subjects are written `User:alice`, `Group:team-a`, or
    /// `ServiceAccount:NAMESPACE/NAME` (also `sa:NAMESPACE/NAME`).
    Paths(PathsArgs),
}

/// Arguments of `rbac paths`.
#[derive(Args, Debug)]
pub struct PathsArgs {
    /// Where to start: `User:NAME`, `Group:NAME` or `ServiceAccount:NS/NAME`.
    #[arg(long, value_name = "SUBJECT")]
    from: String,
    /// Where to go: `cluster-admin`, or `VERB/RESOURCE` (`get/secrets`,
    /// `create/pods/exec`); without it, every node the subject reaches.
    #[arg(long, value_name = "TARGET")]
    to: Option<String>,
    /// Namespace of a VERB/RESOURCE target (default: cluster-wide).
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PathFormat::Text)]
    format: PathFormat,
    /// Files and directories to read.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A file to read; `-` reads standard input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    files: Vec<String>,
}

/// `kubectl ml-audit who-can`.
pub fn who_can(a: WhoCanArgs) -> u8 {
    let inv = match read_inputs(&a.paths, &a.files) {
        Ok(i) => i,
        Err(c) => return c,
    };
    let g = RbacGraph::build(&inv);
    let req = g.request(
        &a.verb,
        &a.resource,
        a.namespace.as_deref(),
        a.resource_name.as_deref(),
    );
    let ans = g.who_can_request(&req);
    match a.format {
        TableFormat::Json => {
            let direct: Vec<_> = ans
                .direct
                .iter()
                .map(|d| {
                    let [b, r] = render::cite(&g, &inv, &d.cause);
                    json!({"subject": d.subject.to_string(), "binding": b, "rule": r})
                })
                .collect();
            let esc: Vec<_> = ans
                .escalation
                .iter()
                .map(|(s, p)| json!({"subject": s.to_string(), "steps": render::path_json(&g, &inv, p)}))
                .collect();
            emit(
                &format!(
                    "{}\n",
                    serde_json::to_string_pretty(&json!({
                        "request": req.describe(),
                        "direct": direct,
                        "escalation": esc,
                    }))
                    .unwrap_or_default()
                ),
                report_errors(&inv),
            )
        }
        TableFormat::Table => {
            let mut s = format!(
                "Who can {}\n\nDirectly ({}):\n",
                quote(&req.describe()),
                ans.direct.len()
            );
            let mut rows = vec![[
                "SUBJECT".to_string(),
                "BINDING".to_string(),
                "ROLE".to_string(),
                "RULE".to_string(),
            ]];
            for d in &ans.direct {
                let [b, r] = render::cite(&g, &inv, &d.cause);
                rows.push([
                    d.subject.to_string(),
                    format!("{} ({})", b.object, at(&b)),
                    r.object.clone(),
                    format!("{} ({})", r.text, at(&r)),
                ]);
            }
            s.push_str(&table(&rows));
            s.push_str(&format!("\nBy escalation ({}):\n", ans.escalation.len()));
            for (subj, p) in &ans.escalation {
                s.push_str(&format!(
                    "{} ({} steps)\n",
                    quote(&subj.to_string()),
                    p.steps.len()
                ));
                s.push_str(&path_text(&g, &inv, p));
            }
            emit(&s, report_errors(&inv))
        }
    }
}

/// `file:line` of a citation (the file alone for built-in objects).
fn at(c: &render::Citation) -> String {
    if c.line == 0 {
        c.file.clone()
    } else {
        format!("{}:{}", c.file, c.line)
    }
}

/// A path as text, one step a line with its citations under it; every
/// name escaped ([`render::path_text`] writes them as they are).
fn path_text(g: &RbacGraph, inv: &Inventory, p: &ml_audit::rbac::Path) -> String {
    let mut s = String::new();
    for (i, st) in p.steps.iter().enumerate() {
        let detail = if st.edge.detail.is_empty() {
            String::new()
        } else {
            format!(" [{}]", st.edge.detail)
        };
        s.push_str(&format!(
            "  {}. {}\n",
            i + 1,
            quote(&format!(
                "{} {} {}{}",
                st.from,
                st.edge.kind.describe(),
                st.to,
                detail
            ))
        ));
        for c in render::citations(g, inv, &st.edge) {
            s.push_str(&format!(
                "       {}\n",
                quote(&format!(
                    "{} ({}) {}: {}",
                    c.object,
                    at(&c),
                    c.pointer,
                    c.text
                ))
            ));
        }
    }
    s
}

fn report_errors(inv: &Inventory) -> u8 {
    let errors: Vec<_> = inv
        .diagnostics
        .iter()
        .filter(|d| d.level == ml_audit::Level::Error)
        .collect();
    for d in &errors {
        say!(
            "error: {}:{}: {}",
            quote(&d.file),
            d.line,
            quote(&d.message)
        );
    }
    if errors.is_empty() {
        0
    } else {
        2
    }
}

/// `kubectl ml-audit rbac ...`.
pub fn rbac(c: RbacCommand) -> u8 {
    match c {
        RbacCommand::Paths(a) => paths(a),
    }
}

fn paths(a: PathsArgs) -> u8 {
    let from: Subject = match a.from.parse() {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let inv = match read_inputs(&a.paths, &a.files) {
        Ok(i) => i,
        Err(c) => return c,
    };
    let g = RbacGraph::build(&inv);
    let goal = match a.to.as_deref() {
        None => Goal::Everything,
        Some("cluster-admin") => Goal::ClusterAdmin,
        Some(t) => {
            let Some((verb, resource)) = t.split_once('/') else {
                return usage_error(&format!(
                    "bad --to `{t}`: expected cluster-admin or VERB/RESOURCE (get/secrets)"
                ));
            };
            Goal::Request(g.request(verb, resource, a.namespace.as_deref(), None))
        }
    };
    let found: Vec<(Target, ml_audit::rbac::Path)> = g.paths(&from, &goal);
    let code = report_errors(&inv);
    match a.format {
        PathFormat::Text => {
            let mut s = String::new();
            if found.is_empty() {
                s.push_str(&format!(
                    "{}: no path to {}\n",
                    quote(&from.to_string()),
                    quote(a.to.as_deref().unwrap_or("anything"))
                ));
            }
            for (t, p) in &found {
                if p.steps.is_empty() {
                    s.push_str(&format!(
                        "{} is allowed directly\n",
                        quote(&from.to_string())
                    ));
                    continue;
                }
                s.push_str(&format!(
                    "{} ({} steps)\n",
                    quote(&format!("{from} -> {t}")),
                    p.steps.len()
                ));
                s.push_str(&path_text(&g, &inv, p));
            }
            emit(&s, code)
        }
        PathFormat::Json => {
            let v: Vec<_> = found
                .iter()
                .map(|(t, p)| json!({"from": from.to_string(), "to": t.to_string(), "steps": render::path_json(&g, &inv, p)}))
                .collect();
            emit(
                &format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default()),
                code,
            )
        }
        // Graph formats quote their names by their own syntax; the
        // controls they keep are escaped here.
        PathFormat::Dot => emit(&quote_text(&render::dot(&found)), code),
        PathFormat::Mermaid => emit(&quote_text(&render::mermaid(&found)), code),
    }
}
