//! `kubectl ml-audit reach`: which workloads can reach which, on which ports,
//! and what is exposed outside the cluster.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ml_audit::netpol::{MissingNamespaces, Options, Query, Reachability};
use ml_audit::rbac::render::dot_string;
use ml_audit::Level;

use crate::emit;
use crate::output::quote::{quote, table};

/// Output formats of `reach`.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum ReachFormat {
    /// A table with the policies that decide each connection.
    Table,
    /// JSON: connections, explanations and exposures.
    Json,
    /// Graphviz.
    Dot,
    /// np-guard netpol-analyzer's line format (`src => dst : conns`).
    Connlist,
}

/// How namespaces without a Namespace object are treated.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum MissingNs {
    /// Verdicts that depend on their labels are reported as unknown.
    Unknown,
    /// They are taken to have only the `kubernetes.io/metadata.name` label.
    NameLabelOnly,
}

/// Arguments of `reach`.
#[derive(Args, Debug)]
pub struct ReachArgs {
    /// Manifests (files and directories).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Only connections from these workloads: `namespace/workload`,
    /// `namespace`, `namespace:label=value`, or `external`.
    #[arg(long, value_name = "SEL")]
    from: Option<String>,
    /// Only connections to these workloads (same syntax as --from).
    #[arg(long, value_name = "SEL")]
    to: Option<String>,
    /// Only this port: `8080` (TCP) or `udp/53`.
    #[arg(long, value_name = "P")]
    port: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReachFormat::Table)]
    format: ReachFormat,
    /// Namespaces the input declares no Namespace object for.
    #[arg(long, value_enum, default_value_t = MissingNs::Unknown)]
    missing_namespaces: MissingNs,
}

/// Runs `reach`.
pub fn run(args: ReachArgs) -> u8 {
    let query = match Query::parse(
        args.from.as_deref(),
        args.to.as_deref(),
        args.port.as_deref(),
    ) {
        Ok(q) => q,
        Err(e) => {
            say!("error: {e}");
            return 2;
        }
    };
    if args.paths.is_empty() {
        say!("error: nothing to analyse: give a PATH (see --help)");
        return 2;
    }
    let inv = match crate::read_inputs(&args.paths, &[]) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let mut code = 0;
    for d in &inv.diagnostics {
        if d.level == Level::Error {
            say!(
                "error: {}:{}: {}",
                quote(&d.file),
                d.line,
                quote(&d.message)
            );
            code = 2;
        }
    }
    let options = Options {
        missing_namespaces: match args.missing_namespaces {
            MissingNs::Unknown => MissingNamespaces::Unknown,
            MissingNs::NameLabelOnly => MissingNamespaces::NameLabelOnly,
        },
    };
    let r = Reachability::build(&inv, &options);
    for n in &r.policies.notes {
        say!("warning: {}", quote(n));
    }

    if args.format == ReachFormat::Connlist && query.is_everything() {
        let mut out = String::new();
        for l in r.connlist() {
            out.push_str(&quote(&l));
            out.push('\n');
        }
        for u in r.unknown_list() {
            say!(
                "warning: unknown (depends on undeclared namespace labels): {}",
                quote(&u)
            );
        }
        return emit(&out, code);
    }

    let shown = r.query(&query);
    let explain = shown.len() <= 500;
    match args.format {
        ReachFormat::Connlist => {
            let mut s = String::new();
            for l in &shown {
                if !l.allowed.is_empty() {
                    s.push_str(&quote(&format!(
                        "{} => {} : {}",
                        l.src_name, l.dst_name, l.allowed
                    )));
                    s.push('\n');
                }
                if !l.unknown.is_empty() {
                    say!(
                        "warning: unknown (depends on undeclared namespace labels): {}",
                        quote(&format!("{} => {} : {}", l.src_name, l.dst_name, l.unknown))
                    );
                }
            }
            emit(&s, code)
        }
        ReachFormat::Dot => {
            let mut s = String::from("digraph reach {\n  rankdir=LR;\n  node [shape=box];\n");
            for l in &shown {
                if !l.allowed.is_empty() {
                    s.push_str(&format!(
                        "  {} -> {} [label={}];\n",
                        dot_string(&l.src_name),
                        dot_string(&l.dst_name),
                        dot_string(&l.allowed.to_string())
                    ));
                }
                if !l.unknown.is_empty() {
                    s.push_str(&format!(
                        "  {} -> {} [label={}, style=dashed];\n",
                        dot_string(&l.src_name),
                        dot_string(&l.dst_name),
                        dot_string(&format!("unknown: {}", l.unknown))
                    ));
                }
            }
            s.push_str("}\n");
            emit(&s, code)
        }
        ReachFormat::Json => {
            let conns: Vec<serde_json::Value> = shown
                .iter()
                .map(|l| {
                    let mut v = serde_json::json!({
                        "src": l.src_name,
                        "dst": l.dst_name,
                        "allowed": if l.allowed.is_empty() { String::new() } else { l.allowed.to_string() },
                        "unknown": if l.unknown.is_empty() { String::new() } else { l.unknown.to_string() },
                    });
                    if explain {
                        let e = r.explain(l.src, l.dst);
                        v["steps"] = serde_json::to_value(&e.steps).unwrap_or_default();
                        v["reasons"] = serde_json::to_value(&e.reasons).unwrap_or_default();
                    }
                    v
                })
                .collect();
            let exposures: Vec<serde_json::Value> = r
                .exposures
                .iter()
                .map(|x| {
                    let o = inv.object(x.object);
                    serde_json::json!({
                        "workload": r.peers[x.peer].display(),
                        "via": x.via,
                        "object": o.display_name(),
                        "ports": x.ports.to_string(),
                        "reachable": x.reachable.to_string(),
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "connections": conns,
                "exposures": exposures,
                "classes": r.classes.len(),
                "peers": r.peers.iter().filter(|p| !p.synthetic).count(),
            });
            emit(
                &format!(
                    "{}\n",
                    serde_json::to_string_pretty(&doc).unwrap_or_default()
                ),
                code,
            )
        }
        ReachFormat::Table => {
            let mut rows: Vec<[String; 5]> = vec![[
                "SOURCE".into(),
                "DESTINATION".into(),
                "VERDICT".into(),
                "CONNECTIONS".into(),
                "DECIDED BY".into(),
            ]];
            for l in &shown {
                let by = if explain {
                    let e = r.explain(l.src, l.dst);
                    let mut by: Vec<String> = e
                        .steps
                        .iter()
                        .filter(|s| {
                            s.tier != "default" || e.steps.iter().all(|x| x.tier == "default")
                        })
                        .map(|s| {
                            if s.tier == "default" {
                                "no policy (default allow)".to_string()
                            } else {
                                format!("{} {} {} ({})", s.direction, s.verdict, s.policy, s.tier)
                            }
                        })
                        .collect();
                    by.dedup();
                    by.extend(e.reasons);
                    by.join("; ")
                } else {
                    String::new()
                };
                let (verdict, conns) = match (l.allowed.is_empty(), l.unknown.is_empty()) {
                    (true, true) => (
                        "denied",
                        query
                            .port
                            .as_ref()
                            .map(|p| p.to_string())
                            .unwrap_or_else(|| "All Connections".into()),
                    ),
                    (false, true) => ("allowed", l.allowed.to_string()),
                    (true, false) => ("unknown", l.unknown.to_string()),
                    (false, false) => (
                        "allowed+unknown",
                        format!("{} (unknown: {})", l.allowed, l.unknown),
                    ),
                };
                rows.push([
                    l.src_name.clone(),
                    l.dst_name.clone(),
                    verdict.into(),
                    conns,
                    by,
                ]);
            }
            let mut s = table(&rows);
            if !r.exposures.is_empty() && query.to.is_none() {
                s.push_str("\nExposed outside the cluster:\n");
                for x in &r.exposures {
                    let o = inv.object(x.object);
                    s.push_str(&format!(
                        "  {}\n",
                        quote(&format!(
                            "{} via {} ({:?}): ports {}, reachable {}",
                            r.peers[x.peer].display(),
                            o.display_name(),
                            x.via,
                            x.ports,
                            x.reachable
                        ))
                    ));
                }
            }
            emit(&s, code)
        }
    }
}
