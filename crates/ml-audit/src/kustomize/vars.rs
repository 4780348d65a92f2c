//! Legacy `vars:`: `$(NAME)` in the `varReference` fields (the built-in
//! specs and those of `configurations:`) replaced by a field of an object,
//! as kustomize's accumulator does it.
//!
//! Each kustomization, once its transformers ran, marks the one object its
//! var names (by any name and namespace the object had: the var names the
//! object as written, before prefixes); two matches are an error, and so is
//! a var name declared twice anywhere in the build. Once the whole build is
//! done (hashes added, references renamed), every var takes the value of its
//! field in the marked object, and the `$(NAME)`s are replaced (`$$` is a
//! `$`; an unknown `$(X)` stays as written). A string that is exactly
//! `$(NAME)` takes the value's type (a port stays a number).
//!
//! A replaced string keeps its span; a rewrite [`Origin`] entry (its
//! `keeps_span` set) names the
//! kustomization and the line of the `vars:` item that wrote it.

use std::path::{Path, PathBuf};

use super::config::{defaults, Config, FieldSpec, Leaf};
use super::{err, Kust, Origin, RenderError, Res};
use crate::node::{Node, Span, Value};

/// One var, as declared.
#[derive(Clone, Debug)]
pub(crate) struct Var {
    pub(crate) name: String,
    group: String,
    version: String,
    kind: String,
    obj_name: String,
    obj_ns: String,
    field_path: String,
    /// The kustomization and the line of the item.
    pub(crate) file: PathBuf,
    pub(crate) line: u32,
}

impl Var {
    /// The objref, as written.
    fn describe(&self) -> String {
        let av = match (self.group.as_str(), self.version.as_str()) {
            ("", v) => v.to_string(),
            (g, v) => format!("{g}/{v}"),
        };
        let mut parts = Vec::new();
        for (k, v) in [
            ("apiVersion", av.as_str()),
            ("kind", self.kind.as_str()),
            ("name", self.obj_name.as_str()),
            ("namespace", self.obj_ns.as_str()),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k} {v}"));
            }
        }
        if parts.is_empty() {
            "empty".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// The value of `key` in a mapping, matched as Go's JSON decoder (which
/// kustomize reads kustomizations with) matches field names: exactly, or
/// else ignoring ASCII case (`fieldpath:` is `fieldPath:`).
pub(crate) fn field<'a>(n: &'a Node, key: &str) -> &'a Node {
    n.get(key)
        .or_else(|| {
            n.entries()
                .iter()
                .find(|e| e.key.eq_ignore_ascii_case(key))
                .map(|e| &e.value)
        })
        .unwrap_or(n.field(key))
}

/// Reads the kustomization's `vars:`.
pub(crate) fn parse(k: &Kust<'_>) -> Result<Vec<Var>, RenderError> {
    let mut out = Vec::new();
    for item in k.root.field("vars").items() {
        if !matches!(item.value, Value::Map(_)) {
            return Err(k.err_at(item, "a var must be a mapping"));
        }
        let s = |n: &Node| n.scalar_text().unwrap_or_default();
        let name = s(field(item, "name"));
        if name.is_empty() {
            return Err(k.err_at(item, "a var needs a `name`"));
        }
        let obj = field(item, "objref");
        let av = s(field(obj, "apiVersion"));
        let (mut group, mut version) = match av.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), av.clone()),
        };
        if av.is_empty() {
            group = s(field(obj, "group"));
            version = s(field(obj, "version"));
        }
        let field_path = match s(field(field(item, "fieldref"), "fieldPath")) {
            p if p.is_empty() => "metadata.name".to_string(),
            p => p,
        };
        out.push(Var {
            name,
            group,
            version,
            kind: s(field(obj, "kind")),
            obj_name: s(field(obj, "name")),
            obj_ns: s(field(obj, "namespace")),
            field_path,
            file: k.file.to_path_buf(),
            line: item.span.line,
        });
    }
    Ok(out)
}

fn ns_eq(a: &str, b: &str) -> bool {
    let d = |s: &str| if s.is_empty() { "default" } else { s }.to_string();
    d(a) == d(b)
}

/// kustomize's `MergeVars`: marks the object each var names and adds the
/// vars to the build's, refusing a name declared twice.
pub(crate) fn merge(vars: &[Var], res: &mut [Res], into: &mut Vec<Var>) -> Result<(), RenderError> {
    for v in vars {
        let exact_ns = !v.obj_ns.is_empty() || super::transform::cluster_scoped(&v.kind);
        let matches: Vec<usize> = res
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.group() == v.group
                    && r.version() == v.version
                    && r.obj.kind() == v.kind
                    && r.ids()
                        .any(|(n, ns)| n == v.obj_name && (!exact_ns || ns_eq(ns, &v.obj_ns)))
            })
            .map(|(i, _)| i)
            .collect();
        if matches.len() > 1 {
            return Err(err(
                &v.file,
                v.line,
                format!(
                    "found {} objects that var `{}` could name ({}), unable to disambiguate",
                    matches.len(),
                    v.name,
                    v.describe()
                ),
            ));
        }
        if let Some(&i) = matches.first() {
            res[i].ref_vars.push(v.name.clone());
        }
    }
    add(into, vars)
}

/// Adds vars to a build's, refusing a name already there (kustomize's
/// `var 'X' already encountered`).
pub(crate) fn add(into: &mut Vec<Var>, vars: &[Var]) -> Result<(), RenderError> {
    for v in vars {
        if let Some(first) = into.iter().find(|o| o.name == v.name) {
            return Err(err(
                &v.file,
                v.line,
                format!(
                    "var `{}` already encountered (declared at {}:{})",
                    v.name,
                    first.file.display(),
                    first.line
                ),
            ));
        }
        into.push(v.clone());
    }
    Ok(())
}

/// The value at a var's `fieldPath` (`spec.ports[0].port`,
/// `spec.containers[name=app].image`).
fn field_value<'a>(node: &'a Node, path: &str) -> Option<&'a Node> {
    let mut n = node;
    for seg in split_path(path) {
        let (key, brackets) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        if !key.is_empty() {
            n = n.get(key)?;
        }
        let mut rest = brackets;
        while let Some(inner) = rest.strip_prefix('[') {
            let close = inner.find(']')?;
            let sel = &inner[..close];
            rest = &inner[close + 1..];
            n = match sel.split_once('=') {
                Some((k, v)) => n
                    .items()
                    .iter()
                    .find(|i| i.field(k).scalar_text().as_deref() == Some(v))?,
                None => n.items().get(sel.parse::<usize>().ok()?)?,
            };
        }
    }
    Some(n)
}

/// Splits a dotted path, keeping dots inside brackets.
fn split_path(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in path.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => {
                out.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&path[start..]);
    out
}

/// kustomize's `ResolveVars`, the last step of a build.
pub(crate) fn resolve(vars: &[Var], res: &mut [Res], cfg: &Config) -> Result<(), RenderError> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut sorted: Vec<&Var> = vars.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    // (var, its value: None when not a scalar, which kustomize leaves as
    // written)
    let mut values: Vec<(&Var, Option<Value>)> = Vec::new();
    for v in sorted {
        let Some(r) = res.iter().find(|r| r.ref_vars.contains(&v.name)) else {
            return Err(err(
                &v.file,
                v.line,
                format!(
                    "var `{}` cannot be mapped to a field in the set of known resources: its objref ({}) names no object of the build",
                    v.name,
                    v.describe()
                ),
            ));
        };
        let Some(n) = field_value(&r.obj.node, &v.field_path) else {
            return Err(err(
                &v.file,
                v.line,
                format!(
                    "field `{}` of var `{}` is not in {} {}",
                    v.field_path,
                    v.name,
                    r.obj.kind(),
                    r.obj.name()
                ),
            ));
        };
        let value = match &n.value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                Some(n.value.clone())
            }
            _ => None,
        };
        values.push((v, value));
    }
    let mut specs = defaults().var_reference.clone();
    specs.extend(cfg.var_reference.iter().cloned());
    let mut budget = EXPANSION_BUDGET;
    for r in res.iter_mut() {
        let mut used: Vec<(String, usize)> = Vec::new();
        let mut failure: Option<Fail> = None;
        let chosen: Vec<&FieldSpec> = specs.iter().filter(|s| s.applies_to(r)).collect();
        for s in chosen {
            let mut ptr = String::new();
            super::config::visit(
                &mut r.obj.node,
                &s.segments(),
                false,
                Leaf::Never,
                Span::default(),
                &mut ptr,
                &mut |n, p| {
                    if failure.is_none() {
                        if let Err(f) = substitute_node(n, p, &values, &mut used, &mut budget) {
                            failure = Some(f);
                        }
                    }
                },
            );
        }
        let file = r.obj.origins.first().map_or(Path::new(""), |o| &o.file);
        match failure {
            Some(Fail::NotString(line)) => {
                return Err(err(
                    file,
                    line,
                    format!(
                    "a list at a var reference field of {} {} holds a value that is not a string",
                    r.obj.kind(),
                    r.obj.name()
                ),
                ))
            }
            Some(Fail::TooLarge(line)) => {
                return Err(err(
                    file,
                    line,
                    format!(
                        "vars expand to more than {} MiB in all; refusing to render further",
                        EXPANSION_BUDGET >> 20
                    ),
                ))
            }
            None => {}
        }
        for (p, i) in used {
            let v = values[i].0;
            r.obj.origins.push(Origin::rewrite(p, &v.file, v.line));
        }
    }
    Ok(())
}

/// How many bytes var substitution may add to a rendering in all: a file
/// of `$(X)` references to a large value could otherwise ask for
/// gigabytes.
const EXPANSION_BUDGET: usize = 64 << 20;

/// Why a var reference field could not be substituted (at a line).
enum Fail {
    NotString(u32),
    TooLarge(u32),
}

/// Replaces vars in the node at a var reference field: a string, the
/// string values of a mapping, the items of a list (which must be
/// strings). Records `(pointer, var index)` of each replacement.
fn substitute_node(
    n: &mut Node,
    ptr: &str,
    values: &[(&Var, Option<Value>)],
    used: &mut Vec<(String, usize)>,
    budget: &mut usize,
) -> Result<(), Fail> {
    match &mut n.value {
        Value::Str(_) => substitute(n, ptr.to_string(), values, used, budget)?,
        Value::Map(es) => {
            for e in es.iter_mut() {
                if matches!(e.value.value, Value::Str(_)) {
                    let p = format!("{ptr}/{}", crate::node::escape(&e.key));
                    substitute(&mut e.value, p, values, used, budget)?;
                }
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                if !matches!(item.value, Value::Str(_)) {
                    return Err(Fail::NotString(item.span.line));
                }
                substitute(item, format!("{ptr}/{i}"), values, used, budget)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn substitute(
    n: &mut Node,
    ptr: String,
    values: &[(&Var, Option<Value>)],
    used: &mut Vec<(String, usize)>,
    budget: &mut usize,
) -> Result<(), Fail> {
    let Value::Str(s) = &n.value else {
        return Ok(());
    };
    if !s.contains('$') {
        return Ok(());
    }
    let line = n.span.line;
    let input = s.to_string();
    let lookup = |name: &str| {
        values
            .iter()
            .position(|(v, value)| v.name == name && value.is_some())
    };
    let b = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut hits = Vec::new();
    let (mut cursor, mut checkpoint) = (0, 0);
    while cursor < b.len() {
        if b[cursor] == b'$' && cursor + 1 < b.len() {
            out.push_str(&input[checkpoint..cursor]);
            match b[cursor + 1] {
                b'$' => {
                    out.push('$');
                    cursor += 1;
                }
                b'(' => match input[cursor + 2..].find(')') {
                    Some(close) => {
                        let name = &input[cursor + 2..cursor + 2 + close];
                        match lookup(name) {
                            Some(i) => {
                                let value = values[i].1.as_ref().expect("a scalar");
                                if input.len() == name.len() + 3 {
                                    // Exactly `$(NAME)`: the value, typed.
                                    let grow = scalar(value).len();
                                    *budget =
                                        budget.checked_sub(grow).ok_or(Fail::TooLarge(line))?;
                                    n.value = value.clone();
                                    used.push((ptr, i));
                                    return Ok(());
                                }
                                let text = scalar(value);
                                *budget =
                                    budget.checked_sub(text.len()).ok_or(Fail::TooLarge(line))?;
                                out.push_str(&text);
                                hits.push(i);
                            }
                            None => {
                                out.push_str("$(");
                                out.push_str(name);
                                out.push(')');
                            }
                        }
                        cursor += 2 + close;
                    }
                    None => {
                        out.push_str("$(");
                        cursor += 1;
                    }
                },
                _ => {
                    // `$` before anything else stays, with what follows.
                    out.push('$');
                }
            }
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.push_str(&input[checkpoint.min(input.len())..]);
    if out != input {
        n.value = Value::Str(out.as_str().into());
    }
    for i in hits {
        used.push((ptr.clone(), i));
    }
    Ok(())
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> (Value, usize) {
        let var = Var {
            name: "SVC".into(),
            group: String::new(),
            version: "v1".into(),
            kind: "Service".into(),
            obj_name: "s".into(),
            obj_ns: String::new(),
            field_path: "metadata.name".into(),
            file: PathBuf::from("k.yaml"),
            line: 3,
        };
        let port = Var {
            name: "PORT".into(),
            ..var.clone()
        };
        let values = vec![
            (&var, Some(Value::Str("pre-s".into()))),
            (&port, Some(Value::Int(80))),
        ];
        let mut n = Node::new(Value::Str(s.into()));
        let mut used = Vec::new();
        let mut budget = 1 << 20;
        assert!(substitute(&mut n, "/x".into(), &values, &mut used, &mut budget).is_ok());
        (n.value, used.len())
    }

    #[test]
    fn substitution_follows_kustomize() {
        let s = |v: &str| Value::Str(v.into());
        assert_eq!(run("http://$(SVC):$(PORT)/"), (s("http://pre-s:80/"), 2));
        assert_eq!(run("$(PORT)"), (Value::Int(80), 1));
        assert_eq!(run("$(NOPE) $$(SVC) $x $("), (s("$(NOPE) $(SVC) $x $("), 0));
        assert_eq!(run("a$"), (s("a$"), 0));
    }

    /// Substitution is budgeted: a hostile file of references to a large
    /// value is an error, not gigabytes.
    #[test]
    fn substitution_has_a_budget() {
        let var = Var {
            name: "BIG".into(),
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
            obj_name: "c".into(),
            obj_ns: String::new(),
            field_path: "data.x".into(),
            file: PathBuf::from("k.yaml"),
            line: 3,
        };
        let values = vec![(&var, Some(Value::Str("x".repeat(1000).into())))];
        let mut budget = 2500;
        let mut used = Vec::new();
        let mut n = Node::new(Value::Str("$(BIG)$(BIG)".into()));
        assert!(substitute(&mut n, "/a".into(), &values, &mut used, &mut budget).is_ok());
        let mut n = Node::new(Value::Str("$(BIG)$(BIG)".into()));
        assert!(matches!(
            substitute(&mut n, "/b".into(), &values, &mut used, &mut budget),
            Err(Fail::TooLarge(_))
        ));
    }

    #[test]
    fn field_paths_with_indexes_and_selectors() {
        let (docs, _) = crate::yaml::parse_stream(
            "spec:\n  ports:\n  - name: a\n    port: 1\n  - name: b.c\n    port: 2\n",
            crate::yaml::Limits::default(),
        );
        let root = &docs[0].root;
        assert_eq!(
            field_value(root, "spec.ports[1].port").unwrap().as_i64(),
            Some(2)
        );
        assert_eq!(
            field_value(root, "spec.ports[name=b.c].port")
                .unwrap()
                .as_i64(),
            Some(2)
        );
        assert!(field_value(root, "spec.nope").is_none());
    }
}
