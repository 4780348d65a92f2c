//! The name references that `configurations:` add (`nameReference:`
//! entries: "objects of kind X are named at this field of kind Y"), fixed
//! as kustomize's name reference filter fixes them once the build is done:
//! a name (or a `{name, namespace}` mapping) that names an object by a
//! name it had before a prefix, suffix, hash or `namespace:` changed it
//! takes the object's current name (and namespace).
//!
//! The built-in references are fixed by `transform::fix_name_references`.

use super::config::{visit, BackRef, FieldSpec, Leaf};
use super::transform::cluster_scoped;
use super::{err, RenderError, Res};
use crate::node::{Node, Span, Value};

fn ns_eq(a: &str, b: &str) -> bool {
    let d = |s: &str| if s.is_empty() { "default" } else { s }.to_string();
    d(a) == d(b)
}

/// A change to make in a referrer: the pointer of the node, the new name,
/// and the new namespace (for a mapping).
struct Fix {
    ptr: String,
    name: String,
    ns: Option<String>,
}

pub(crate) fn fix_custom(res: &mut [Res], refs: &[BackRef]) -> Result<(), RenderError> {
    if refs.is_empty() {
        return Ok(());
    }
    for b in refs {
        for spec in &b.specs {
            for i in 0..res.len() {
                if !spec.applies_to(&res[i]) {
                    continue;
                }
                let fixes = find_fixes(res, i, b, spec)?;
                let r = &mut res[i];
                for f in fixes {
                    let Some(n) = pointer_mut(&mut r.obj.node, &f.ptr) else {
                        continue;
                    };
                    match f.ns {
                        None => n.value = Value::Str(f.name.as_str().into()),
                        Some(ns) => {
                            let span = n.field("name").span;
                            super::set(n, "name", super::str_node(&f.name, span));
                            if !ns.is_empty() {
                                let span = n.get("namespace").map_or(span, |x| x.span);
                                super::set(n, "namespace", super::str_node(&ns, span));
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn pointer_mut<'a>(node: &'a mut Node, ptr: &str) -> Option<&'a mut Node> {
    let mut n = node;
    for tok in ptr.split('/').skip(1) {
        let tok = crate::node::unescape(tok);
        n = match &mut n.value {
            Value::Map(es) => &mut es.iter_mut().find(|e| e.key == *tok)?.value,
            Value::Seq(items) => items.get_mut(tok.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(n)
}

/// The nodes of referrer `i` at `spec` and what each must become.
fn find_fixes(
    res: &[Res],
    i: usize,
    b: &BackRef,
    spec: &FieldSpec,
) -> Result<Vec<Fix>, RenderError> {
    // The walker takes a mutable node; walk a copy of the referrer (only
    // referrers a configuration names are copied).
    let mut copy = res[i].obj.node.clone();
    let mut leaves: Vec<(String, Node)> = Vec::new();
    let mut ptr = String::new();
    visit(
        &mut copy,
        &spec.segments(),
        false,
        Leaf::Never,
        Span::default(),
        &mut ptr,
        &mut |n, p| match &n.value {
            Value::Seq(items) => {
                for (j, item) in items.iter().enumerate() {
                    leaves.push((format!("{p}/{j}"), item.clone()));
                }
            }
            Value::Null => {}
            _ => leaves.push((p.to_string(), n.clone())),
        },
    );
    let referrer = &res[i];
    let file = referrer
        .obj
        .origins
        .first()
        .map(|o| o.file.clone())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (ptr, leaf) in leaves {
        match &leaf.value {
            Value::Str(old) => {
                let c = candidates(res, referrer, b, old, None);
                if let Some(t) = pick(&c, &file, &leaf, false)? {
                    if t.obj.name() != old.as_str() {
                        out.push(Fix {
                            ptr,
                            name: t.obj.name().to_string(),
                            ns: None,
                        });
                    }
                }
            }
            Value::Map(_) => {
                let Some(old) = leaf.get("name").and_then(Node::as_str) else {
                    return Err(err(
                        &file,
                        leaf.span.line,
                        format!(
                            "a name reference to {} at `{}` is a mapping without a `name`",
                            b.kind, spec.path
                        ),
                    ));
                };
                let ns = leaf.get("namespace").and_then(Node::as_str);
                let c = candidates(res, referrer, b, old, ns);
                if let Some(t) = pick(&c, &file, &leaf, true)? {
                    if t.obj.name() == old && t.obj.namespace().is_empty() {
                        continue;
                    }
                    out.push(Fix {
                        ptr,
                        name: t.obj.name().to_string(),
                        ns: Some(t.obj.namespace().to_string()),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The objects `old` may name, as kustomize sieves them: of the referred
/// kind, with a previous id of that name, that the referrer can see
/// (cluster-scoped ones, or in the referrer's namespace; service accounts
/// anywhere), and for a mapping with a `namespace`, in that namespace as
/// first written (or else as now).
fn candidates<'a>(
    res: &'a [Res],
    referrer: &Res,
    b: &BackRef,
    old: &str,
    ns: Option<&str>,
) -> Vec<&'a Res> {
    let referrer_cluster = cluster_scoped(referrer.obj.kind());
    let visible = |r: &Res| {
        referrer_cluster
            || cluster_scoped(r.obj.kind())
            || r.obj.kind() == "ServiceAccount"
            || ns_eq(r.obj.namespace(), referrer.obj.namespace())
    };
    let kind_ok = |r: &Res| {
        (b.kind.is_empty() || r.obj.kind() == b.kind)
            && (b.group.is_empty() || r.group() == b.group)
            && (b.version.is_empty() || r.version() == b.version)
    };
    let mut c: Vec<&Res> = res
        .iter()
        .filter(|r| kind_ok(r) && r.had_name(old) && visible(r))
        .collect();
    if let Some(ns) = ns {
        let orig: Vec<&Res> = c
            .iter()
            .copied()
            .filter(|r| ns_eq(&r.orig_ns, ns))
            .collect();
        c = if orig.is_empty() {
            c.into_iter()
                .filter(|r| ns_eq(r.obj.namespace(), ns))
                .collect()
        } else {
            orig
        };
    }
    c
}

fn pick<'a>(
    c: &[&'a Res],
    file: &std::path::Path,
    at: &Node,
    with_ns: bool,
) -> Result<Option<&'a Res>, RenderError> {
    let Some(first) = c.first() else {
        return Ok(None);
    };
    let same = c.iter().all(|r| {
        r.obj.name() == first.obj.name() && (!with_ns || r.obj.namespace() == first.obj.namespace())
    });
    if same {
        return Ok(Some(first));
    }
    let ids: Vec<String> = c
        .iter()
        .map(|r| format!("{} {}/{}", r.obj.kind(), r.obj.namespace(), r.obj.name()))
        .collect();
    Err(err(
        file,
        at.span.line,
        format!("found multiple possible referrals: {}", ids.join(", ")),
    ))
}
