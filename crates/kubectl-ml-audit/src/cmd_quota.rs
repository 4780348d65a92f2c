//! `kubectl ml-audit quota`: requested vs allowed, per namespace and per
//! Kueue ClusterQueue.

use clap::{Args, ValueEnum};
use ml_audit::quota::{Amounts, Ledger, Quantity};
use ml_audit::{Inventory, Level};
use serde_json::{json, Value};

use crate::emit;
use crate::output::quote::{self, quote};

/// Output formats of `quota`.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq, Default)]
pub enum QuotaFormat {
    /// One table per namespace and per ClusterQueue.
    #[default]
    Table,
    /// The same as JSON.
    Json,
}

/// Arguments of `quota`.
#[derive(Args, Debug)]
pub struct QuotaArgs {
    /// Files and directories to read (directories are walked, .gitignore aware).
    #[arg(value_name = "PATH")]
    paths: Vec<std::path::PathBuf>,
    /// A file to read; `-` reads standard input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    files: Vec<String>,
    /// Only this namespace (and the ClusterQueues its LocalQueues use).
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    namespace: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = QuotaFormat::Table)]
    format: QuotaFormat,
}

/// One line of a namespace table.
struct Row {
    key: String,
    requested: Option<Quantity>,
    allowed: Option<Quantity>,
    by: String,
}

fn normalize(key: &str) -> String {
    match key {
        "cpu" | "memory" | "ephemeral-storage" => format!("requests.{key}"),
        k if k.starts_with("hugepages-") => format!("requests.{k}"),
        "count/pods" => "pods".into(),
        k => k.to_string(),
    }
}

fn share(used: Option<Quantity>, allowed: Option<Quantity>) -> Option<f64> {
    match (used, allowed) {
        (Some(u), Some(a)) if !a.is_zero() => Some(u.ratio(a) * 100.0),
        (Some(u), Some(_)) if !u.is_zero() => Some(f64::INFINITY),
        (Some(_), Some(_)) => Some(0.0),
        _ => None,
    }
}

fn share_text(s: Option<f64>) -> String {
    match s {
        Some(x) if x.is_infinite() => "over".into(),
        Some(x) if x > 100.0 => format!("{x:.0}% over"),
        Some(x) => format!("{x:.0}%"),
        None => "-".into(),
    }
}

fn q_text(q: Option<Quantity>, key: &str) -> String {
    q.map_or_else(|| "-".into(), |q| q.display_for(key))
}

fn rows(l: &Ledger, ns: &str) -> Vec<Row> {
    let nl = &l.namespaces[ns];
    let mut rows: Vec<Row> = Vec::new();
    for (r, q) in &nl.requests {
        rows.push(Row {
            key: format!("requests.{r}"),
            requested: Some(*q),
            allowed: None,
            by: String::new(),
        });
    }
    for (r, q) in &nl.limits {
        rows.push(Row {
            key: format!("limits.{r}"),
            requested: Some(*q),
            allowed: None,
            by: String::new(),
        });
    }
    rows.push(Row {
        key: "pods".into(),
        requested: Some(Quantity::units(nl.pods as i64)),
        allowed: None,
        by: String::new(),
    });
    for qu in &nl.quotas {
        let mut by = format!("ResourceQuota {}", qu.name);
        if !qu.scopes.is_empty() {
            let mut s: Vec<String> = qu.scopes.scopes.clone();
            for (name, op, values) in &qu.scopes.expressions {
                s.push(
                    format!("{name} {op} {}", values.join(","))
                        .trim()
                        .to_string(),
                );
            }
            by.push_str(&format!(" [{}]", s.join("; ")));
        }
        for h in &qu.hard {
            let key = normalize(&h.key);
            let free = rows
                .iter_mut()
                .find(|r| r.key == key && r.allowed.is_none() && r.by.is_empty());
            match free {
                Some(r) if qu.scopes.is_empty() && (h.used.is_none() || h.used == r.requested) => {
                    r.allowed = Some(h.allowed);
                    r.by = by.clone();
                }
                _ => rows.push(Row {
                    key,
                    requested: h.used,
                    allowed: Some(h.allowed),
                    by: by.clone(),
                }),
            }
        }
    }
    rows
}

/// A header line and rows, aligned ([`quote::table`]).
fn table(headers: &[&str], lines: &[Vec<String>]) -> String {
    let mut rows: Vec<Vec<String>> = vec![headers.iter().map(|h| h.to_string()).collect()];
    rows.extend(lines.iter().cloned());
    quote::table(&rows)
}

fn queues_in_scope<'a>(
    inv: &Inventory,
    l: &'a Ledger,
    ns: Option<&str>,
) -> Vec<&'a ml_audit::quota::QueueLedger> {
    l.kueue
        .queues
        .values()
        .filter(|q| {
            ns.is_none_or(|ns| {
                q.local_queues
                    .iter()
                    .any(|id| inv.object(*id).effective_namespace() == Some(ns))
            })
        })
        .collect()
}

/// Runs `quota`.
pub fn run(args: QuotaArgs) -> u8 {
    let inv = match crate::read_inputs(&args.paths, &args.files) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let l = Ledger::build(&inv);
    let ns_filter = args.namespace.as_deref();
    if let Some(ns) = ns_filter {
        if !l.namespaces.contains_key(ns) {
            say!(
                "note: namespace {} has no workloads, ResourceQuotas or LimitRanges in the input",
                quote(ns)
            );
        }
    }
    let namespaces: Vec<&String> = l
        .namespaces
        .keys()
        .filter(|n| ns_filter.is_none_or(|f| f == n.as_str()))
        .collect();
    let queues = queues_in_scope(&inv, &l, ns_filter);
    let mut over = false;
    for ns in &namespaces {
        over |= l.namespaces[*ns]
            .quotas
            .iter()
            .any(|q| q.hard.iter().any(|h| h.exceeded()));
    }
    for q in &queues {
        over |= q
            .requested
            .iter()
            .any(|(r, v)| *v > q.max_grant.get(r).copied().unwrap_or_default());
    }
    let errors: Vec<_> = inv
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .collect();
    for d in &errors {
        say!(
            "error: {}:{}:{}: {}",
            quote(&d.file),
            d.line,
            d.col,
            quote(&d.message)
        );
    }
    let code = if !errors.is_empty() {
        2
    } else if over {
        1
    } else {
        0
    };
    match args.format {
        QuotaFormat::Table => {
            let mut out = String::new();
            for ns in &namespaces {
                let nl = &l.namespaces[*ns];
                out.push_str(&format!(
                    "NAMESPACE {}  ({} workloads, {} pods at most, {} ResourceQuotas, {} LimitRanges)\n",
                    quote(ns),
                    nl.workloads.len(),
                    nl.pods,
                    nl.quotas.len(),
                    nl.limit_ranges.len()
                ));
                let lines: Vec<Vec<String>> = rows(&l, ns)
                    .into_iter()
                    .map(|r| {
                        vec![
                            r.key.clone(),
                            q_text(r.requested, &r.key),
                            q_text(r.allowed, &r.key),
                            share_text(share(r.requested, r.allowed)),
                            r.by,
                        ]
                    })
                    .collect();
                out.push_str(&table(
                    &["RESOURCE", "REQUESTED", "ALLOWED", "SHARE", "BY"],
                    &lines,
                ));
                out.push('\n');
            }
            for q in &queues {
                let lqs: Vec<String> = q
                    .local_queues
                    .iter()
                    .map(|id| {
                        let o = inv.object(*id);
                        format!("{}/{}", o.effective_namespace().unwrap_or(""), o.name)
                    })
                    .collect();
                out.push_str(&format!(
                    "CLUSTERQUEUE {}  (cohort {}; LocalQueues {}; {} workloads)\n",
                    quote(&q.info.name),
                    quote(q.info.cohort.as_deref().unwrap_or("-")),
                    if lqs.is_empty() {
                        "-".into()
                    } else {
                        quote(&lqs.join(", ")).into_owned()
                    },
                    q.workloads.len()
                ));
                let mut keys: Vec<&str> = q.nominal.keys().chain(q.requested.keys()).collect();
                keys.sort();
                keys.dedup();
                let lines: Vec<Vec<String>> = keys
                    .into_iter()
                    .map(|r| {
                        let req = q.requested.get(r).copied().unwrap_or_default();
                        let nominal = q.nominal.get(r).copied();
                        vec![
                            r.to_string(),
                            req.display_for(r),
                            q_text(nominal, r),
                            q_text(q.max_grant.get(r).copied(), r),
                            share_text(share(Some(req), Some(nominal.unwrap_or_default()))),
                        ]
                    })
                    .collect();
                out.push_str(&table(
                    &[
                        "RESOURCE",
                        "REQUESTED",
                        "NOMINAL",
                        "WITH BORROWING",
                        "SHARE",
                    ],
                    &lines,
                ));
                out.push('\n');
            }
            if out.is_empty() {
                out.push_str("no workloads, quotas or queues found\n");
            }
            emit(&out, code)
        }
        QuotaFormat::Json => {
            let amounts = |m: &Amounts| -> Value {
                m.iter()
                    .map(|(k, v)| (k.to_string(), json!(v.to_string())))
                    .collect::<serde_json::Map<_, _>>()
                    .into()
            };
            let nss: Vec<Value> = namespaces
                .iter()
                .map(|ns| {
                    let nl = &l.namespaces[*ns];
                    let quotas: Vec<Value> = nl
                        .quotas
                        .iter()
                        .map(|qu| {
                            let hard: Vec<Value> = qu
                                .hard
                                .iter()
                                .map(|h| {
                                    let contributors: Vec<Value> = h
                                        .contributors
                                        .iter()
                                        .map(|(i, a)| {
                                            let u = &l.workloads[*i];
                                            let w = &inv.workloads[u.workload];
                                            json!({"object": inv.object(w.object).reference(), "role": w.role, "amount": a.to_string()})
                                        })
                                        .collect();
                                    json!({
                                        "key": h.key,
                                        "allowed": h.allowed.to_string(),
                                        "used": h.used.map(|u| u.to_string()),
                                        "share": share(h.used, Some(h.allowed)).filter(|s| s.is_finite()),
                                        "exceeded": h.exceeded(),
                                        "contributors": contributors,
                                    })
                                })
                                .collect();
                            json!({"name": qu.name, "scopes": qu.scopes.scopes, "scopeSelector": qu.scopes.expressions, "hard": hard})
                        })
                        .collect();
                    json!({
                        "name": ns,
                        "workloads": nl.workloads.len(),
                        "pods": nl.pods as i64,
                        "requests": amounts(&nl.requests),
                        "limits": amounts(&nl.limits),
                        "resourceQuotas": quotas,
                    })
                })
                .collect();
            let qs: Vec<Value> = queues
                .iter()
                .map(|q| {
                    json!({
                        "name": q.info.name,
                        "cohort": q.info.cohort,
                        "localQueues": q.local_queues.iter().map(|id| inv.object(*id).reference()).collect::<Vec<_>>(),
                        "workloads": q.workloads.iter().map(|i| inv.object(l.kueue.workloads[*i].object).reference()).collect::<Vec<_>>(),
                        "requested": amounts(&q.requested),
                        "nominal": amounts(&q.nominal),
                        "maxWithBorrowing": amounts(&q.max_grant),
                    })
                })
                .collect();
            let doc = json!({"namespaces": nss, "clusterQueues": qs});
            emit(
                &format!(
                    "{}\n",
                    serde_json::to_string_pretty(&doc).unwrap_or_default()
                ),
                code,
            )
        }
    }
}
