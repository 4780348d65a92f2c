//! Name references, fixed once the build is done as kustomize's name
//! reference transformer fixes them, for the built-in `nameReference`
//! specs and those `configurations:` add: a name (or a `{name, namespace}`
//! mapping) at a referring field that names an object by a name it had
//! before a prefix, suffix, hash or `namespace:` changed it takes the
//! object's current name (and, for a mapping, its namespace).
//!
//! The candidates are sieved as kustomize sieves them: objects of the
//! referred kind with a previous name equal to the reference, that the
//! referrer can see (cluster-scoped objects, those in its namespace,
//! service accounts anywhere, and for a RoleBinding those in its subjects'
//! namespaces), for `roleRef/name` of the role's kind, and, among several,
//! those whose prefixes and suffixes are the referrer's.

use std::collections::HashMap;

use super::config::{BackRef, FieldSpec};
use super::transform::cluster_scoped;
use super::{err, RenderError, Res};
use crate::node::{Node, Value};

fn ns_eq(a: &str, b: &str) -> bool {
    fn d(s: &str) -> &str {
        if s.is_empty() {
            "default"
        } else {
            s
        }
    }
    d(a) == d(b)
}

/// A change to make in a referrer: the pointer of the node, the new name,
/// and the new namespace (for a mapping, when the object has one).
struct Fix {
    ptr: String,
    name: String,
    ns: Option<String>,
    /// The kustomization line that renamed (or moved) the object.
    by: Option<(std::path::PathBuf, u32)>,
}

/// Fixes every reference of `refs` in `res`.
pub(crate) fn fix(res: &mut [Res], refs: &[&BackRef]) -> Result<(), RenderError> {
    // Only objects with a previous id can be the target of a fix: without
    // any, there is nothing to do.
    let moved: Vec<usize> = (0..res.len())
        .filter(|&i| !res[i].prev_names.is_empty() || !res[i].prev_ids.is_empty())
        .collect();
    if moved.is_empty() {
        return Ok(());
    }
    for b in refs {
        // The objects of the referred kind by each name they had: a lookup
        // per reference, not a scan (a file of many references to many
        // renamed objects stays linear).
        let mut targets: HashMap<String, Vec<usize>> = HashMap::new();
        for &j in moved.iter().filter(|&&j| of_kind(&res[j], b)) {
            let r = &res[j];
            for (n, _) in r.prev_names.iter().chain(&r.prev_ids) {
                let list = targets.entry(n.clone()).or_default();
                if list.last() != Some(&j) {
                    list.push(j);
                }
            }
        }
        if targets.is_empty() {
            continue;
        }
        for spec in &b.specs {
            for i in 0..res.len() {
                if !spec.applies_to(&res[i]) {
                    continue;
                }
                let fixes = find_fixes(res, &targets, i, b, spec)?;
                apply(&mut res[i], fixes);
            }
        }
    }
    Ok(())
}

fn of_kind(r: &Res, b: &BackRef) -> bool {
    (b.kind.is_empty() || r.obj.kind() == b.kind)
        && (b.group.is_empty() || r.group() == b.group)
        && (b.version.is_empty() || r.version() == b.version)
}

fn apply(r: &mut Res, fixes: Vec<Fix>) {
    for f in fixes {
        if let Some((file, line)) = &f.by {
            r.obj
                .origins
                .push(super::Origin::rewrite(f.ptr.clone(), file, *line));
        }
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

/// The nodes at a field spec's path (lists walked into), with pointers.
fn collect<'a>(node: &'a Node, path: &[&str], ptr: &mut String, out: &mut Vec<(String, &'a Node)>) {
    let Some((first, rest)) = path.split_first() else {
        match &node.value {
            Value::Seq(items) => {
                for (j, item) in items.iter().enumerate() {
                    out.push((format!("{ptr}/{j}"), item));
                }
            }
            Value::Null => {}
            _ => out.push((ptr.clone(), node)),
        }
        return;
    };
    match &node.value {
        Value::Seq(items) => {
            for (j, item) in items.iter().enumerate() {
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&j.to_string());
                collect(item, path, ptr, out);
                ptr.truncate(len);
            }
        }
        Value::Map(_) => {
            let name = first.strip_suffix("[]").unwrap_or(first);
            if let Some(child) = node.get(name) {
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&crate::node::escape(name));
                collect(child, rest, ptr, out);
                ptr.truncate(len);
            }
        }
        _ => {}
    }
}

/// The nodes of referrer `i` at `spec` and what each must become.
fn find_fixes(
    res: &[Res],
    targets: &HashMap<String, Vec<usize>>,
    i: usize,
    b: &BackRef,
    spec: &FieldSpec,
) -> Result<Vec<Fix>, RenderError> {
    let referrer = &res[i];
    let mut leaves = Vec::new();
    collect(
        &referrer.obj.node,
        &spec.segments(),
        &mut String::new(),
        &mut leaves,
    );
    if leaves.is_empty() {
        return Ok(Vec::new());
    }
    let sieve = Sieve::new(referrer, spec);
    let named = |old: &str| -> Vec<&Res> {
        targets
            .get(old)
            .map_or(Vec::new(), |js| js.iter().map(|&j| &res[j]).collect())
    };
    let mut out = Vec::new();
    for (ptr, leaf) in leaves {
        match &leaf.value {
            Value::Str(old) => {
                let mut c = named(old);
                c.retain(|r| sieve.keeps(r, old));
                if let Some(t) = sieve.pick(c, false, leaf, b)? {
                    if t.obj.name() != old.as_str() {
                        out.push(Fix {
                            ptr,
                            name: t.obj.name().to_string(),
                            ns: None,
                            by: t.renamed_by.clone(),
                        });
                    }
                }
            }
            Value::Map(_) => {
                let Some(old) = leaf.get("name").and_then(Node::as_str) else {
                    return Err(err(
                        sieve.file(),
                        leaf.span.line,
                        format!(
                            "a reference to a {} at `{}` is a mapping without a `name`",
                            b.kind, spec.path
                        ),
                    ));
                };
                let mut c = named(old);
                if let Some(ns) = leaf.get("namespace").and_then(Node::as_str) {
                    // kustomize groups the candidates by their original
                    // namespace, else by their current one.
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
                c.retain(|r| sieve.keeps(r, old));
                if let Some(t) = sieve.pick(c, true, leaf, b)? {
                    if t.obj.name() == old && t.obj.namespace().is_empty() {
                        continue;
                    }
                    out.push(Fix {
                        ptr,
                        name: t.obj.name().to_string(),
                        ns: Some(t.obj.namespace().to_string()),
                        by: t.renamed_by.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// What a referrer can refer to.
struct Sieve<'a> {
    referrer: &'a Res,
    cluster: bool,
    /// For a RoleBinding: the namespaces of its ServiceAccount subjects.
    subject_ns: Vec<&'a str>,
    /// For `roleRef/name`: the role's group and kind.
    role: Option<(&'a str, &'a str)>,
}

impl<'a> Sieve<'a> {
    fn new(referrer: &'a Res, spec: &FieldSpec) -> Sieve<'a> {
        let node = &referrer.obj.node;
        let subject_ns = if referrer.obj.kind() == "RoleBinding" {
            node.field("subjects")
                .items()
                .iter()
                .filter(|s| s.field("kind").as_str() == Some("ServiceAccount"))
                .filter_map(|s| s.field("namespace").as_str())
                .collect()
        } else {
            Vec::new()
        };
        let role = if spec.path.ends_with("roleRef/name") {
            let rr = node.field("roleRef");
            rr.field("apiGroup").as_str().zip(rr.field("kind").as_str())
        } else {
            None
        };
        Sieve {
            referrer,
            cluster: cluster_scoped(referrer.obj.kind()),
            subject_ns,
            role,
        }
    }

    fn file(&self) -> &'a std::path::Path {
        self.referrer
            .obj
            .origins
            .first()
            .map_or(std::path::Path::new(""), |o| o.file.as_path())
    }

    /// Whether `r` may be what `old` names.
    fn keeps(&self, r: &Res, old: &str) -> bool {
        if !r.had_name(old) {
            return false;
        }
        if let Some((group, kind)) = self.role {
            if r.obj.kind() != kind || (!group.is_empty() && r.group() != group) {
                return false;
            }
        }
        if self.cluster || cluster_scoped(r.obj.kind()) {
            return true;
        }
        let same_ns = ns_eq(r.obj.namespace(), self.referrer.obj.namespace());
        let visible = same_ns || self.subject_ns.contains(&r.obj.namespace());
        visible && (same_ns || r.obj.kind() == "ServiceAccount")
    }

    /// The one candidate, narrowed by prefixes and suffixes when several;
    /// several that differ are an error, as in kustomize.
    fn pick<'r>(
        &self,
        mut c: Vec<&'r Res>,
        with_ns: bool,
        at: &Node,
        b: &BackRef,
    ) -> Result<Option<&'r Res>, RenderError> {
        if c.len() > 1 {
            c.retain(|r| affixes_equal(r, self.referrer, true));
            if c.len() > 1 {
                c.retain(|r| affixes_equal(r, self.referrer, false));
            }
        }
        let Some(first) = c.first().copied() else {
            return Ok(None);
        };
        let same = c.iter().all(|r| {
            r.obj.name() == first.obj.name()
                && (!with_ns || r.obj.namespace() == first.obj.namespace())
        });
        if same {
            return Ok(Some(first));
        }
        let ids: Vec<String> = c
            .iter()
            .map(|r| format!("{}/{}", r.obj.namespace(), r.obj.name()))
            .collect();
        Err(err(
            self.file(),
            at.span.line,
            format!(
                "{} {} names one of several {} objects: {}",
                self.referrer.obj.kind(),
                self.referrer.obj.name(),
                b.kind,
                ids.join(", ")
            ),
        ))
    }
}

/// kustomize's `PrefixesSuffixesEquals`.
fn affixes_equal(a: &Res, b: &Res, allow_empty: bool) -> bool {
    let same = |x: &[String], y: &[String]| {
        (allow_empty && (x.is_empty() || y.is_empty())) || same_ending(x, y)
    };
    same(&a.prefixes, &b.prefixes) && same(&a.suffixes, &b.suffixes)
}

/// kustomize's `SameEndingSubSlice`.
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() > b.len() { (b, a) } else { (a, b) };
    if short.is_empty() {
        return long.is_empty();
    }
    long.ends_with(short)
}
