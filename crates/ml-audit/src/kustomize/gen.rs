//! `configMapGenerator`, `secretGenerator`, `generatorOptions`, and the
//! content hash kustomize appends to generated names.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{get_or_insert, map_node, set, str_node, string_map, Kust, Origin, RenderError, Res};
use crate::node::{Node, Span, Value};

/// Runs the kustomization's generators into `acc`.
pub(super) fn run_generators(k: &Kust<'_>, acc: &mut Vec<Res>) -> Result<(), RenderError> {
    let opts = k.root.field("generatorOptions");
    for (key, kind) in [
        ("secretGenerator", "Secret"),
        ("configMapGenerator", "ConfigMap"),
    ] {
        for g in k.root.field(key).items() {
            let res = generate(k, g, kind, opts)?;
            absorb_generated(k, g, acc, res)?;
        }
    }
    Ok(())
}

fn generate(k: &Kust<'_>, g: &Node, kind: &str, opts: &Node) -> Result<Res, RenderError> {
    let span = g.span;
    let name = g
        .field("name")
        .as_str()
        .ok_or_else(|| k.err_at(g, "a generator needs a name"))?;
    let mut data: BTreeMap<String, (String, Span)> = BTreeMap::new();
    let mut binary: BTreeMap<String, (String, Span)> = BTreeMap::new();
    for lit in g.field("literals").items() {
        let s = lit.scalar_text().unwrap_or_default();
        let (key, value) = s
            .split_once('=')
            .ok_or_else(|| k.err_at(lit, format!("literal `{s}` is not KEY=VALUE")))?;
        data.insert(key.to_string(), (unquote(value).to_string(), lit.span));
    }
    for f in g.field("files").items() {
        let s = f.as_str().unwrap_or_default();
        let (key, path) = match s.split_once('=') {
            Some((key, path)) => (key.to_string(), path),
            None => (
                Path::new(s)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                s,
            ),
        };
        let file = k.confined(f, k.dir.join(path))?;
        let bytes =
            std::fs::read(file).map_err(|e| k.err_at(f, format!("cannot read `{path}`: {e}")))?;
        match String::from_utf8(bytes) {
            Ok(text) => data.insert(key, (text, f.span)),
            Err(e) => binary.insert(key, (wrap70(&base64(e.as_bytes())), f.span)),
        };
    }
    let envs: Vec<&Node> = g
        .field("envs")
        .items()
        .iter()
        .chain(g.get("env").filter(|n| n.as_str().is_some()))
        .collect();
    for e in envs {
        let path = e.as_str().unwrap_or_default();
        let file = k.confined(e, k.dir.join(path))?;
        let text = std::fs::read_to_string(file)
            .map_err(|er| k.err_at(e, format!("cannot read `{path}`: {er}")))?;
        for line in text.lines() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line.split_once('=').unwrap_or((line, ""));
            data.insert(key.to_string(), (value.to_string(), e.span));
        }
    }
    let mut node = map_node(span);
    set(&mut node, "apiVersion", str_node("v1", span));
    set(&mut node, "kind", str_node(kind, span));
    let mut meta = map_node(span);
    set(&mut meta, "name", str_node(name, g.field("name").span));
    if let Some(ns) = g.field("namespace").as_str() {
        set(
            &mut meta,
            "namespace",
            str_node(ns, g.field("namespace").span),
        );
    }
    let own = g.field("options");
    for field in ["labels", "annotations"] {
        let mut m = string_map(opts.field(field));
        m.extend(string_map(own.field(field)));
        if !m.is_empty() {
            let mut n = map_node(span);
            for (key, v) in m {
                set(&mut n, &key, str_node(&v, span));
            }
            set(&mut meta, field, n);
        }
    }
    set(&mut node, "metadata", meta);
    let encode = |v: &str| {
        if kind == "Secret" {
            base64(v.as_bytes())
        } else {
            v.to_string()
        }
    };
    // kustomize writes `data: {}` on a Secret with no data, and nothing
    // on such a ConfigMap.
    if !data.is_empty() || (kind == "Secret" && binary.is_empty()) {
        let mut n = map_node(span);
        for (key, (v, s)) in &data {
            set(&mut n, key, str_node(&encode(v), *s));
        }
        set(&mut node, "data", n);
    }
    if !binary.is_empty() {
        let mut n = map_node(span);
        for (key, (v, s)) in &binary {
            set(&mut n, key, str_node(v, *s));
        }
        set(
            &mut node,
            if kind == "Secret" {
                "data"
            } else {
                "binaryData"
            },
            n,
        );
    }
    if kind == "Secret" {
        let t = g.field("type").as_str().unwrap_or("Opaque");
        set(&mut node, "type", str_node(t, g.field("type").span));
    }
    // kustomize's MergeGlobalOptionsIntoLocal: a global `true` wins over
    // a generator's own `false`.
    for key in ["immutable"] {
        if let Some(b) = [own.get(key), opts.get(key)]
            .into_iter()
            .flatten()
            .find(|b| b.as_bool() == Some(true))
        {
            set(&mut node, key, b.clone());
        }
    }
    let disable = own.field("disableNameSuffixHash").as_bool() == Some(true)
        || opts.field("disableNameSuffixHash").as_bool() == Some(true);
    let mut res = Res::new(node, k.file);
    res.needs_hash = !disable;
    res.behavior = Some(g.field("behavior").as_str().unwrap_or("create").to_string());
    Ok(res)
}

fn absorb_generated(
    k: &Kust<'_>,
    g: &Node,
    acc: &mut Vec<Res>,
    new: Res,
) -> Result<(), RenderError> {
    let behavior = new.behavior.clone().unwrap_or_default();
    let existing = acc.iter().position(|o| {
        o.obj.kind() == new.obj.kind()
            && o.orig_name() == new.obj.name()
            && (new.obj.namespace().is_empty() || o.obj.namespace() == new.obj.namespace())
    });
    match (behavior.as_str(), existing) {
        ("create", None) => acc.push(new),
        ("create", Some(_)) => {
            return Err(k.err_at(
                g,
                format!(
                    "{} `{}` already exists; use behavior merge or replace",
                    new.obj.kind(),
                    new.obj.name()
                ),
            ))
        }
        ("merge" | "replace", None) => {
            return Err(k.err_at(
                g,
                format!(
                    "behavior {behavior}: no {} `{}` to {behavior} with",
                    new.obj.kind(),
                    new.obj.name()
                ),
            ))
        }
        ("merge", Some(i)) => {
            let old = &mut acc[i];
            for field in ["data", "binaryData"] {
                if let Some(d) = new.obj.node.get(field) {
                    let target = get_or_insert(&mut old.obj.node, field, || map_node(d.span));
                    if let Some(t) = target {
                        for e in d.entries() {
                            set(t, &e.key, e.value.clone());
                        }
                    }
                }
            }
            for field in ["labels", "annotations"] {
                if let Some(d) = new.obj.node.field("metadata").get(field) {
                    let meta = get_or_insert(&mut old.obj.node, "metadata", || map_node(d.span));
                    if let Some(t) = meta.and_then(|m| get_or_insert(m, field, || map_node(d.span)))
                    {
                        for e in d.entries() {
                            set(t, &e.key, e.value.clone());
                        }
                    }
                }
            }
            old.obj
                .origins
                .push(Origin::new("/data", k.file, g.span.line));
            // kustomize's CopyMergeMetaDataFieldsFrom: the hash follows the
            // new generator's options.
            old.needs_hash = new.needs_hash;
        }
        ("replace", Some(i)) => {
            // kustomize's CopyMergeMetaDataFieldsFrom: the new object, with
            // the old one's name and namespace, and the old labels and
            // annotations under the new ones; the hash follows the new
            // generator's options.
            let old = &mut acc[i];
            let mut node = new.obj.node.clone();
            let old_meta = old.obj.node.field("metadata").clone();
            if let Some(m) = super::get_mut(&mut node, "metadata") {
                for key in ["name", "namespace"] {
                    if let Some(v) = old_meta.get(key) {
                        set(m, key, v.clone());
                    }
                }
                for field in ["labels", "annotations"] {
                    let Some(before) = old_meta.get(field).filter(|b| !b.entries().is_empty())
                    else {
                        continue;
                    };
                    let mut merged = before.clone();
                    for e in m.field(field).entries() {
                        set(&mut merged, &e.key, e.value.clone());
                    }
                    set(m, field, merged);
                }
            }
            old.obj.node = node;
            old.obj.origins.push(Origin::new("", k.file, g.span.line));
            old.needs_hash = new.needs_hash;
        }
        // kustomize reads an unknown behavior as unspecified: create.
        (_, None) => acc.push(new),
        (_, Some(_)) => {
            return Err(k.err_at(
                g,
                format!(
                    "{} `{}` already exists; use behavior merge or replace",
                    new.obj.kind(),
                    new.obj.name()
                ),
            ))
        }
    }
    Ok(())
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// Base64 in lines of 70 characters, each ending with a line break, as
/// kustomize writes `binaryData`.
fn wrap70(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 70 + 1);
    for line in s.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Appends the content hash to every generated name that takes one.
pub(super) fn add_hashes(res: &mut [Res]) {
    for r in res.iter_mut().filter(|r| r.needs_hash) {
        let hash = content_hash(&r.obj.node);
        let name = r.obj.name().to_string();
        let ns = r.obj.namespace().to_string();
        r.prev_names.push((name.clone(), ns));
        if let Some(meta) = super::get_mut(&mut r.obj.node, "metadata") {
            let span = meta.field("name").span;
            set(meta, "name", str_node(&format!("{name}-{hash}"), span));
        }
    }
}

/// Kustomize's hash of a ConfigMap or Secret (`api/hasher`): SHA-256 of a
/// small JSON document (kind, data, type; the name is always empty there),
/// its first ten hex digits with some letters swapped.
pub fn content_hash(node: &Node) -> String {
    use serde_json::{Map, Value as J};
    let kind = node.field("kind").as_str().unwrap_or("");
    let field = |k: &str| node.get(k).map_or(J::String(String::new()), Node::to_json);
    let mut m = Map::new();
    m.insert("kind".into(), J::String(kind.into()));
    // kustomize looks the name up as one field called `metadata/name`,
    // which never exists: the name in the hash is always empty.
    m.insert("name".into(), J::String(String::new()));
    m.insert("data".into(), field("data"));
    if kind == "Secret" {
        m.insert(
            "type".into(),
            node.get("type")
                .map_or(J::String(String::new()), Node::to_json),
        );
        if matches!(node.field("stringData").value, Value::Map(_)) {
            m.insert("stringData".into(), field("stringData"));
        }
    } else if matches!(node.field("binaryData").value, Value::Map(_)) {
        m.insert("binaryData".into(), field("binaryData"));
    }
    let text = go_json(&J::Object(m));
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// JSON as Go's `encoding/json` writes it: sorted keys, and `<`, `>`, `&`,
/// U+2028 and U+2029 escaped.
fn go_json(v: &serde_json::Value) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}
