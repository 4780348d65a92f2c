//! `who-can` and `rbac paths`: queries of the RBAC privilege graph.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use ml_audit::rbac::{render, Goal, RbacGraph, Subject, Target};
use ml_audit::Inventory;
use serde_json::json;

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
            emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&json!({
                    "request": req.describe(),
                    "direct": direct,
                    "escalation": esc,
                }))
                .unwrap_or_default()
            ));
        }
        TableFormat::Table => {
            let mut s = format!(
                "Who can {}\n\nDirectly ({}):\n",
                req.describe(),
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
                let at = |c: &render::Citation| {
                    if c.line == 0 {
                        c.file.clone()
                    } else {
                        format!("{}:{}", c.file, c.line)
                    }
                };
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
                s.push_str(&format!("{subj} ({} steps)\n", p.steps.len()));
                s.push_str(&render::path_text(&g, &inv, p));
            }
            emit(&s);
        }
    }
    report_errors(&inv)
}

fn table(rows: &[[String; 4]]) -> String {
    let mut w = [0usize; 4];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.len());
        }
    }
    let mut s = String::new();
    for r in rows {
        let line = format!(
            "{:<a$}  {:<b$}  {:<c$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            a = w[0],
            b = w[1],
            c = w[2]
        );
        s.push_str(line.trim_end());
        s.push('\n');
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
        eprintln!("error: {}:{}: {}", d.file, d.line, d.message);
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
    match a.format {
        PathFormat::Text => {
            let mut s = String::new();
            if found.is_empty() {
                s.push_str(&format!(
                    "{from}: no path to {}\n",
                    a.to.as_deref().unwrap_or("anything")
                ));
            }
            for (t, p) in &found {
                if p.steps.is_empty() {
                    s.push_str(&format!("{from} is allowed directly\n"));
                    continue;
                }
                s.push_str(&format!("{from} -> {t} ({} steps)\n", p.steps.len()));
                s.push_str(&render::path_text(&g, &inv, p));
            }
            emit(&s);
        }
        PathFormat::Json => {
            let v: Vec<_> = found
                .iter()
                .map(|(t, p)| json!({"from": from.to_string(), "to": t.to_string(), "steps": render::path_json(&g, &inv, p)}))
                .collect();
            emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            ));
        }
        PathFormat::Dot => emit(&render::dot(&found)),
        PathFormat::Mermaid => emit(&render::mermaid(&found)),
    }
    report_errors(&inv)
}
