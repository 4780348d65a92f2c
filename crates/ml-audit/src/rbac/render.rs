//! Paths as people read them: each step names the object, the file and line,
//! and the rule that grants it. Text, JSON, Graphviz dot and Mermaid.

use std::collections::BTreeSet;
use std::fmt::Write;

use serde_json::json;

use super::{Cause, Edge, Path, RbacGraph, Target};
use crate::inventory::Inventory;

/// A place that grants a step: a binding subject or a role rule.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Citation {
    /// `binding` or `rule`.
    pub what: &'static str,
    /// `RoleBinding ns/name`, `ClusterRole edit (built-in)`.
    pub object: String,
    /// The file (`<built-in>` for defaults).
    pub file: String,
    /// The line (0 for defaults).
    pub line: u32,
    /// JSON pointer in the object.
    pub pointer: String,
    /// The subject, or the rule in one line.
    pub text: String,
}

/// The binding subject and role rule behind a cause.
pub fn cite(g: &RbacGraph, inv: &Inventory, c: &Cause) -> [Citation; 2] {
    let b = &g.bindings[c.binding];
    let (subject, sp) = &b.subjects[c.subject];
    let (file, line) = match b.object {
        Some(o) => {
            let at = inv.place(inv.object(o), sp.as_str());
            (at.file.to_string(), at.span.line)
        }
        None => ("<built-in>".to_string(), 0),
    };
    let binding = Citation {
        what: "binding",
        object: b.display(),
        file,
        line,
        pointer: sp.to_string(),
        text: format!("grants {}/{} to {subject}", b.role_ref.0, b.role_ref.1),
    };
    let r = &g.rules[c.rule];
    let (file, line) = match r.object {
        Some(o) => {
            let at = inv.place(inv.object(o), r.pointer.as_str());
            (at.file.to_string(), at.span.line)
        }
        None => ("<built-in>".to_string(), 0),
    };
    let rule = Citation {
        what: "rule",
        object: r.source.clone(),
        file,
        line,
        pointer: r.pointer.to_string(),
        text: r.summary(),
    };
    [binding, rule]
}

/// Every citation of an edge.
pub fn citations(g: &RbacGraph, inv: &Inventory, e: &Edge) -> Vec<Citation> {
    let mut v: Vec<Citation> = e.causes.iter().flat_map(|c| cite(g, inv, c)).collect();
    if let Some(o) = e.object {
        let obj = inv.object(o);
        v.push(Citation {
            what: "workload",
            object: obj.display_name(),
            file: inv.place(obj, "").file.to_string(),
            line: inv.place(obj, "").span.line,
            pointer: String::new(),
            text: "runs as this ServiceAccount".into(),
        });
    }
    v
}

fn loc(c: &Citation) -> String {
    if c.line == 0 {
        c.file.clone()
    } else {
        format!("{}:{}", c.file, c.line)
    }
}

/// A path as text, one step a line with its citations under it.
pub fn path_text(g: &RbacGraph, inv: &Inventory, p: &Path) -> String {
    let mut s = String::new();
    for (i, st) in p.steps.iter().enumerate() {
        let detail = if st.edge.detail.is_empty() {
            String::new()
        } else {
            format!(" [{}]", st.edge.detail)
        };
        let _ = writeln!(
            s,
            "  {}. {} {} {}{}",
            i + 1,
            st.from,
            st.edge.kind.describe(),
            st.to,
            detail
        );
        for c in citations(g, inv, &st.edge) {
            let _ = writeln!(
                s,
                "       {} ({}) {}: {}",
                c.object,
                loc(&c),
                c.pointer,
                c.text
            );
        }
    }
    s
}

/// A path as JSON.
pub fn path_json(g: &RbacGraph, inv: &Inventory, p: &Path) -> serde_json::Value {
    json!(p
        .steps
        .iter()
        .map(|st| json!({
            "from": st.from.to_string(),
            "to": st.to.to_string(),
            "edge": st.edge.kind.as_str(),
            "detail": st.edge.detail,
            "grantedBy": citations(g, inv, &st.edge),
        }))
        .collect::<Vec<_>>())
}

fn edges_of(paths: &[(Target, Path)]) -> (BTreeSet<String>, BTreeSet<(String, String, String)>) {
    let mut nodes = BTreeSet::new();
    let mut edges = BTreeSet::new();
    for (_, p) in paths {
        for st in &p.steps {
            nodes.insert(st.from.to_string());
            nodes.insert(st.to.to_string());
            let label = if st.edge.detail.is_empty() {
                st.edge.kind.as_str().to_string()
            } else {
                st.edge.detail.clone()
            };
            edges.insert((st.from.to_string(), st.to.to_string(), label));
        }
    }
    (nodes, edges)
}

/// `s` as a Graphviz double-quoted string: `"` and `\\` escaped, a newline
/// written `\\n` (dot's line break), and every other control character
/// (and the bidirectional controls) shown as `\\u{..}`, so a name is one
/// string on one line whatever it holds. The legacy CI workflow command
/// prefix `##[` is written `#&#35;[` (dot reads the entity as `#`).
pub fn dot_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if unsafe_char(c) => {
                let _ = write!(out, "\\\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out.replace("##[", "#&#35;[")
}

/// Control characters, and the Unicode controls that reorder or break
/// lines.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn q(s: &str) -> String {
    dot_string(s)
}

/// The union of some paths as a Graphviz digraph.
pub fn dot(paths: &[(Target, Path)]) -> String {
    let (nodes, edges) = edges_of(paths);
    let mut s = String::from("digraph rbac {\n  rankdir=LR;\n  node [shape=box];\n");
    for n in &nodes {
        let style = if n == "cluster-admin" {
            " [style=filled, fillcolor=\"#f4cccc\"]"
        } else {
            ""
        };
        let _ = writeln!(s, "  {}{style};", q(n));
    }
    for (a, b, l) in &edges {
        let _ = writeln!(s, "  {} -> {} [label={}];", q(a), q(b), q(l));
    }
    s.push_str("}\n");
    s
}

/// The union of some paths as a Mermaid flowchart.
pub fn mermaid(paths: &[(Target, Path)]) -> String {
    let (nodes, edges) = edges_of(paths);
    let ids: Vec<&String> = nodes.iter().collect();
    let id = |n: &String| ids.iter().position(|x| *x == n).unwrap_or(0);
    // Mermaid's entity codes: `#quot;` for `"`, `#35;` for `#` (so no
    // entity or `##[` comes from a name), `#92;` for a backslash, and a
    // newline as `#92;n` and any other control character as `#92;u{..}`
    // (shown `\n`, `\u{..}`): one line.
    let esc = |t: &str| {
        let mut out = String::with_capacity(t.len());
        for c in t.chars() {
            match c {
                '"' => out.push_str("#quot;"),
                '#' => out.push_str("#35;"),
                '\\' => out.push_str("#92;"),
                '\n' => out.push_str("#92;n"),
                c if unsafe_char(c) => {
                    let _ = write!(out, "#92;u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        out
    };
    let mut s = String::from("flowchart LR\n");
    for (i, n) in ids.iter().enumerate() {
        let _ = writeln!(s, "  n{i}[\"{}\"]", esc(n));
    }
    for (a, b, l) in &edges {
        let _ = writeln!(s, "  n{} -->|\"{}\"| n{}", id(a), esc(l), id(b));
    }
    s
}
