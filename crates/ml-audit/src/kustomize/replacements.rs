//! `replacements`: copy a field of one object (the source) into fields of
//! others (the targets), with kustomize's field paths
//! (`spec.template.spec.containers.[name=manager].image`), `delimiter` and
//! `index` options, and `create`.

use super::transform::select;
use super::{read_docs, Kust, Origin, RenderError, Res};
use crate::node::{escape, CompactString, Entry, Node, Value};

/// One segment of a field path.
#[derive(Debug)]
enum Seg {
    Key(String),
    /// `[key=value]`: the list element whose `key` is `value`.
    Match(String, String),
    /// A list index.
    Index(usize),
}

/// Splits a field path on dots outside brackets.
fn parse_path(path: &str) -> Result<Vec<Seg>, String> {
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            '.' if depth == 0 => segs.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    segs.push(cur);
    segs.into_iter()
        .map(|s| {
            if s == "*" || s.contains('*') {
                return Err(format!(
                    "wildcards in field path `{path}` are not supported"
                ));
            }
            if let Some(inner) = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                // `[a.b/c]` is a key with dots; `[name=x]` selects an element.
                return Ok(match inner.split_once('=') {
                    Some((k, v)) => Seg::Match(k.to_string(), v.to_string()),
                    None => Seg::Key(inner.to_string()),
                });
            }
            if s.is_empty() {
                return Err(format!("empty segment in field path `{path}`"));
            }
            Ok(match s.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::Key(s),
            })
        })
        .collect()
}

/// The node at a path, creating missing map keys when `create`; the
/// pointer of the node.
fn lookup<'a>(
    mut node: &'a mut Node,
    segs: &[Seg],
    create: bool,
) -> Option<(&'a mut Node, String)> {
    let mut ptr = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !matches!(node.value, Value::Map(_)) {
                    if create && node.is_null() {
                        node.value = Value::Map(Vec::new());
                    } else {
                        return None;
                    }
                }
                let Value::Map(entries) = &mut node.value else {
                    return None;
                };
                let i = match entries.iter().position(|e| e.key == k.as_str()) {
                    Some(i) => i,
                    None if create => {
                        entries.push(Entry {
                            key: CompactString::from(k.as_str()),
                            key_span: node.span,
                            value: Node {
                                value: Value::Null,
                                span: node.span,
                            },
                        });
                        entries.len() - 1
                    }
                    None => return None,
                };
                ptr.push('/');
                ptr.push_str(&escape(k));
                node = &mut entries[i].value;
            }
            Seg::Match(k, v) => {
                let Value::Seq(items) = &mut node.value else {
                    return None;
                };
                let i = items
                    .iter()
                    .position(|it| it.field(k).scalar_text().as_deref() == Some(v.as_str()))?;
                ptr.push_str(&format!("/{i}"));
                node = &mut items[i];
            }
            Seg::Index(i) => {
                let Value::Seq(items) = &mut node.value else {
                    return None;
                };
                ptr.push_str(&format!("/{i}"));
                node = items.get_mut(*i)?;
            }
        }
    }
    Some((node, ptr))
}

/// Runs the kustomization's replacements on `acc`.
pub(super) fn run(k: &Kust<'_>, acc: &mut [Res]) -> Result<(), RenderError> {
    let mut entries: Vec<(Node, std::path::PathBuf)> = Vec::new();
    for item in k.root.field("replacements").items() {
        if let Some(p) = item.get("path") {
            let file = k.path(p)?;
            if !file.is_file() {
                return Err(k.err_at(p, "replacement file does not exist"));
            }
            let file = k.confined(p, file)?;
            for doc in read_docs(&file)? {
                match &doc.value {
                    Value::Seq(items) => {
                        entries.extend(items.iter().map(|i| (i.clone(), file.clone())))
                    }
                    _ => entries.push((doc, file.clone())),
                }
            }
        } else {
            entries.push((item.clone(), k.file.to_path_buf()));
        }
    }
    for (r, file) in entries {
        let at = |n: &Node, m: String| super::err(&file, n.span.line, m);
        let source = r.field("source");
        let found = select(k, acc, source)?;
        if found.len() != 1 {
            return Err(at(
                source,
                format!(
                    "a replacement source must match one resource, it matches {}",
                    found.len()
                ),
            ));
        }
        let path = source
            .field("fieldPath")
            .as_str()
            .unwrap_or("metadata.name");
        let segs = parse_path(path).map_err(|m| at(source, m))?;
        let mut src_obj = acc[found[0]].obj.node.clone();
        let mut value = lookup(&mut src_obj, &segs, false)
            .map(|(n, _)| n.clone())
            .ok_or_else(|| at(source, format!("the source has no field `{path}`")))?;
        let sopts = source.field("options");
        if let Some(d) = sopts.field("delimiter").as_str() {
            let text = value.scalar_text().unwrap_or_default();
            let parts: Vec<&str> = text.split(d).collect();
            let i = sopts.field("index").as_i64().unwrap_or(0);
            let part = usize::try_from(i).ok().and_then(|i| parts.get(i)).copied();
            value.value = Value::Str(part.unwrap_or("").into());
        }
        for t in r.field("targets").items() {
            let mut idx = select(k, acc, t.field("select"))?;
            for rej in t.field("reject").items() {
                let rejected = select(k, acc, rej)?;
                idx.retain(|i| !rejected.contains(i));
            }
            let topts = t.field("options");
            let create = topts.field("create").as_bool() == Some(true);
            for fp in t.field("fieldPaths").items() {
                let fpath = fp.as_str().unwrap_or("");
                let segs = parse_path(fpath).map_err(|m| at(fp, m))?;
                for &i in &idx {
                    let res = &mut acc[i];
                    let Some((node, ptr)) = lookup(&mut res.obj.node, &segs, create) else {
                        return Err(at(
                            fp,
                            format!(
                                "unable to find field `{fpath}` in replacement target {} {}",
                                res.obj.kind(),
                                res.obj.name()
                            ),
                        ));
                    };
                    if let Some(d) = topts.field("delimiter").as_str() {
                        let text = node.scalar_text().unwrap_or_default();
                        let mut parts: Vec<String> = text.split(d).map(str::to_string).collect();
                        let i = topts.field("index").as_i64().unwrap_or(0);
                        let v = value.scalar_text().unwrap_or_default();
                        match usize::try_from(i) {
                            Ok(i) if i < parts.len() => parts[i] = v,
                            Ok(_) => parts.push(v),
                            Err(_) => parts.insert(0, v),
                        }
                        node.value = Value::Str(parts.join(d).into());
                    } else {
                        node.value = value.value.clone();
                    }
                    res.obj
                        .origins
                        .push(Origin::rewrite(ptr, &file, fp.span.line));
                }
            }
        }
    }
    Ok(())
}
